"""`build.py fmt`: canonical YAML that keeps comments, and --check for CI."""

from __future__ import annotations

import os
import random
import re
import stat
import tempfile
import textwrap
from pathlib import Path

import pytest
import yaml

from riskcatalog.cli import main
from riskcatalog.fmt import FormatError, format_text
from riskcatalog.yamlload import load_text

from .conftest import CATALOG, MINI, copy_catalog
from .limits import as_nobody, run_build, small_disk

# An area file as a contributor might leave it: keys out of order, odd indentation,
# id lists in block style, a manifestation in flow style, comments everywhere.
MESSY = """\
# yaml-language-server: $schema=schema.json
# A note on the whole file.
area:
    name_zh: 会议费管理
    id: alpha   # = file name
    name_en: Meeting costs
    description_en: Approving meetings.
    description_zh: 会议审批。
risks:
- level: high
  id: AL-01
  title_zh: 虚报冒领差旅费
  local_note: kept at the end
  sources:
  - law
  measures: [AL-M01,
     AL-M02]
  reviewed: '2019-01-15'
  post_en: 'NO'
  manifestations: [{zh: 虚增出差天数, en: "Extra days: claimed"}]
measures: []
"""

CANONICAL = """\
# yaml-language-server: $schema=schema.json
# A note on the whole file.
area:
  id: alpha     # = file name
  name_zh: 会议费管理
  name_en: Meeting costs
  description_zh: 会议审批。
  description_en: Approving meetings.
risks:
  - id: AL-01
    title_zh: 虚报冒领差旅费
    post_en: "NO"
    manifestations:
      - zh: 虚增出差天数
        en: 'Extra days: claimed'
    level: high
    sources: [law]
    measures: [AL-M01, AL-M02]
    reviewed: "2019-01-15"
    local_note: kept at the end
measures: []
"""


def _texts(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yml"))}


def _messy(tmp_path: Path) -> Path:
    folder = tmp_path / "messy"
    folder.mkdir()
    (folder / "alpha.yml").write_text(MESSY, encoding="utf-8")
    return folder


def test_formats_into_canonical_form(tmp_path, capsys):
    """Keys follow the documented order (unknown last), lists and quotes are normalised, comments stay."""
    folder = _messy(tmp_path)
    assert main(["fmt", str(folder)]) == 0
    assert (folder / "alpha.yml").read_text(encoding="utf-8") == CANONICAL
    assert "alpha.yml: formatted" in capsys.readouterr().out


def test_formatting_keeps_the_data(tmp_path):
    """What build.py reads is the same before and after: 'NO' and the date stay strings."""
    folder = _messy(tmp_path)
    main(["fmt", str(folder)])
    assert yaml.safe_load((folder / "alpha.yml").read_text(encoding="utf-8")) == yaml.safe_load(MESSY)


def test_fmt_is_idempotent(mini_catalog, tmp_path):
    """Formatting a formatted folder changes no byte, both for the mini register and a messy file."""
    for folder in (mini_catalog, _messy(tmp_path)):
        main(["fmt", str(folder)])
        once = _texts(folder)
        assert main(["fmt", str(folder)]) == 0
        assert _texts(folder) == once


def test_check_passes_on_formatted_files(mini_catalog, capsys):
    """--check exits 0 and prints nothing when every file is formatted."""
    assert main(["fmt", "--check", str(mini_catalog)]) == 0
    assert capsys.readouterr().out == ""


def test_check_fails_and_writes_nothing(tmp_path, monkeypatch, capsys):
    """--check exits 1, names the unformatted file with the fix, and leaves it untouched."""
    _messy(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["fmt", "--check", "messy"]) == 1
    assert capsys.readouterr().out == "messy/alpha.yml: not formatted — run: python build.py fmt\n"
    assert (tmp_path / "messy" / "alpha.yml").read_text(encoding="utf-8") == MESSY


def test_unparseable_file_is_reported_with_its_position(tmp_path, monkeypatch, capsys):
    """A file that does not parse gives file:line:col and exit 1, and is not rewritten."""
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "alpha.yml").write_text("area:\n  id: alpha\n  name_zh: [unclosed\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["fmt", "broken"]) == 1
    assert capsys.readouterr().err.startswith("broken/alpha.yml:4:1: YAML syntax error")
    assert (folder / "alpha.yml").read_text(encoding="utf-8").endswith("[unclosed\n")


def test_shipped_catalogue_is_formatted():
    """The catalogue in the repository is already in canonical form."""
    assert main(["fmt", "--check", str(CATALOG)]) == 0


# --- issue 14: comments stay where they were (item 18) ------------------------------------------------

LAND = (CATALOG / "land.yml").read_text(encoding="utf-8")
TITLES = """\
    title_zh: 征收范围和补偿政策提前泄露，诱发抢建抢装
    title_en: Early leaks of the expropriation area and compensation policy, prompting rushed building and fitting-out
"""
MEASURES = "    measures: [LAND-M01, LAND-M10]\n"


def _folder_with(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "catalog"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_a_comment_above_a_key_stays_above_that_key_when_keys_are_reordered(tmp_path):
    """ruamel tied a comment line to the key above it: above title_en (written first), it ended up above
    title_zh once title_zh was put first. It stays with title_en."""
    zh, en = TITLES.splitlines(keepends=True)
    comment = "    # The English title is under review.\n"
    folder = _folder_with(tmp_path, "land.yml", LAND.replace(TITLES, comment + en + zh, 1))
    assert main(["fmt", str(folder)]) == 0
    assert (folder / "land.yml").read_text(encoding="utf-8") == LAND.replace(TITLES, zh + comment + en, 1)


def test_a_comment_inside_a_flow_list_is_kept_beside_its_item(tmp_path):
    """A comment after the first id of `measures: [...]` was deleted; the list is written one id a line,
    the comment beside its id, in its column."""
    messy = "    measures: [LAND-M01,  # keep: the survey depends on it\n      LAND-M10]\n"
    folder = _folder_with(tmp_path, "land.yml", LAND.replace(MEASURES, messy, 1))
    assert main(["fmt", str(folder)]) == 0
    formatted = "    measures:\n      - LAND-M01          # keep: the survey depends on it\n      - LAND-M10\n"
    assert (folder / "land.yml").read_text(encoding="utf-8") == LAND.replace(MEASURES, formatted, 1)
    assert main(["fmt", "--check", str(folder)]) == 0  # and that form is canonical: it stays


def _shuffled(value, rng: random.Random):
    """value with the keys of every mapping in a random order."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {key: _shuffled(value[key], rng) for key in keys}
    if isinstance(value, list):
        return [_shuffled(item, rng) for item in value]
    return value


def _with_random_comments(text: str, rng: random.Random) -> tuple[str, dict[str, str]]:
    """text with comments on its own lines above keys and at the ends of `key: value` lines; each
    comment's text -> the line it was written beside."""
    out, beside = [], {}
    for n, line in enumerate(text.splitlines()):
        # A comment above the first key is the file's header, which stays at the top: none is put there.
        first_key = n == 1
        if re.match(r"\s*(- )?\w+:", line) and rng.random() < 0.15 and not first_key:
            comment = f"# c{len(beside)}"
            out.append(" " * (len(line) - len(line.lstrip())) + comment)
            beside[comment] = line
        if re.match(r"\s*(- )?\w+: [^|>]", line) and rng.random() < 0.15:
            comment = f"# e{len(beside)}"
            line += "  " + comment
            beside[comment] = line[:-len(comment)]
        out.append(line)
    return "\n".join(out) + "\n", beside


@pytest.mark.parametrize("name", sorted(p.name for p in CATALOG.glob("*.yml")))
def test_every_comment_stays_beside_its_line_in_any_key_order(name, tmp_path):
    """Each shipped file with its keys shuffled and comments scattered above keys and after values:
    formatted, every comment stands beside the same key (or the same list item, above a `- ` line),
    nothing else differs from the shipped file, and formatting again changes nothing."""
    shipped = (CATALOG / name).read_text(encoding="utf-8")
    rng = random.Random(name)
    messy = yaml.safe_dump(_shuffled(yaml.safe_load(shipped), rng), allow_unicode=True, sort_keys=False, width=10**9)
    header = shipped.split("\n", 1)[0] + "\n"
    messy, beside = _with_random_comments(header + messy, rng)
    result = format_text(messy, name)
    lines = result.splitlines()
    for comment, line in beside.items():
        n = next(i for i, text in enumerate(lines) if text.endswith(comment))
        if comment.startswith("# e"):  # at the end of the line of the same key and value
            assert _same(lines[n], line), comment
            continue
        below = next(i for i in range(n + 1, len(lines)) if not re.fullmatch(r"\s*# c\d+", lines[i]))
        assert lines[n].index("#") == _indent(lines[below]), comment  # at the indentation of what it is above
        if line.lstrip().startswith("- "):  # above the list item the line opened, wherever its key went
            assert lines[below].lstrip().startswith("- "), comment
            assert any(_same(entry, line) for entry in _item(lines, below)), comment
        else:  # above the same key
            assert _same(lines[below], line), comment
    bare = "\n".join(re.sub(r"\s+# e\d+$", "", text) for text in lines if not re.fullmatch(r"\s*# c\d+", text))
    # The shipped file but for its own comments, which safe_dump dropped (all but the first line, written back).
    expected = [text for n, text in enumerate(shipped.splitlines()) if n == 0 or not text.lstrip().startswith("#")]
    assert bare.splitlines() == expected
    assert format_text(result, name) == result


def _same(formatted: str, messy: str) -> bool:
    """Whether two lines hold the same key and value, as YAML reads them (a value on the lines below,
    written one way in the messy file and another in the formatted one, is not compared)."""
    read = [yaml.safe_load(re.sub(r"\s+# [ce]\d+$", "", line).strip().removeprefix("- ")) for line in (formatted, messy)]
    (key, value), (messy_key, messy_value) = (next(iter(entry.items())) for entry in read)
    return key == messy_key and (value == messy_value or messy_value is None)


def _item(lines: list[str], first: int) -> list[str]:
    """The lines of the list item whose `- ` line is lines[first], at its own level."""
    column = _indent(lines[first]) + 2
    entries = [lines[first]]
    for line in lines[first + 1:]:
        if line.strip() and not line.lstrip().startswith("#"):
            if _indent(line) < column:
                break
            if _indent(line) == column:
                entries.append(line)
    return entries


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def test_blank_lines_and_trailing_comments_of_a_block_stay(tmp_path):
    """A blank line between two risks and a comment closing a risk's block stay where they were."""
    messy = LAND.replace(MEASURES, MEASURES, 1).replace('    reviewed: "2018-12-06"\n  - id: LAND-02\n',
                                                        '    reviewed: "2018-12-06"\n    # end of LAND-01\n\n'
                                                        '  - id: LAND-02\n', 1)
    assert format_text(messy, "land.yml") == messy


# --- issue 14: writing (items 17, 19) -------------------------------------------------------------------

def _unformatted_land(tmp_path: Path) -> Path:
    """A copy of the catalogue whose land.yml needs formatting (two keys swapped): fmt must rewrite it."""
    folder = copy_catalog(tmp_path / "catalog")
    zh, en = TITLES.splitlines(keepends=True)
    (folder / "land.yml").write_text(LAND.replace(TITLES, en + zh, 1), encoding="utf-8")
    return folder


WRITE_ADVICE = "free space on its disk (or raise the file size limit, ulimit -f), then try again"


def test_fmt_on_a_full_disk_leaves_the_file_whole(tmp_path):
    """Item 17: land.yml was cut to 36,864 bytes mid-word on a full disk and --check then said OK. fmt writes
    a new file beside it and moves it into place only when complete: here the kernel refuses the write
    (a file size limit below the file's size) and land.yml stays byte for byte."""
    folder = _unformatted_land(tmp_path)
    before = (folder / "land.yml").read_bytes()
    done = run_build(["fmt", "catalog"], tmp_path, max_file_bytes=len(before) - 100)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"error: cannot write catalog/land.yml: File too large — {WRITE_ADVICE}; "
                                        "catalog/land.yml is unchanged"]
    assert (folder / "land.yml").read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in CATALOG.iterdir())
    checked = run_build(["fmt", "--check", "catalog"], tmp_path)
    assert (checked.returncode, checked.stdout) == (1, "catalog/land.yml: not formatted — run: python build.py fmt\n")


def test_fmt_on_a_full_tmpfs_leaves_the_file_whole(tmp_path):
    """The same on a disk that is really full (a tmpfs; needs root to mount)."""
    with small_disk(tmp_path / "disk", 512 * 1024) as disk:
        folder = _unformatted_land(disk)
        before = (folder / "land.yml").read_bytes()
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        (disk / "filler").write_bytes(b"\0" * (free - len(before) // 2))  # room for half of land.yml
        done = run_build(["fmt", "catalog"], disk)
        assert done.returncode == 1
        assert done.stderr.splitlines() == [f"error: cannot write catalog/land.yml: No space left on device — "
                                            f"{WRITE_ADVICE}; catalog/land.yml is unchanged"]
        assert (folder / "land.yml").read_bytes() == before
        assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_fmt_keeps_the_permissions_of_the_file(tmp_path):
    """The formatted file replaces the old one with the old one's mode."""
    folder = _unformatted_land(tmp_path)
    (folder / "land.yml").chmod(0o640)
    assert main(["fmt", str(folder)]) == 0
    assert stat.S_IMODE((folder / "land.yml").stat().st_mode) == 0o640


def test_fmt_does_not_write_through_a_symbolic_link(tmp_path, monkeypatch, capsys):
    """Item 19: a link in the folder pointed fmt at a file outside it, which it rewrote. fmt refuses to write
    through it; fmt --check, which writes nothing, reads through it."""
    outside = tmp_path / "outside.yml"
    outside.write_text(LAND.replace(TITLES, "".join(reversed(TITLES.splitlines(keepends=True))), 1), encoding="utf-8")
    before = outside.read_bytes()
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "land.yml").symlink_to(outside)
    monkeypatch.chdir(tmp_path)
    assert main(["fmt", "catalog"]) == 1
    assert capsys.readouterr().err == ("catalog/land.yml:1:1: is a symbolic link — fmt does not write through links; "
                                       "format the file it points to\n")
    assert outside.read_bytes() == before and (folder / "land.yml").is_symlink()
    assert main(["fmt", "--check", "catalog"]) == 1
    assert capsys.readouterr().out == "catalog/land.yml: not formatted — run: python build.py fmt\n"


DEVICE = "is a character device, not a file — put the YAML file here instead"
FIFO = "is a FIFO (named pipe), not a file — put the YAML file here instead"
LINK = "is a symbolic link — fmt does not write through links; format the file it points to"


@pytest.mark.parametrize("command, make, message", [
    (["fmt", "--check"], lambda path: path.symlink_to("/dev/zero"), DEVICE),
    (["fmt"], lambda path: path.symlink_to("/dev/zero"), LINK),
    (["fmt", "--check"], os.mkfifo, FIFO),
    (["fmt"], os.mkfifo, FIFO),
], ids=["check-link-to-dev-zero", "write-link-to-dev-zero", "check-fifo", "write-fifo"])
def test_fmt_answers_at_once_for_what_is_not_a_file(command, make, message, mini_catalog):
    """Item 19: `z.yml -> /dev/zero` made fmt read without end and a FIFO made it wait for ever: each is
    a located error, answered at once (in a process of its own, so a regression fails, not hangs)."""
    make(mini_catalog / "z.yml")
    done = run_build([*command, "mini"], mini_catalog.parent)
    assert (done.returncode, done.stderr) == (1, f"mini/z.yml:1:1: {message}\n")


def test_unreadable_file_is_a_located_error(tmp_path, capsys):
    """Item 19: an unreadable file gave fmt a PermissionError traceback; fmt and the check name it."""
    with tempfile.TemporaryDirectory() as shared:  # a folder user nobody may enter, for a root test run
        folder = Path(shared) / "mini"
        folder.mkdir()
        for name, text in MINI.items():
            (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
        os.chmod(shared, 0o755)
        (folder / "alpha.yml").chmod(0)
        message = f"{folder}/alpha.yml:1:1: cannot be read: permission denied — make the file readable"
        with as_nobody():
            assert main(["fmt", str(folder)]) == 1
            assert capsys.readouterr().err.splitlines() == [message]
            assert main(["check", str(folder)]) == 1
            assert capsys.readouterr().err.splitlines() == [message, "1 error(s)"]


# --- issue 14: files fmt refused though valid (item 20), and impossible dates (item 7) ----------------------

@pytest.mark.parametrize("old, new", [
    ("    power_en: Travel claims\n", '    power_en: Travel claims\n    "no": a key YAML 1.1 reads as false unquoted\n'),
    ("title_en: False travel claims", "title_en: " + "long  text  " * 100_000),
    ("title_en: False travel claims", r'title_en: "tab\there, no-break\_space, \x41, \u00e9, \/ and \" kept"'),
], ids=["quoted-no-key", "over-a-megabyte-with-double-spaces", "escapes"])
def test_valid_files_fmt_refused_are_formatted_with_their_data(old, new, mini_catalog, capsys):
    """fmt said "formatting would change the data" of a quoted key "no", of text over 1 MB with double spaces
    (folded at the line width) and of escapes: each is formatted now, build.py reading the same data."""
    path = mini_catalog / "alpha.yml"
    text = path.read_text(encoding="utf-8").replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    assert main(["fmt", str(mini_catalog)]) == 0
    formatted = path.read_text(encoding="utf-8")
    assert load_text(formatted, "alpha.yml")[0].data == load_text(text, "alpha.yml")[0].data
    assert main(["fmt", "--check", str(mini_catalog)]) == 0


@pytest.mark.parametrize("old, new, message", [
    ('reviewed: "2019-01-15"', "reviewed: 2018-13-06",
     "mini/alpha.yml:32:15: '2018-13-06' is not a real date — give a date that exists, quoted like \"2019-01-15\""),
    ("title_en: False travel claims", r'title_en: "False\Nclaims"',
     "mini/alpha.yml:10:15: character U+0085 is not allowed in text — remove its escape"),
    ("impact: 4", "impact: 010",
     "mini/alpha.yml:22:13: risks[0].impact: '010' is read as 8 (octal) by build.py but as 10 by YAML 1.2 editors "
     "— write it as a plain decimal, or quote it if it is text"),
    ("title_en: False travel claims", "title_en: yes",
     "mini/alpha.yml:10:15: risks[0].title_en: 'yes' is read as true by build.py but as text by YAML 1.2 editors "
     "— write true or false, or quote it if it is text"),
], ids=["unreal-date", "next-line-escape", "octal", "yes"])
def test_what_fmt_cannot_format_is_a_located_error(old, new, message, mini_catalog, monkeypatch, capsys):
    """An unquoted date that does not exist raised ValueError in fmt; a \\N escape, an octal number and a
    YAML 1.1 yes gave "formatting would change the data": each is a located error, the file untouched."""
    monkeypatch.chdir(mini_catalog.parent)
    path = Path("mini/alpha.yml")
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    before = path.read_bytes()
    assert main(["fmt", "mini"]) == 1
    assert capsys.readouterr().err.splitlines() == [message]
    assert path.read_bytes() == before


def test_file_names_are_shown_escaped(mini_catalog, monkeypatch, capsys):
    """A file name holding a line break cannot forge a second line (or a CI workflow command) in fmt's output."""
    monkeypatch.chdir(mini_catalog.parent)
    (mini_catalog / "x\n::warning::y.yml").write_text("area:\n    id: x\n", encoding="utf-8")
    assert main(["fmt", "--check", "mini"]) == 1
    assert capsys.readouterr().out == "mini/x\\n::warning::y.yml: not formatted — run: python build.py fmt\n"


SCALARS = ["yes", "no", "on", "off", "y", "n", "~", "null", "true", "True", "0o17", "0x1f", "0b11", "063", "0",
           "1:30", "1_000", "1e3", ".5", "4.0", ".inf", "-.inf", ".nan", "+3", "-7", "2019-01-15", "2018-13-06",
           "2001-12-14 21:59:43", '"quoted"', "'single'", "plain text", "a#b", "x  # note", '"\\t\\_\\x41"', "'#'"]
CONTEXTS = ["k: {}\n", "{}: v\n", "k: [{}, x]\n", "k:\n  - {}\n", "k:\n  j: {}\n  a: 1\n"]


@pytest.mark.parametrize("context", CONTEXTS)
def test_fmt_keeps_or_refuses_every_scalar_form(context):
    """Each YAML 1.1 or 1.2 form, as a key, a value and a list item: fmt either keeps what build.py reads
    (and formatting again changes nothing) or says why at file:line:column; it never fails otherwise."""
    for scalar in SCALARS:
        text = context.format(scalar)
        try:
            result = format_text(text, "x.yml")
        except FormatError as exc:
            assert re.fullmatch(r"x\.yml:\d+:\d+: .+ — .+", str(exc)), (text, str(exc))
            assert "report it" not in str(exc), (text, str(exc))  # the last guard is for fmt's own bugs
            continue
        assert repr(load_text(result, "x.yml")[0].data) == repr(load_text(text, "x.yml")[0].data), text
        assert format_text(result, "x.yml") == result, text
