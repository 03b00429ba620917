"""The command line: every command listed, the old invocations kept, one parser for all."""

from __future__ import annotations

import subprocess
import sys

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
