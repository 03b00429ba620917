# Every target installs what it needs and is safe to run twice.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB := catalog.db
CATALOG := $(wildcard catalog/*.yml) riskcatalog/schema.json
CODE := $(wildcard riskcatalog/*.py) build.py
REV ?= HEAD
export CHROMIUM

.PHONY: serve build check test fmt diff bench clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when pyproject.toml changes; the stamp records what was installed.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The history (修订记录) comes from git: a new commit rebuilds too (HEAD's reflog grows with each).
GIT_LOG := $(wildcard $(shell git rev-parse --git-path logs/HEAD 2>/dev/null))

# Rebuilt only when the catalogue, the build code or the commits changed.
$(DB): $(CATALOG) $(CODE) $(GIT_LOG) $(VENV)/.installed
	$(BIN)/python build.py -o $(DB)

build: $(DB)

check: $(VENV)/.installed
	$(BIN)/python build.py --check

serve: $(DB)
	$(BIN)/python -m riskcatalog.site.serve $(DB)

browser:
	@bash scripts/ensure-chromium

test: $(VENV)/.installed-test browser
	$(BIN)/python -m pytest

fmt: $(VENV)/.installed
	$(BIN)/python build.py fmt

diff: $(VENV)/.installed
	$(BIN)/python build.py diff $(REV)

bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.bench

clean:
	rm -rf $(VENV) $(DB) *.egg-info .pytest_cache bench-out screenshots
