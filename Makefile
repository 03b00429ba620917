# Every target installs what it needs and is safe to run twice.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB := catalog.db
CATALOG := $(wildcard catalog/*.yml) riskcatalog/schema.json
CODE := $(wildcard riskcatalog/*.py) build.py
REV ?= HEAD
export CHROMIUM
# The environment make test-datasette-1 measures Datasette 1.0 in (docs/architecture.md).
VENV1 := .venv-datasette-1

.PHONY: serve serve-register build check test test-datasette-1 fmt diff bench clean browser

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

# Any register: make serve-register REGISTER=registers/gutian (a folder, built first) or REGISTER=district.db;
# HOST=0.0.0.0 serves it to the office network, PORT=8080 on another port (default 127.0.0.1:8001).
# Only as given on the command line: shells and platforms export HOST and PORT of their own.
serve-register: $(VENV)/.installed
	@test -n "$(REGISTER)" || { echo "name the register: make serve-register REGISTER=registers/gutian (a folder) or REGISTER=district.db"; exit 2; }
	$(BIN)/python -m riskcatalog.site.serve $(REGISTER) $(call given,HOST,--host) $(call given,PORT,--port)

# $(call given,NAME,--option): "--option VALUE" when NAME=VALUE was given on make's command line.
given = $(if $(filter command line,$(origin $(1))),$(2) $($(1)))

browser:
	@bash scripts/ensure-chromium

test: $(VENV)/.installed-test browser
	$(BIN)/python -m pytest

# The tests against the newest Datasette 1.0 alpha, in a separate environment: a measurement for the
# move to 1.0, not part of CI. pip reports that riskcatalog asks for 0.65: that is the point.
# The summary goes to datasette-1.log; docs/architecture.md records what breaks and why.
test-datasette-1: browser
	test -x $(VENV1)/bin/python || $(PYTHON) -m venv $(VENV1)
	$(VENV1)/bin/python -m pip install --quiet --upgrade pip
	$(VENV1)/bin/python -m pip install --quiet -e '.[test]'
	$(VENV1)/bin/python -m pip install --quiet --upgrade --pre 'datasette>=1.0a0' || true
	$(VENV1)/bin/python -c "import datasette; print('Datasette', datasette.__version__)" | tee datasette-1.log
	-COLUMNS=250 $(VENV1)/bin/python -m pytest -p no:cacheprovider -q -rfE --tb=line 2>&1 | tee -a datasette-1.log

fmt: $(VENV)/.installed
	$(BIN)/python build.py fmt

diff: $(VENV)/.installed
	$(BIN)/python build.py diff $(REV)

bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.bench

clean:
	rm -rf $(VENV) $(VENV1) $(DB) *.egg-info .pytest_cache bench-out screenshots datasette-1.log
