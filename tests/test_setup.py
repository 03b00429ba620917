"""Meta-tests: the README's commands, the Makefile, CI and the error annotations stay true."""

from __future__ import annotations

import re
import subprocess
import tomllib

import pytest

from riskcatalog.cli import main
from riskcatalog.errors import CatalogError
from riskcatalog.site.serve import command

from .conftest import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands():
    """The first code block of the README is `make serve` then `make test`."""
    block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
    assert [line.split("#")[0].strip() for line in block.splitlines()] == ["make serve", "make test"]


@pytest.mark.parametrize("target", sorted(set(re.findall(r"`make (\w+)", README))
                                          | {"serve", "build", "check", "test", "fmt", "diff", "bench", "clean"}))
def test_every_make_target_in_the_readme_exists(target):
    """Each `make X` the README names is a Makefile target that make can plan."""
    assert re.search(rf"^{target}:", MAKEFILE, re.M), target
    result = subprocess.run(["make", "-n", target], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_readme_shows_the_exact_serve_command():
    """The datasette command in the README is the one `make serve` runs."""
    assert " ".join(command()) in README


def test_ci_runs_the_readme_test_command():
    """.ci/run calls `make test`; the workflow checks, tests and smoke-tests the site."""
    assert "make test" in (PROJECT_ROOT / ".ci/run").read_text()
    workflow = (PROJECT_ROOT / ".github/workflows/ci.yml").read_text()
    assert "make check" in workflow and "make test" in workflow and "--get /" in workflow


def test_datasette_is_pinned_to_0_65():
    """The site is written for Datasette 0.65 (riskcatalog.site.datasette_adapter: what 1.0 would change)."""
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    assert "datasette>=0.65.5,<0.66" in project["dependencies"]


def test_error_annotation_format():
    """An error becomes a GitHub workflow command that marks the file and line."""
    error = CatalogError("catalog/land.yml", 41, 7, "risks[3].measures[1]", "unknown measure 'X' — 100% sure")
    assert error.annotation() == ("::error file=catalog/land.yml,line=41,col=7::"
                                  "risks[3].measures[1]: unknown measure 'X' — 100%25 sure")


def test_check_prints_annotations_in_github_actions(mini_catalog, monkeypatch, capsys):
    """With GITHUB_ACTIONS=true, --check prints each error as an annotation as well as plain text."""
    path = mini_catalog / "alpha.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("measures: [AL-M03]", "measures: [AL-M09]"),
                    encoding="utf-8")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert main(["--check", str(mini_catalog)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"::error file={path},line=56,col=16::risks[1].measures[0]: unknown measure 'AL-M09' — define it or fix the id",
        f"::error file={path},line=86,col=9::measures[2].id: measure 'AL-M03' is not linked from any active risk — "
        "add it to a risk's measures or withdraw it"]
    assert err.splitlines()[0] == f"{path}:56:16: risks[1].measures[0]: unknown measure 'AL-M09' — define it or fix the id"
