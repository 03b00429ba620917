"""Malformed catalogues: each one is refused with one exact, located error and the database untouched.

Every case starts from the valid mini register (conftest.mini_catalog), builds it once to get
a real previous database, breaks one thing, and runs the real command line against it. The
working directory is the temporary folder, so errors name files as a contributor sees them
(mini/alpha.yml) and the output is out/catalog.db.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

import pytest

import riskcatalog.build
import riskcatalog.schedule
import riskcatalog.db
from riskcatalog.cli import main
from riskcatalog.errors import CatalogInvalid
from riskcatalog.yamlload import MAX_DEPTH, MAX_FILE_BYTES

from .limits import bounded


def edit(folder: Path, name: str, old: str, new: str) -> None:
    """Replace the one occurrence of old in folder/name."""
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def run(argv: list[str], capsys) -> tuple[int, list[str]]:
    with bounded():
        code = main(argv)
    return code, capsys.readouterr().err.splitlines()


def assert_refused(folder: Path, db: Path, capsys, first: str) -> list[str]:
    """Build and check both fail with `first` as the first line; the database is untouched."""
    before, inode = db.read_bytes(), db.stat().st_ino
    code, lines = run([str(folder), "-o", str(db)], capsys)
    assert code == 1
    assert lines[0] == first
    count = len(lines) - 1
    assert lines[-1] == f"{count} error(s); {db} is unchanged"
    assert db.read_bytes() == before and db.stat().st_ino == inode
    assert sorted(p.name for p in db.parent.iterdir()) == [db.name], "temporary files left behind"
    code, check_lines = run([str(folder), "--check"], capsys)
    assert code == 1
    assert check_lines == lines[:-1] + [f"{count} error(s)"]
    return lines[:-1]


# --- the cases: (name, how to break the mini register, the exact first error line) ---------------

def _replace(name, old, new):
    return lambda folder: edit(folder, name, old, new)


def _write(name, text: str):
    return lambda folder: (folder / name).write_text(text, encoding="utf-8")


def _write_bytes(name, transform):
    def apply(folder):
        path = folder / name
        path.write_bytes(transform(path.read_bytes()))
    return apply


def _second_area_reusing_ids(folder: Path) -> None:
    """beta.yml: a copy of alpha.yml under another area id, so every id of it is taken already."""
    text = (folder / "alpha.yml").read_text(encoding="utf-8")
    (folder / "beta.yml").write_text(text.replace("id: alpha", "id: beta"), encoding="utf-8")
    edit(folder, "register.yml", "  - alpha\n", "  - alpha\n  - beta\n")
    edit(folder, "register.yml", "risks: 2\n  measures: 3", "risks: 4\n  measures: 6")


def _billion_laughs(folder: Path) -> None:
    lines = ['lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"lol{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
    (folder / "alpha.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _forty_megabytes(folder: Path) -> None:
    """alpha.yml grown to 40 MB of plausible measures, written in chunks."""
    path = folder / "alpha.yml"
    text = path.read_text(encoding="utf-8")
    block = text[text.index("  - id: AL-M01"):text.index("  - id: AL-M02")]
    with path.open("a", encoding="utf-8") as out:
        for n in range(100, 10**9):
            if out.tell() > 40 * 1024 * 1024:
                break
            out.write(block.replace("AL-M01", f"AL-M{n}"))
    assert path.stat().st_size > MAX_FILE_BYTES


def _quote_it(where: str, text: str, kind: str) -> str:
    """The error for an unquoted YAML 1.1 value: what it is read as, and the quoted form to write."""
    return f'mini/alpha.yml:{where}: expected text, but {text!r} is read as {kind} — quote it: "{text}"'


NO_AS_TITLE = _quote_it("10:15: risks[0].title_en", "NO", "a yes/no value")

CASES = [
    ("yaml-syntax", _replace("alpha.yml", "likelihood: 4", "likelihood: [4"),
     "mini/alpha.yml:22:11: YAML syntax error: did not find expected ',' or ']' — fix the syntax at this point"),
    ("duplicate-key", _replace("alpha.yml", "    power_en: Travel claims\n",
                               "    power_en: Travel claims\n    power_en: Travel expenses\n"),
     "mini/alpha.yml:17:5: duplicate key 'power_en' (first at line 16) — keep one"),
    ("duplicate-id-in-file", _replace("alpha.yml", "id: AL-02", "id: AL-01"),
     "mini/alpha.yml:33:9: risks[1].id: duplicate id 'AL-01' (first defined at mini/alpha.yml:8) — "
     "ids are never reused; give this entry a new id"),
    ("duplicate-id-across-files", _second_area_reusing_ids,
     "mini/beta.yml:8:9: risks[0].id: duplicate id 'AL-01' (first defined at mini/alpha.yml:8) — "
     "ids are never reused; give this entry a new id"),
    ("dangling-measure", _replace("alpha.yml", "measures: [AL-M03]", "measures: [AL-M03, AL-M09]"),
     "mini/alpha.yml:56:24: risks[1].measures[1]: unknown measure 'AL-M09' — define it or fix the id"),
    ("dangling-source", _replace("alpha.yml", "sources: [law]\n    measures: [AL-M01",
                                 "sources: [lawx]\n    measures: [AL-M01"),
     "mini/alpha.yml:30:15: risks[0].sources[0]: unknown source 'lawx' — add it to sources.yml or fix the id"),
    ("dangling-provenance-source", _replace("register.yml", "source: report", "source: reportx"),
     "mini/register.yml:10:11: provenance.source: unknown source 'reportx' — add it to sources.yml"),
    ("orphan-measure", _replace("alpha.yml", "measures: [AL-M01, AL-M02]", "measures: [AL-M01]"),
     "mini/alpha.yml:73:9: measures[1].id: measure 'AL-M02' is not linked from any active risk — "
     "add it to a risk's measures or withdraw it"),
    ("withdrawn-measure-linked", _replace("alpha.yml", "    evidence_en: Forwarding log\n",
                                          "    evidence_en: Forwarding log\n    status: withdrawn\n"),
     "mini/alpha.yml:56:16: risks[1].measures[0]: measure 'AL-M03' is withdrawn — link an active measure instead"),
    ("list-for-text", _replace("alpha.yml", "title_en: False travel claims", "title_en: [False travel claims]"),
     "mini/alpha.yml:10:15: risks[0].title_en: expected text, but got list — write text here"),
    *[(f"yaml11-{text}", _replace("alpha.yml", "title_en: False travel claims", f"title_en: {text}"),
       _quote_it("10:15: risks[0].title_en", text, kind))
      for text, kind in (("NO", "a yes/no value"), ("yes", "a yes/no value"), ("012", "a number"),
                         ("12:30", "a number"))],
    ("unquoted-date", _replace("alpha.yml", 'reviewed: "2019-01-15"', "reviewed: 2019-01-15"),
     _quote_it("32:15: risks[0].reviewed", "2019-01-15", "a date")),
    ("id-not-of-the-form", _replace("alpha.yml", "id: AL-02", "id: al-02"),
     "mini/alpha.yml:33:9: risks[1].id: 'al-02' is not of the form PREFIX-NN (e.g. LAND-01) — rewrite it in that form"),
    ("not-a-real-date", _replace("alpha.yml", 'reviewed: "2019-01-15"', 'reviewed: "2019-02-30"'),
     "mini/alpha.yml:32:15: risks[0].reviewed: '2019-02-30' is not a real date — give a date that exists"),
    ("quoted-number", _replace("alpha.yml", "likelihood: 4", 'likelihood: "4"'),
     "mini/alpha.yml:21:17: risks[0].likelihood: expected a whole number, but got str — write a whole number"),
    # Every text has a maximum length (riskcatalog.fields), so whatever builds can be served and printed.
    ("description-380000", _replace("alpha.yml", "经办人虚报差旅天数。", "虚" * 380_000),
     "mini/alpha.yml:11:21: risks[0].description_zh: text of 380,000 characters is too long: at most 10,000 — "
     "shorten it, or move the detail to another field"),
    ("title-over-500", _replace("alpha.yml", "title_en: False travel claims", "title_en: " + "x" * 501),
     "mini/alpha.yml:10:15: risks[0].title_en: text of 501 characters is too long: at most 500 — "
     "shorten it, or move the detail to another field"),
    ("too-many-measures", _replace("alpha.yml", "measures: [AL-M03]",
                                   "measures: [" + ", ".join(f"AL-M{n:03}" for n in range(101)) + "]"),
     "mini/alpha.yml:56:15: risks[1].measures: 101 items are too many: at most 100 — split the entry or remove some"),
    ("empty-list", _replace("alpha.yml", "measures: [AL-M03]", "measures: []"),
     "mini/alpha.yml:56:15: risks[1].measures: needs at least 1 item(s) — add them"),
    ("text-for-list", _replace("alpha.yml", "measures: [AL-M03]", "measures: AL-M03"),
     "mini/alpha.yml:56:15: risks[1].measures: expected a list, got str — write one `- item` line per item"),
    ("number-as-key", _replace("alpha.yml", "    power_en: Travel claims\n", "    power_en: Travel claims\n    12: x\n"),
     "mini/alpha.yml:17:5: key '12' must be plain text — quote it"),
    ("list-as-key", _replace("alpha.yml", "    power_en: Travel claims\n", "    power_en: Travel claims\n    [a, b]: x\n"),
     "mini/alpha.yml:17:5: a key must be a field name, not a list or mapping — write the name"),
    ("missing-field", _replace("alpha.yml", "    post_en: Claimant\n", ""),
     "mini/alpha.yml:8:5: risks[0]: missing field 'post_en' — add it"),
    ("level-vs-matrix", _replace("alpha.yml", "level: high", "level: medium"),
     "mini/alpha.yml:23:12: risks[0].level: level 'medium' does not agree with likelihood 4 × impact 4 = 16, "
     "which is 'high' — set level: high or change the ratings"),
    ("totals-wrong", _replace("register.yml", "risks: 2", "risks: 3"),
     "mini/register.yml:14:10: totals.risks: declares 3 risks but the area files define 2 active ones — "
     "update totals or the areas"),
    ("duplicate-level", _replace("register.yml", "  - id: medium", "  - id: high"),
     "mini/register.yml:22:9: levels[1].id: level 'high' is listed twice (first at line 19) — keep one"),
    ("empty-file", _write("alpha.yml", ""),
     "mini/alpha.yml:1:1: file is empty — it must hold a mapping (see docs/catalog-format.md)"),
    ("list-for-file", _write("alpha.yml", "- area\n- risks\n"),
     "mini/alpha.yml:1:1: expected a mapping of fields, got list — write `field: value` lines"),
    ("two-documents", _write("alpha.yml", "area: {}\n---\nrisks: []\n"),
     "mini/alpha.yml:2:1: YAML syntax error: but found another document — fix the syntax at this point"),
    ("missing-area-file", lambda folder: (folder / "alpha.yml").unlink(),
     "mini/register.yml:17:5: areas[0]: area file mini/alpha.yml is missing — "
     "create it or remove 'alpha' from areas"),
    ("unlisted-file", _write("alpha-old.yml", "area:\n  id: alpha-old\n"),
     "mini/alpha-old.yml:1:1: area file not listed in register.yml — add 'alpha-old' to areas or remove the file"),
    ("not-utf8", _write_bytes("alpha.yml", lambda raw: raw.replace("差旅费".encode(), "差旅费".encode("gbk"), 1)),
     "mini/alpha.yml:9:19: not valid UTF-8 (byte 0xb2) — save the file as UTF-8"),
    ("byte-order-mark", _write_bytes("alpha.yml", lambda raw: b"\xef\xbb\xbf" + raw),
     "mini/alpha.yml:1:1: file starts with a byte-order mark — save it as UTF-8 without BOM"),
    ("control-character", _replace("alpha.yml", "经办人虚报差旅天数。", "经办人虚报\x07差旅天数。"),
     "mini/alpha.yml:11:26: character U+0007 is not allowed in YAML — remove it"),
    ("tab-indent", _replace("alpha.yml", "    title_en: False travel claims", "\ttitle_en: False travel claims"),
     "mini/alpha.yml:10:1: tab in indentation — YAML indents with spaces only"),
    ("tab-after-spaces", _replace("alpha.yml", "    title_en: False travel claims", "  \ttitle_en: False travel claims"),
     "mini/alpha.yml:10:3: tab in indentation — YAML indents with spaces only"),
    ("python-tag", _replace("alpha.yml", "title_en: False travel claims",
                            'title_en: !!python/object/apply:os.system ["echo hi"]'),
     "mini/alpha.yml:10:15: tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed — remove it"),
    ("merge-key", _replace("alpha.yml", "    power_en: Travel claims\n",
                           "    power_en: Travel claims\n    <<: {impact: 1}\n"),
     "mini/alpha.yml:17:5: merge keys (<<) are not allowed — write the fields out"),
    # The error points at the anchor: removing it (and so every alias) is the fix.
    ("billion-laughs", _billion_laughs,
     "mini/alpha.yml:1:7: anchors and aliases (&, *) are not allowed — write the value out"),
    ("deep-nesting", _write("alpha.yml", "area: " + "[" * 900 + "]" * 900 + "\n"),
     f"mini/alpha.yml:1:{7 + MAX_DEPTH}: nested more than {MAX_DEPTH} levels deep — "
     "the catalogue format never nests this deep"),
    ("forty-megabytes", _forty_megabytes,
     f"mini/alpha.yml:1:1: file is 40.0 MB, over the {MAX_FILE_BYTES >> 20} MB limit — split it or remove the bulk"),
    ("cites-a-later-year", _replace("sources.yml", "    year: 2018\n", "    year: 2020\n"),
     "mini/alpha.yml:30:15: risks[0].sources[0]: cites 'law' (2020), issued after this risk was reviewed "
     "(2019-01-15) — cite the rule in force then, or review the entry again"),
    ("cites-a-later-date", _replace("sources.yml", "    year: 2018\n", '    year: 2019\n    date: "2019-01-12"\n'),
     "mini/alpha.yml:55:15: risks[1].sources[0]: cites 'law' (2019-01-12), issued after this risk was reviewed "
     "(2019-01-10) — cite the rule in force then, or review the entry again"),
    ("replaced-by-on-active", _replace("alpha.yml", "measures: [AL-M03]", "measures: [AL-M03]\n    replaced_by: AL-01"),
     "mini/alpha.yml:57:18: risks[1].replaced_by: replaced_by is only for withdrawn entries — "
     "add status: withdrawn or remove replaced_by"),
    # Issue 14, item 7: dates. A date past 2100 (its next review would overflow) and an unquoted date
    # that does not exist (PyYAML raised on it) are located errors.
    ("date-after-2100", _replace("alpha.yml", 'reviewed: "2019-01-15"', 'reviewed: "9999-12-01"'),
     """mini/alpha.yml:32:15: risks[0].reviewed: '9999-12-01' is not of the form YYYY-MM-DD from 1900 to 2100 """
     """(e.g. "2019-01-15") — rewrite it in that form"""),
    ("unquoted-unreal-date", _replace("alpha.yml", 'reviewed: "2019-01-15"', "reviewed: 2018-13-06"),
     "mini/alpha.yml:32:15: '2018-13-06' is not a real date — give a date that exists, quoted like \"2019-01-15\""),
    # Item 10: an id matches its pattern in full, a final line break included.
    ("id-with-final-line-break", _replace("alpha.yml", "id: AL-02", 'id: "AL-02\\n"'),
     "mini/alpha.yml:33:9: risks[1].id: 'AL-02\\n' is not of the form PREFIX-NN (e.g. LAND-01) — rewrite it in that form"),
    ("unit-id-with-final-line-break", _replace("register.yml", "id: mini", 'id: "mini\\n"'),
     "mini/register.yml:2:7: unit.id: 'mini\\n' is not of the form lower-case letters, digits and hyphens "
     "(e.g. land) — rewrite it in that form"),
    # Item 11: control characters are refused however written: raw, or as an escape.
    *[(f"escaped-{name}", _replace("alpha.yml", "title_en: False travel claims", f'title_en: "False{escape} claims"'),
       f"mini/alpha.yml:10:15: character U+{code:04X} is not allowed in text — remove its escape")
      for name, escape, code in (("nul", "\\0", 0), ("escape", "\\e[31m", 0x1B), ("carriage-return", "\\r", 0x0D),
                                 ("next-line", "\\N", 0x85), ("line-separator", "\\L", 0x2028),
                                 ("right-to-left-override", "\\u202e", 0x202E), ("c1-csi", "\\x9b", 0x9B))],
    ("escaped-control-in-key", _replace("alpha.yml", "    power_en: Travel claims\n",
                                        '    power_en: Travel claims\n    "note\\e": x\n'),
     "mini/alpha.yml:17:5: character U+001B is not allowed in text — remove its escape"),
    ("raw-right-to-left-override", _replace("alpha.yml", "title_en: False travel claims", "title_en: False \u202etravel"),
     "mini/alpha.yml:10:21: character U+202E is not allowed in YAML — remove it"),
    # Item 12: numbers in the forms YAML 1.1 reads but no reader expects.
    ("hexadecimal-number", _replace("alpha.yml", "likelihood: 4", "likelihood: 0x4"),
     "mini/alpha.yml:21:17: risks[0].likelihood: '0x4' is read as 4 (hexadecimal) — write it as a plain decimal"),
    ("octal-number", _replace("register.yml", "risks: 2", "risks: 063"),
     "mini/register.yml:14:10: totals.risks: '063' is read as 51 (octal) — write it as a plain decimal"),
    ("sexagesimal-number", _replace("register.yml", "review_days: 90", "review_days: 1:30"),
     "mini/register.yml:21:18: levels[0].review_days: '1:30' is read as 90 (base 60) — write it as a plain decimal"),
    ("fraction-for-whole-number", _replace("alpha.yml", "likelihood: 4", "likelihood: 4.0"),
     "mini/alpha.yml:21:17: risks[0].likelihood: '4.0' is read as 4.0 (not a whole number) — write it as a plain decimal"),
    # Item 19: an area file that is not a file is refused by name, without reading it.
    ("area-file-links-to-dev-zero", lambda folder: _replace_with_link(folder / "alpha.yml", "/dev/zero"),
     "mini/alpha.yml:1:1: is a character device, not a file — put the YAML file here instead"),
    ("area-file-is-a-fifo", lambda folder: _replace_with_fifo(folder / "alpha.yml"),
     "mini/alpha.yml:1:1: is a FIFO (named pipe), not a file — put the YAML file here instead"),
    ("area-file-is-a-dangling-link", lambda folder: _replace_with_link(folder / "alpha.yml", "nowhere.yml"),
     "mini/alpha.yml:1:1: is a link to a file that does not exist — fix the link or put the file here"),
    # Issue 23: text a spreadsheet would run as a formula, in any field, however it is written.
    *[(f"formula-{name}", _replace("alpha.yml", "title_zh: 虚报冒领差旅费", f"title_zh: {written}"),
       f"mini/alpha.yml:9:15: risks[0].title_zh: {shown} begins with {sign!r}, which a spreadsheet reads as a "
       "formula — start the text with a word (drop a leading list marker, write a sign in words)")
      for name, written, shown, sign in (
          ("hyperlink", """'=HYPERLINK("http://example.org","点击")'""", """'=HYPERLINK("http://example.org","点击")'""",
           "="),
          ("plus", "+86 电话", "'+86 电话'", "+"),
          ("minus-list-marker", "'- 虚报冒领差旅费'", "'- 虚报冒领差旅费'", "-"),
          ("at", "'@SUM(A1)'", "'@SUM(A1)'", "@"),
          ("after-a-tab", '"\\t=1+1"', "'\\t=1+1'", "="),
          ("after-a-line-break", '"\\n =cmd|\' /C calc\'!A0"', "\"\\n =cmd|' /C calc'!A0\"", "="))],
    ("formula-in-a-list-item", _replace("alpha.yml", "- zh: 虚增出差天数", "- zh: '-1 天'"),
     "mini/alpha.yml:19:13: risks[0].manifestations[0].zh: '-1 天' begins with '-', which a spreadsheet reads as a "
     "formula — start the text with a word (drop a leading list marker, write a sign in words)"),
]


def _replace_with_link(path: Path, target: str) -> None:
    path.unlink()
    path.symlink_to(target)


def _replace_with_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


FIRST_LINE = {name: first for name, _, first in CASES}


@pytest.mark.parametrize("name, breaks, first", CASES, ids=[case[0] for case in CASES])
def test_refused_with_located_error_and_database_unchanged(name, breaks, first, mini, previous, capsys):
    breaks(mini)
    assert_refused(mini, previous, capsys, first)


def test_typo_field_gets_a_did_you_mean_hint(mini, previous, capsys):
    edit(mini, "alpha.yml", "title_zh: 虚报冒领差旅费", "tittle_zh: 虚报冒领差旅费")
    lines = assert_refused(mini, previous, capsys, "mini/alpha.yml:8:5: risks[0]: missing field 'title_zh' — add it")
    assert lines == ["mini/alpha.yml:8:5: risks[0]: missing field 'title_zh' — add it",
                     "mini/alpha.yml:9:5: risks[0].tittle_zh: unknown field 'tittle_zh' — did you mean 'title_zh'?"]


def test_duplicate_ids_across_files_each_reported(mini, previous, capsys):
    _second_area_reusing_ids(mini)
    lines = assert_refused(mini, previous, capsys, FIRST_LINE["duplicate-id-across-files"])
    assert [line.split(": ")[0] for line in lines] == [
        "mini/beta.yml:8:9", "mini/beta.yml:33:9", "mini/beta.yml:59:9", "mini/beta.yml:73:9", "mini/beta.yml:86:9"]


def test_every_error_reported_in_one_run(mini, previous, capsys):
    edit(mini, "alpha.yml", "title_en: False travel claims", "title_en: NO")
    edit(mini, "alpha.yml", "likelihood: 4", "likelihood: 7")
    edit(mini, "alpha.yml", "category: ethics", "category: morals")
    lines = assert_refused(mini, previous, capsys, NO_AS_TITLE)
    assert lines == [
        NO_AS_TITLE,
        "mini/alpha.yml:21:17: risks[0].likelihood: 7 is outside 1–5 — use a value in that range",
        "mini/alpha.yml:42:15: risks[1].category: 'morals' is not one of: ethics, duties, rules, process, external — use one of these",
    ]


def test_html_and_script_text_is_valid_and_stored_verbatim(mini, previous, capsys):
    hostile = """<script>alert("x")</script> & <b onmouseover='y()'>粗体</b> </textarea>"""
    edit(mini, "alpha.yml", "title_en: False travel claims", "title_en: '" + hostile.replace("'", "''") + "'")
    edit(mini, "alpha.yml", "description_en: The claimant inflates the days of travel.",
         "description_en: |\n      <img src=x onerror=alert(1)>\n      {{ 7 * 7 }} ${x} %s")
    assert main([str(mini), "--check"]) == 0
    assert main([str(mini), "-o", str(previous)]) == 0
    assert sorted(p.name for p in previous.parent.iterdir()) == [previous.name]
    with contextlib.closing(sqlite3.connect(previous)) as conn:
        title, description = conn.execute(
            "select title_en, description_en from risks where id = 'AL-01'").fetchone()
    assert title == hostile
    assert description == "<img src=x onerror=alert(1)>\n{{ 7 * 7 }} ${x} %s\n"


def test_a_sign_inside_text_or_a_number_is_no_formula(mini, previous, capsys):
    """Only the first character (after blanks) makes a formula: a sign later in the text, a negative
    figure in a sentence, a "-" list in a text's later lines and a number field all build."""
    edit(mini, "alpha.yml", "title_zh: 虚报冒领差旅费", "title_zh: 虚报冒领差旅费（超标准 -5% 以上）")
    edit(mini, "alpha.yml", "description_zh: 经办人虚报差旅天数。",
         "description_zh: |\n      经办人虚报差旅天数，金额=单价×天数：\n      - 多报天数\n      + 多报车费\n      @财务室")
    edit(mini, "alpha.yml", "- zh: 虚增出差天数", "- zh: 虚增出差天数 +1 天")
    assert main([str(mini), "-o", str(previous)]) == 0
    with contextlib.closing(sqlite3.connect(previous)) as conn:
        title, description = conn.execute("select title_zh, description_zh from risks where id = 'AL-01'").fetchone()
    assert title == "虚报冒领差旅费（超标准 -5% 以上）"
    assert description == "经办人虚报差旅天数，金额=单价×天数：\n- 多报天数\n+ 多报车费\n@财务室\n"


def test_interrupted_build_leaves_database_unchanged(mini, previous, capsys, monkeypatch):
    """Ctrl-C part-way: the previous database stays, no temporary file is left (a full disk, for real,
    and signals are in test_output.py)."""
    def interrupted(db, rows):
        raise KeyboardInterrupt

    monkeypatch.setattr(riskcatalog.db, "insert_rows", interrupted)
    before, inode = previous.read_bytes(), previous.stat().st_ino
    assert main([str(mini), "-o", str(previous)]) == 1
    assert capsys.readouterr().err.splitlines() == [f"interrupted; {previous} is unchanged"]
    assert previous.read_bytes() == before and previous.stat().st_ino == inode
    assert sorted(p.name for p in previous.parent.iterdir()) == [previous.name]


def test_a_measure_is_dated_by_the_latest_review_of_its_risks(mini, previous, capsys):
    """A measure may cite what was issued by the last review of the risks it controls, not later."""
    edit(mini, "sources.yml", "    year: 2018\n", '    year: 2019\n    date: "2019-01-12"\n')
    lines = assert_refused(mini, previous, capsys, FIRST_LINE["cites-a-later-date"])
    assert lines == [FIRST_LINE["cites-a-later-date"]]  # AL-M01 (with AL-01, reviewed 2019-01-15) may cite it
    edit(mini, "sources.yml", '    date: "2019-01-12"\n', '    date: "2019-01-16"\n')
    lines = assert_refused(mini, previous, capsys, "mini/alpha.yml:30:15: risks[0].sources[0]: cites 'law' "
                           "(2019-01-16), issued after this risk was reviewed (2019-01-15) — cite the rule in "
                           "force then, or review the entry again")
    assert lines[1:] == [
        "mini/alpha.yml:55:15: risks[1].sources[0]: cites 'law' (2019-01-16), issued after this risk was reviewed "
        "(2019-01-10) — cite the rule in force then, or review the entry again",
        "mini/alpha.yml:72:15: measures[0].sources[0]: cites 'law' (2019-01-16), issued after the risks this "
        "measure controls were last reviewed (2019-01-15) — cite the rule in force then, or review the entry again"]


def test_mini_register_is_valid_to_start_with(mini, previous):
    """The cases above each break one thing of a register that builds."""
    with contextlib.closing(sqlite3.connect(previous)) as conn:
        assert conn.execute("select count(*) from risks").fetchone()[0] == 2
        assert conn.execute("select count(*) from measures").fetchone()[0] == 3
    assert sorted(p.name for p in mini.iterdir()) == ["alpha.yml", "register.yml", "sources.yml"]


def _another_register(mini: Path, name: str, unit: str) -> Path:
    """A copy of the mini register in folder `name`, with unit id `unit`."""
    folder = mini.parent / name
    folder.mkdir()
    for path in mini.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    edit(folder, "register.yml", "id: mini", f"id: {unit}")
    return folder


def test_keys_shared_by_two_registers_are_a_located_error(mini, previous, capsys):
    """Issue 14, item 8: unit mini with source x-law and unit mini-x with source law would both key
    mini-x-law; the second is refused where its id stands (it was an IntegrityError traceback)."""
    edit(mini, "sources.yml", "- id: law", "- id: x-law")
    edit(mini, "alpha.yml", "sources: [law]\n    measures: [AL-M01, AL-M02]", "sources: [x-law]\n    measures: [AL-M01, AL-M02]")
    edit(mini, "alpha.yml", "sources: [law]\n    measures: [AL-M03]", "sources: [x-law]\n    measures: [AL-M03]")
    edit(mini, "alpha.yml", "sources: [law]\n  - id: AL-M02", "sources: [x-law]\n  - id: AL-M02")
    other = _another_register(mini, "other", "mini-x")
    for name in ("sources.yml", "alpha.yml"):
        (other / name).write_text((other / name).read_text(encoding="utf-8").replace("x-law", "law"), encoding="utf-8")
    before = previous.read_bytes()
    expected = ["other/sources.yml:10:9: sources[1].id: source 'law' of unit 'mini-x' and source 'x-law' of unit "
                "'mini' (mini/sources.yml:10) would both have the key 'mini-x-law' — rename one of the two ids"]
    for argv, last in (([str(mini), str(other), "-o", str(previous)], f"1 error(s); {previous} is unchanged"),
                       ([str(mini), str(other), "--check"], "1 error(s)")):
        assert main(argv) == 1
        assert capsys.readouterr().err.splitlines() == expected + [last]
    assert previous.read_bytes() == before
    assert sorted(p.name for p in previous.parent.iterdir()) == [previous.name]


def test_same_ids_in_two_registers_build_when_their_keys_differ(mini, previous, capsys):
    """Registers mini and mini-x with the same source and area ids: every key differs, both build."""
    other = _another_register(mini, "other", "mini-x")
    assert main([str(mini), str(other), "-o", str(previous)]) == 0
    with contextlib.closing(sqlite3.connect(previous)) as conn:
        assert sorted(key for key, in conn.execute("select key from sources")) == [
            "mini-law", "mini-report", "mini-x-law", "mini-x-report"]


def test_a_date_past_2100_among_many_registers_is_located_not_a_worker_traceback(mini, previous, capsys, monkeypatch):
    """Item 7: from four registers on, compiling runs in worker processes; a date whose next review
    overflowed came back as a RemoteTraceback. It is a located error, from the build and the check."""
    monkeypatch.setattr(riskcatalog.schedule, "WORKERS", 2)  # worker processes even on a one-core machine
    folders = [mini] + [_another_register(mini, f"mini{n}", f"mini{n}") for n in range(1, 5)]
    edit(folders[3], "alpha.yml", 'reviewed: "2019-01-15"', 'reviewed: "9999-12-01"')
    lines = assert_refused_many(folders, previous, capsys)
    assert lines == ["mini3/alpha.yml:32:15: risks[0].reviewed: '9999-12-01' is not of the form YYYY-MM-DD from 1900 "
                     'to 2100 (e.g. "2019-01-15") — rewrite it in that form']


def assert_refused_many(folders: list[Path], db: Path, capsys) -> list[str]:
    """Build and check of several folders both fail with the same errors; the database is untouched."""
    before = db.read_bytes()
    code, lines = run([*map(str, folders), "-o", str(db)], capsys)
    assert code == 1 and lines[-1] == f"{len(lines) - 1} error(s); {db} is unchanged"
    assert db.read_bytes() == before
    code, check_lines = run([*map(str, folders), "--check"], capsys)
    assert code == 1 and check_lines == lines[:-1] + [f"{len(lines) - 1} error(s)"]
    return lines[:-1]


#: Scalars in every form YAML 1.1 or 1.2 gives a meaning, and some that look like one.
SCALARS = ["yes", "no", "~", "true", "0o17", "0x1f", "0b11", "063", "0", "1:30", "1_000", "1e3", ".5", "4.0",
           ".inf", "-.inf", ".nan", "+3", "-7", "9999999999999999999999", "2019-01-15", "2018-13-06", "0000-01-01",
           "2001-12-14 21:59:43", "2001-12-14t21:59:43.10-25:00", '"9999-12-31"', '"0001-01-01"', "[]", "{}",
           '"\\t"', '"x\\ny"', "'#'"]
#: One field of each kind in alpha.yml: text, id, enum, rating, date, list of ids, a key.
FIELDS = ["title_en: False travel claims", "id: AL-02", "category: ethics", "likelihood: 4",
          'reviewed: "2019-01-15"', "measures: [AL-M03]", "power_en:"]


@pytest.mark.parametrize("field", FIELDS)
def test_no_value_makes_the_check_or_build_fail_otherwise_than_with_errors(field, mini_catalog, tmp_path):
    """Issue 14 asks what a hostile contributor can do: every scalar form in every kind of field is either
    valid or located errors (CatalogInvalid); never an OverflowError, ValueError or IntegrityError."""
    path = mini_catalog / "alpha.yml"
    original = path.read_text(encoding="utf-8")
    key, _, _ = field.partition(":")
    for scalar in SCALARS:
        changed = field.replace(key, scalar, 1) if field.endswith(":") else f"{key}: {scalar}"
        path.write_text(original.replace(field, changed, 1), encoding="utf-8")
        try:
            riskcatalog.build.build([mini_catalog], tmp_path / "out.db")
        except CatalogInvalid as exc:
            assert all(error.message for error in exc.errors), scalar
