"""`build.py diff REV`: catalogue changes against a real git revision in a temporary repository."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from riskcatalog.cli import main


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", *args],
                   cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(mini_catalog, monkeypatch) -> Path:
    """The mini register committed in a fresh git repository; the working directory is its root."""
    root = mini_catalog.parent
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "mini register")
    monkeypatch.chdir(root)
    return root


def _edit(repo: Path, name: str, change: Callable[[dict], None]) -> None:
    path = repo / "mini" / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _json_diff(capsys) -> dict:
    assert main(["diff", "HEAD", "--json", "mini"]) == 0
    return json.loads(capsys.readouterr().out)


def _risk(data: dict, risk_id: str) -> dict:
    return next(r for r in data["risks"] if r["id"] == risk_id)


def test_no_changes(repo, capsys):
    """An untouched working tree reports no changes, in text and as empty JSON sections."""
    assert main(["diff", "HEAD", "mini"]) == 0
    assert capsys.readouterr().out == "No catalogue changes.\n"
    assert _json_diff(capsys) == {"added": [], "removed": [], "withdrawn": [], "changed": []}


def test_added_entry(repo, capsys):
    """A new risk is listed as added with its kind, file and title."""
    _edit(repo, "alpha.yml", lambda d: d["risks"].append({**copy.deepcopy(_risk(d, "AL-01")), "id": "AL-03", "title_zh": "新风险"}))
    assert _json_diff(capsys)["added"] == [
        {"id": "AL-03", "kind": "risk", "file": "mini/alpha.yml", "title": "新风险"}]


def test_removed_entry(repo, capsys):
    """A deleted source is listed as removed."""
    _edit(repo, "sources.yml", lambda d: d["sources"].pop())
    assert _json_diff(capsys)["removed"] == [
        {"id": "law", "kind": "source", "file": "mini/sources.yml", "title": "中华人民共和国监察法"}]


def test_withdrawn_entry(repo, capsys):
    """status: withdrawn puts the entry under withdrawn, with replaced_by, not under changed."""
    _edit(repo, "alpha.yml", lambda d: _risk(d, "AL-02").update(status="withdrawn", replaced_by="AL-01"))
    changes = _json_diff(capsys)
    assert changes["withdrawn"] == [{"id": "AL-02", "kind": "risk", "file": "mini/alpha.yml",
                                     "title": "信访件转交被反映人", "replaced_by": "AL-01", "fields": {}}]
    assert changes["changed"] == []


def test_changed_fields(repo, capsys):
    """A changed entry lists each changed field as [old, new], lists whole."""
    def change(data: dict) -> None:
        _risk(data, "AL-02").update(likelihood=4, level="medium", measures=["AL-M03", "AL-M01"])
        data["area"]["name_en"] = "Claims"
    _edit(repo, "alpha.yml", change)
    assert _json_diff(capsys)["changed"] == [
        {"id": "alpha", "kind": "area", "file": "mini/alpha.yml", "title": "经费报销",
         "fields": {"name_en": ["Expense reimbursement", "Claims"]}},
        {"id": "AL-02", "kind": "risk", "file": "mini/alpha.yml", "title": "信访件转交被反映人",
         "fields": {"likelihood": [2, 4], "level": ["low", "medium"], "measures": [["AL-M03"], ["AL-M03", "AL-M01"]]}},
    ]


def test_text_output_is_markdown(repo, capsys):
    """The text report has a heading per section and one line per entry, old → new."""
    def change(data: dict) -> None:
        _risk(data, "AL-01").update(level="medium", sources=["law", "report"])
        _risk(data, "AL-02").update(status="withdrawn")
        data["measures"].pop()
    _edit(repo, "alpha.yml", change)
    assert main(["diff", "HEAD", "mini"]) == 0
    assert capsys.readouterr().out == (
        "## Catalogue changes since HEAD\n"
        "\n### Removed (1)\n"
        "- AL-M03 举报人信息隐名处理: measure in mini/alpha.yml\n"
        "\n### Withdrawn (1)\n"
        "- AL-02 信访件转交被反映人: no replacement\n"
        "\n### Changed (1)\n"
        "- AL-01 虚报冒领差旅费: level high → medium; sources [law] → [law, report]\n")


def test_bad_revision(repo, capsys):
    """An unknown revision is a one-line error and exit 1."""
    assert main(["diff", "no-such-branch", "mini"]) == 1
    assert capsys.readouterr().err.startswith("error: unknown git revision 'no-such-branch'")
