"""Registers as units keep them: Chinese only, levels without ratings; the shipped register stays complete."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from riskcatalog import build as builder
from riskcatalog.catalog import load_register
from riskcatalog.cli import main
from riskcatalog.validate import load_schema

from .conftest import CATALOG, make_datasette, write_register

#: A register as a sub-district keeps it: Chinese only, no sources, levels given without ratings,
#: only the columns its workbook has.
CHINESE = {
    "register.yml": """\
        unit:
          id: gutian
          name_zh: 古田街道
        languages: [zh]
        totals:
          risks: 2
          measures: 2
        areas:
          - finance
        levels:
          - {id: high, min_score: 15, review_days: 90}
          - {id: medium, min_score: 8, review_days: 180}
          - {id: low, min_score: 1, review_days: 360}
        """,
    "finance.yml": """\
        area:
          id: finance
          name_zh: 财务室
        risks:
          - id: FIN-01
            title_zh: 虚报冒领差旅费
            post_zh: 报销经办人
            manifestations:
              - zh: 虚增出差天数
              - zh: 重复报销同一张票据
            level: high
            measures: [FIN-M01]
            reviewed: "2019-01-15"
          - id: FIN-02
            title_zh: 公款私存
            likelihood: 2
            impact: 3
            level: low
            measures: [FIN-M02]
            reviewed: "2019-01-15"
        measures:
          - id: FIN-M01
            title_zh: 报销三级签字
          - id: FIN-M02
            title_zh: 每月对账
        """,
}


@pytest.fixture
def chinese_register(tmp_path) -> Path:
    return write_register(tmp_path / "gutian", CHINESE)


def edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_shipped_register_is_complete_in_both_languages_and_rated():
    """Every field the schema has is filled in the shipped register, Chinese and English, every risk rated."""
    register = load_register(CATALOG)
    assert register.languages == ["zh", "en"] and register.register["languages"] == ["zh", "en"]
    defs = load_schema()["$defs"]
    optional_ok = {"status", "replaced_by", "number", "date", "languages",  # present only where they apply
                   "notes_zh", "notes_en"}

    def missing(entry: dict, properties: dict) -> set[str]:
        return {name for name in properties if name not in entry} - optional_ok

    assert missing(register.register, defs["register_file"]["properties"]) == set()
    assert missing(register.unit, defs["register_file"]["properties"]["unit"]["properties"]) == set()
    assert missing(register.register["provenance"], defs["register_file"]["properties"]["provenance"]["properties"]) == set()
    for source in register.sources:
        assert missing(source, defs["sources_file"]["properties"]["sources"]["items"]["properties"]) == set(), source["id"]
    for area in register.areas:
        assert missing(area.record, defs["area_file"]["properties"]["area"]["properties"]) == set(), area.record["id"]
    for risk in register.risks():
        assert missing(risk, defs["risk"]["properties"]) == set(), risk["id"]
        assert all(m.keys() == {"zh", "en"} for m in risk["manifestations"]), risk["id"]
    for measure in register.measures():
        assert missing(measure, defs["measure"]["properties"]) - {"sources"} == set(), measure["id"]


def test_chinese_register_builds_with_nulls_where_nothing_is_given(chinese_register, tmp_path, capsys):
    """English, ratings, sources and the fields a workbook lacks are NULL; the level stands as given."""
    output = tmp_path / "catalog.db"
    assert main([str(chinese_register), "-o", str(output)]) == 0
    assert capsys.readouterr().out == "1 areas, 2 risks, 2 measures: built " + str(output) + "\n"
    with sqlite3.connect(output) as conn:
        conn.row_factory = sqlite3.Row
        fin01 = conn.execute("select * from risks where id = 'FIN-01'").fetchone()
        fin02 = conn.execute("select * from risks where id = 'FIN-02'").fetchone()
        unit = conn.execute("select * from units").fetchone()
        heat = conn.execute("select sum(risks) from heatmap").fetchone()[0]
        summary = conn.execute("select high, low, risks from area_summary").fetchone()
    assert (fin01["level"], fin01["likelihood"], fin01["impact"], fin01["score"]) == ("high", None, None, None)
    assert (fin02["level"], fin02["score"]) == ("low", 6)
    assert fin01["title_en"] is None and fin01["category"] is None and fin01["source_ids"] == "[]"
    assert json.loads(fin01["manifestations_zh"]) == ["虚增出差天数", "重复报销同一张票据"]
    assert json.loads(fin01["manifestations_en"]) == [None, None]
    assert fin01["next_review"] == "2019-04-15"
    assert unit["languages"] == '["zh"]' and unit["provenance_source"] is None and unit["name_en"] is None
    assert heat == 1  # the unrated risk has no cell in the matrix
    assert tuple(summary) == (1, 1, 2)  # but counts in its area by its level


async def test_chinese_register_pages_show_no_empty_english_or_placeholder(chinese_register, tmp_path):
    """The home, risk, measure and area pages of a Chinese-only register render without "None"."""
    output = tmp_path / "catalog.db"
    builder.build([chinese_register], output)
    ds = make_datasette(output)
    for path in ("/", "/catalog/risks/gutian-FIN-01", "/catalog/measures/gutian-FIN-M01",
                 "/catalog/areas/gutian-finance", "/catalog/risks?_search=报销", "/search?q=报销",
                 "/search?area=finance", "/catalog/full_register"):
        response = await ds.client.get(path)
        assert response.status_code == 200, path
        assert "None" not in response.text, path
        assert not re.search(r'<(p|span) class="(en|subtitle)" lang="en">\s*</\1>', response.text), path
    risk = (await ds.client.get("/catalog/risks/gutian-FIN-01")).text
    assert "虚增出差天数" in risk and "FIN-M01" in risk
    found = (await ds.client.get("/catalog/risks.json?_search=报销&_shape=array&_col=id")).json()
    assert [row["id"] for row in found] == ["FIN-01"]


REFUSED = [
    ("english-without-declaring-chinese-only", "languages: [zh]\n", "",
     "register.yml:2:3: unit: missing field 'name_en' — add it"),
    ("likelihood-without-impact", "    impact: 3\n", "",
     "finance.yml:14:5: risks[1]: missing field 'impact' — give likelihood and impact together, or neither"),
    ("ratings-disagree-with-level", "impact: 3", "impact: 5",
     "finance.yml:18:12: risks[1].level: level 'low' does not agree with likelihood 2 × impact 5 = 10, which is "
     "'medium' — set level: medium or change the ratings"),
    ("unknown-language", "languages: [zh]", "languages: [zh, fr]",
     "register.yml:4:12: languages: [zh, fr] is not one of: [zh, en], [zh] — use one of these"),
    ("cites-a-source-without-sources-file", "    measures: [FIN-M02]\n", "    measures: [FIN-M02]\n    sources: [law]\n",
     "finance.yml:20:15: risks[1].sources[0]: unknown source 'law' — add it to sources.yml or fix the id"),
]


@pytest.mark.parametrize("name, old, new, message", REFUSED, ids=[case[0] for case in REFUSED])
def test_what_a_chinese_register_may_not_leave_out(chinese_register, capsys, monkeypatch, name, old, new, message):
    """English is required unless the register says languages: [zh]; ratings go in pairs and agree with the level."""
    edit(chinese_register, "register.yml" if "languages" in old else "finance.yml", old, new)
    monkeypatch.chdir(chinese_register)
    assert main(["--check", "."]) == 1
    assert capsys.readouterr().err.splitlines()[0] == message


def test_chinese_register_exports_without_placeholders_and_comes_back_the_same(chinese_register, tmp_path, capsys):
    """A Chinese-only register with an unrated level: its workbook holds no "None", and imports back unchanged."""
    from openpyxl import load_workbook

    workbook = tmp_path / "古田.xlsx"
    assert main(["export", str(chinese_register), "-o", str(workbook)]) == 0
    book = load_workbook(workbook)
    assert book["登记表"]["A2"].value == "单位：古田街道　　　　日期：2019年1月15日"
    texts = [str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
             for cell in row if cell is not None]
    assert not any("None" in text for text in texts)
    assert main(["import", str(workbook), "--out", str(tmp_path / "back")]) == 0
    capsys.readouterr()
    assert main(["build", str(tmp_path / "back"), "-o", str(tmp_path / "back.db")]) == 0
    assert main(["build", str(chinese_register), "-o", str(tmp_path / "first.db")]) == 0
    for table in ("units", "areas", "risks", "measures", "risk_measures"):
        with sqlite3.connect(tmp_path / "first.db") as first, sqlite3.connect(tmp_path / "back.db") as back:
            query = f"select * from [{table}] order by rowid"
            columns = [c[1] for c in first.execute(f"pragma table_info([{table}])")]
            keep = [n for n, c in enumerate(columns) if c not in ("folder", "file", "line")]
            rows = lambda conn: [tuple(row[n] for n in keep) for row in conn.execute(query)]  # noqa: E731
            assert rows(first) == rows(back), table
