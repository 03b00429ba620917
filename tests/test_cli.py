"""The command line: every command listed, the old invocations kept, one parser for all."""

from __future__ import annotations

import subprocess
import sys

import pytest

from riskcatalog.cli import main

from .conftest import PROJECT_ROOT


def test_help_lists_every_command(capsys):
    """`build.py --help` names each command, and the build is the default."""
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    commands = out.split("Commands:")[1].split()
    assert {"build*", "check", "fmt", "diff"} <= set(commands)


def test_build_and_check_run_as_before_from_the_shell(tmp_path):
    """`python build.py --check` and `python build.py FOLDER -o DB` work as the README, CI and Makefile call them."""
    check = subprocess.run([sys.executable, "build.py", "--check"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout == "8 areas, 51 risks, 78 measures: OK\n"
    output = tmp_path / "out.db"
    built = subprocess.run([sys.executable, "build.py", "catalog", "-o", str(output)], cwd=PROJECT_ROOT,
                           capture_output=True, text=True)
    assert built.returncode == 0 and built.stdout == f"8 areas, 51 risks, 78 measures: built {output}\n"
    assert output.stat().st_size > 0


def test_check_command_equals_check_flag(mini_catalog, capsys):
    """`check FOLDER` and `--check FOLDER` print the same verdict."""
    assert main(["check", str(mini_catalog)]) == 0
    assert main(["--check", str(mini_catalog)]) == 0
    first, second = capsys.readouterr().out.splitlines()
    assert first == second == "1 areas, 2 risks, 3 measures: OK"


def test_a_folder_named_like_a_command_builds_through_build(mini_catalog, tmp_path, monkeypatch, capsys):
    """A register folder called `fmt` is built with `build fmt`, not mistaken for the command."""
    monkeypatch.chdir(tmp_path)
    mini_catalog.rename(tmp_path / "fmt")
    assert main(["build", "fmt", "-o", "x.db"]) == 0
    assert capsys.readouterr().out == "1 areas, 2 risks, 3 measures: built x.db\n"


def test_unknown_option_is_a_usage_error(capsys):
    """An option no command has exits 2 with click's usage message."""
    assert main(["--no-such-option"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == "Error: No such option '--no-such-option'."


@pytest.mark.parametrize("name, escaped", [
    ("x\n::warning file=README.md,line=1::INJECTED.yml", "x%0A%3A%3Awarning file=README.md%2Cline=1%3A%3AINJECTED.yml"),
    ("y,line=999,title=spoof.yml", "y%2Cline=999%2Ctitle=spoof.yml"),
    ("z%0A::warning::x.yml", "z%250A%3A%3Awarning%3A%3Ax.yml"),
], ids=["line-break", "extra-properties", "percent"])
def test_file_names_cannot_forge_github_annotations(name, escaped, mini_catalog, monkeypatch, capsys):
    """Issue 14, item 16: a file's name is a workflow-command property, escaped as GitHub's toolkit escapes
    properties (% CR LF : ,), so it can neither start a command of its own nor add properties; the line
    for people shows the name escaped too (GitHub reads workflow commands from both outputs)."""
    monkeypatch.chdir(mini_catalog.parent)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    (mini_catalog / name).write_text("area:\n  id: x\n", encoding="utf-8")
    assert main(["--check", "mini"]) == 1
    out, err = capsys.readouterr()
    stem = name[:-len(".yml")]
    message = f"area file not listed in register.yml — add {stem!r} to areas or remove the file"
    assert out.splitlines() == [f"::error file=mini/{escaped},line=1,col=1::{message.replace('%', '%25')}"]
    shown = name.replace("\n", "\\n")
    assert err.splitlines() == [f"mini/{shown}:1:1: {message}", "1 error(s)"]


def test_the_same_folder_twice_is_named_as_such(mini_catalog, monkeypatch, capsys):
    """Issue 14, item 23: the same folder given twice said the unit "is also the unit of" itself."""
    monkeypatch.chdir(mini_catalog.parent)
    for argv in (["--check", "mini", "./mini/"], ["mini", "mini", "-o", "x.db"]):
        assert main(argv) == 1
        assert capsys.readouterr().err.splitlines()[0] == (
            "mini/register.yml:2:7: unit.id: the folder mini is given twice — give each register folder once")
