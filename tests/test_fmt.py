"""`build.py fmt`: canonical YAML that keeps comments, and --check for CI."""

from __future__ import annotations

from pathlib import Path

import yaml

from riskcatalog.cli import main

from .conftest import CATALOG

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
