"""The thesaurus (riskcatalog/thesaurus.yml): what it expands, and a located error for every bad file."""

from __future__ import annotations

import textwrap

import pytest

from riskcatalog import thesaurus
from riskcatalog.cli import main
from riskcatalog.errors import CatalogInvalid
from riskcatalog.yamlload import load_file

from .conftest import CATALOG


def write(tmp_path, text: str):
    path = tmp_path / "thesaurus.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_shipped_thesaurus_is_valid_and_has_its_80_entries():
    """The package's thesaurus passes the check, with at least 80 entries, each saying where it comes from."""
    doc, errors = load_file(thesaurus.SHIPPED, "thesaurus.yml")
    assert errors == [] and thesaurus.check(doc) == []
    entries = doc.data["entries"]
    assert len(entries) >= 80 and all(entry["source"].strip() for entry in entries)
    assert thesaurus.shipped().also("公车") and thesaurus.shipped().also("一把手")


def test_a_ring_finds_each_other_and_a_one_way_entry_only_forward(tmp_path):
    """`same` terms find each other; `term` finds its `also` terms, which do not find it back."""
    found = thesaurus.load(write(tmp_path, """\
        entries:
          - same: [公车, 公务用车, 公务车辆]
            source: 《党政机关公务用车管理办法》（2017）
          - term: 一把手
            also: [主要负责人, 党工委书记]
            source: 《关于加强对“一把手”和领导班子监督的意见》（2021）
          - same: [petition, letters and visits]
            source: Regulations on Letters and Visits (2005)
        """))
    assert found.also("公车") == ["公务用车", "公务车辆"]
    assert found.also("公务车辆") == ["公车", "公务用车"]
    assert found.also("一把手") == ["主要负责人", "党工委书记"] and found.also("主要负责人") == []
    assert found.also("Petitions") == ["letters and visits"]  # case, and an English plural
    assert found.also("报销") == []
    assert found.terms[:3] == ["公车", "公务用车", "公务车辆"]


BAD = [
    ("entries:\n  - same: [公车, 公务用车]\n",
     "thesaurus.yml:2:5: entries[0]: `source:` is missing — say where this usage comes from (a regulation's "
     "title, a published register, a discipline-inspection report or website)"),
    ("entries:\n  - same: [公车, 公务用车]\n    term: 一把手\n    also: [主要负责人]\n    source: x\n",
     "thesaurus.yml:2:5: entries[0]: give either `same: [...]` (terms that find each other) or `term:` with "
     "`also: [...]` (a term that also finds others), not both or neither"),
    ("entries:\n  - same: [公车, 公务用车]\n    sourse: x\n",
     "thesaurus.yml:3:5: entries[0].sourse: unknown field 'sourse' — an entry has `same`, or `term` and `also`; "
     "then `source` and, if needed, `note`"),
    ("entries:\n  - same: [公車, 公务用车]\n    source: x\n",
     "thesaurus.yml:2:12: entries[0].same[0]: '公車' has Traditional characters — write '公车': searches fold "
     "Traditional to Simplified"),
    ("entries:\n  - term: 三资\n    also: [集体资金、资产、资源]\n    source: x\n",
     "thesaurus.yml:3:12: entries[0].also[0]: '集体资金、资产、资源' holds '、' — give one term per item (split it "
     "into several)"),
    ("entries:\n  - same: [公车, 公车]\n    source: x\n",
     "thesaurus.yml:2:16: entries[0].same[1]: '公车' is listed twice — keep one"),
    ("entries:\n  - same: [公车]\n    source: x\n",
     "thesaurus.yml:2:11: entries[0].same: a list of at least 2 terms — write [term, term, …]"),
    ("entries:\n  - same: [公车, 公务用车]\n    source: x\n  - same: [公务车辆, 公车]\n    source: y\n",
     "thesaurus.yml:4:11: entries[1].same: '公车' is also in the ring at line 2 — merge the two entries into one "
     "`same` list"),
    ("entries:\n  - term: 一把手\n    also: [一把手, 主要负责人]\n    source: x\n",
     "thesaurus.yml:3:11: entries[0].also: '一把手' is its own `also` — remove it from the list"),
    ("entries:\n  - term: 一把手\n    source: x\n",
     "thesaurus.yml:2:5: entries[0]: `also:` is missing — a one-way entry has `term:` and `also: [...]`"),
    ("entries:\n  - same: [公车, 12]\n    source: x\n",
     "thesaurus.yml:2:16: entries[0].same[1]: a term is text — quote it"),
    ("words:\n  - same: [公车, 公务用车]\n",
     "thesaurus.yml:1:1: words: a thesaurus holds one field, `entries:`, a list of entries (each `same: [...]`, "
     "or `term:` with `also: [...]`, and `source:`)"),
    ("entries:\n  - same: [公车, 公务用车\n",
     "thesaurus.yml:3:1: YAML syntax error: did not find expected ',' or ']' — fix the syntax at this point"),
]


@pytest.mark.parametrize("text, error", BAD, ids=range(len(BAD)))
def test_a_bad_thesaurus_is_refused_at_its_line(tmp_path, text, error):
    """Each problem of a thesaurus file is one line: file:line:column, the entry, what is wrong and what to do."""
    path = tmp_path / "thesaurus.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogInvalid) as raised:
        thesaurus.load(path, "thesaurus.yml")
    assert str(raised.value.errors[0]) == error


def test_check_and_build_refuse_a_bad_shipped_thesaurus(tmp_path, monkeypatch, capsys):
    """`build.py check` and a build report a bad thesaurus with its line and exit 1; no database is written."""
    monkeypatch.setattr(thesaurus, "SHIPPED", write(tmp_path, "entries:\n  - same: [公车, 公务用车]\n"))
    assert main(["check", str(CATALOG)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("riskcatalog/thesaurus.yml:2:5: entries[0]: `source:` is missing") and err[-1] == "1 error(s)"
    output = tmp_path / "catalog.db"
    assert main([str(CATALOG), "-o", str(output)]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == f"1 error(s); {output} was not written"
    assert not output.exists()
