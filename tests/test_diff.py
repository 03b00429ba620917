"""`build.py diff REV`: catalogue changes against a real git revision in a temporary repository."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from riskcatalog.cli import main
from riskcatalog.yamlload import MAX_FILE_BYTES

from .limits import bounded, run_build


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


# --- issue 14, item 21: what diff prints cannot write Markdown or drive the terminal ------------------------

HOSTILE = "虚报\n\n## ✅ All checks passed\n\n@octocat merge it <!-- [x](javascript:y) *b* _i_ `c` |t| ~~s~~ #12"
#: HOSTILE as one line of literal Markdown text.
ESCAPED = (r"虚报 #&#8203;#&#8203; ✅ All checks passed @&#8203;octocat merge it &lt;!-- \[x\](javascript:y) \*b\* "
           r"\_i\_ \`c\` \|t\| \~\~s\~\~ #&#8203;12")


def test_a_title_cannot_write_markdown(repo, capsys):
    """A valid title holding line breaks, a heading, a mention and an unclosed HTML comment: shown as text
    on its entry's one line (it became a heading, pinged @octocat and hid the rest of the comment)."""
    _edit(repo, "alpha.yml", lambda d: _risk(d, "AL-01").update(title_zh=HOSTILE))
    assert main(["diff", "HEAD", "mini"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "## Catalogue changes since HEAD", "", "### Changed (1)",
        f"- AL-01 {ESCAPED}: title_zh 虚报冒领差旅费 → {ESCAPED}"]
    assert _json_diff(capsys)["changed"][0]["title"] == HOSTILE  # the JSON keeps the value as it is


def test_nothing_reaches_the_terminal_raw(repo, capsys):
    """An escape sequence in a title is refused where it is written; a file name holding one, or a
    right-to-left override, is shown escaped in the Markdown and in the JSON."""
    path = repo / "mini" / "alpha.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("title_en: False travel claims", 'title_en: "False\\e[2J claims"'), encoding="utf-8")
    assert main(["diff", "HEAD", "mini"]) == 1
    assert capsys.readouterr() == ("", "mini/alpha.yml:10:15: character U+001B is not allowed in text — "
                                       "remove its escape\n")
    path.write_text(text, encoding="utf-8")
    (repo / "mini" / "odd\x1b[2J\u202e.yml").write_text("area:\n  id: odd\n  name_zh: 奇\n", encoding="utf-8")
    assert main(["diff", "HEAD", "mini"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == r"- odd 奇: area in mini/odd\\x1b\[2J\\u202e.yml"  # Markdown for odd\x1b[2J\u202e
    assert main(["diff", "HEAD", "--json", "mini"]) == 0
    out = capsys.readouterr().out
    assert '"file": "mini/odd\\u001b[2J\\u202e.yml"' in out
    assert not re.search("[\x1b\u202e]", out)


# --- item 22: errors name their file and side; bounded; only register folders ---------------------------------

def test_a_file_that_is_not_utf8_is_named(repo, capsys):
    """A non-UTF-8 file gave `'utf-8' codec can't decode byte 0xb2 in position 3` with no file name."""
    path = repo / "mini" / "alpha.yml"
    path.write_bytes(path.read_bytes().replace("差旅费".encode(), "差旅费".encode("gbk"), 1))
    assert main(["diff", "HEAD", "mini"]) == 1
    assert capsys.readouterr().err == "mini/alpha.yml:9:19: not valid UTF-8 (byte 0xb2) — save the file as UTF-8\n"


@pytest.mark.parametrize("broken, message", [
    (lambda raw: raw.replace(b"likelihood: 4", b"likelihood: [4", 1),
     "HEAD:mini/alpha.yml:22:11: YAML syntax error: did not find expected ',' or ']' — fix the syntax at this point"),
    (lambda raw: raw.replace("差旅费".encode(), "差旅费".encode("gbk"), 1),
     "HEAD:mini/alpha.yml:9:19: not valid UTF-8 (byte 0xb2) — save the file as UTF-8"),
], ids=["syntax", "not-utf8"])
def test_an_error_in_the_old_revision_says_it_is_that_revision(broken, message, repo, capsys):
    """An error in REV's version was reported as mini/alpha.yml:22:11, as if in the working tree; it is
    named as git names that version, HEAD:mini/alpha.yml."""
    path = repo / "mini" / "alpha.yml"
    good = path.read_bytes()
    path.write_bytes(broken(good))
    _git(repo, "commit", "-q", "-am", "broken")
    path.write_bytes(good)
    assert main(["diff", "HEAD", "mini"]) == 1
    assert capsys.readouterr().err.splitlines() == [message]


def test_a_stray_file_over_the_size_limit_is_not_read(repo, capsys):
    """A 47 MB stray file took 22 s and 2.2 GB: on either side it is refused by its size, unread."""
    stray = repo / "mini" / "stray.yml"
    with stray.open("w", encoding="utf-8") as out:
        for n in range(47 * 1024):
            out.write(f"k{n}: {'x' * 1016}\n")
    _git(repo, "add", "mini/stray.yml")
    _git(repo, "commit", "-q", "-m", "stray")
    with bounded():
        assert main(["diff", "HEAD", "mini"]) == 1
    limit = f"over the {MAX_FILE_BYTES >> 20} MB limit — split it or remove the bulk"
    assert capsys.readouterr().err.splitlines() == [f"HEAD:mini/stray.yml:1:1: file is 47.0 MB, {limit}",
                                                    f"mini/stray.yml:1:1: file is 47.0 MB, {limit}"]


def test_a_folder_without_a_register_is_refused(repo, capsys):
    """`diff HEAD .` read metadata.yml as a catalogue file: a folder with no register.yml, now or at REV,
    is not a catalogue."""
    (repo / "metadata.yml").write_text("title: 廉政风险点\n", encoding="utf-8")
    _git(repo, "add", "metadata.yml")
    _git(repo, "commit", "-q", "-m", "metadata")
    assert main(["diff", "HEAD", "."]) == 1
    assert capsys.readouterr().err == ("error: . is not a register folder: it has no register.yml, now or at 'HEAD' — "
                                       "give the catalogue's folder (e.g. catalog)\n")


def test_a_register_folder_new_since_rev_is_compared(repo, capsys):
    """A register folder that did not exist at REV is a catalogue all the same: everything in it is added."""
    (repo / "new").mkdir()
    for path in (repo / "mini").iterdir():
        (repo / "new" / path.name).write_bytes(path.read_bytes())
    assert main(["diff", "HEAD", "--json", "new"]) == 0
    assert len(json.loads(capsys.readouterr().out)["added"]) == 1 + 1 + 2 + 3 + 2  # register, area, risks, measures, sources


# --- items 7 and 19: impossible dates, and what is not a file ---------------------------------------------------

def test_an_unquoted_impossible_date_is_located(repo, capsys):
    """`reviewed: 2018-13-06` gave `ValueError: month must be in 1..12` as a traceback."""
    path = repo / "mini" / "alpha.yml"
    path.write_text(path.read_text(encoding="utf-8").replace('reviewed: "2019-01-15"', "reviewed: 2018-13-06"),
                    encoding="utf-8")
    assert main(["diff", "HEAD", "mini"]) == 1
    assert capsys.readouterr().err == ("mini/alpha.yml:32:15: '2018-13-06' is not a real date — give a date that "
                                       "exists, quoted like \"2019-01-15\"\n")


@pytest.mark.parametrize("make, message", [
    (lambda path: path.symlink_to("/dev/zero"), "is a character device, not a file — put the YAML file here instead"),
    (os.mkfifo, "is a FIFO (named pipe), not a file — put the YAML file here instead"),
], ids=["link-to-dev-zero", "fifo"])
def test_diff_answers_at_once_for_what_is_not_a_file(make, message, repo):
    """`z.yml -> /dev/zero` made diff read without end, a FIFO made it wait for ever (in a process of its
    own, so a regression fails rather than hangs)."""
    make(repo / "mini" / "z.yml")
    done = run_build(["diff", "HEAD", "mini"], repo)
    assert (done.returncode, done.stderr) == (1, f"mini/z.yml:1:1: {message}\n")
