"""build.py: the database's schema, keys, counts, determinism, atomicity and Chinese search."""

from __future__ import annotations

import re
import sqlite3

import pytest
import sqlite_utils

from riskcatalog import build as build_db, tables, thesaurus
from riskcatalog.catalog import level_for, load_register
from riskcatalog.cli import main
from riskcatalog.compile import found_by
from riskcatalog.db import SUMMARIES
from riskcatalog.search import to_simplified
from riskcatalog.tables import SEARCHED

from .conftest import CATALOG, copy_catalog


@pytest.fixture(scope="module")
def database(catalog_db):
    return sqlite_utils.Database(catalog_db)


@pytest.fixture(scope="module")
def register():
    return load_register(CATALOG)


#: The schema SQL users and the site rely on, written out here rather than read from
#: riskcatalog.tables, so a change there that breaks them fails this test.
EXPECTED_KEYS = {
    "units": (["id"], {("provenance_source", "sources", "key")}),
    "unit_levels": (["unit", "level"], {("unit", "units", "id"), ("level", "levels", "id")}),
    "sources": (["key"], {("unit", "units", "id"), ("kind", "source_kinds", "id")}),
    "areas": (["key"], {("unit", "units", "id")}),
    "risks": (["key"], {("unit", "units", "id"), ("area", "areas", "key"), ("category", "categories", "id"),
                        ("level", "levels", "id"), ("replaced_by", "risks", "key")}),
    "measures": (["key"], {("unit", "units", "id"), ("area", "areas", "key"), ("type", "measure_types", "id"),
                           ("nature", "natures", "id"), ("replaced_by", "measures", "key")}),
    "risk_measures": (["risk", "measure"], {("risk", "risks", "key"), ("measure", "measures", "key")}),
    "risk_sources": (["risk", "source"], {("risk", "risks", "key"), ("source", "sources", "key")}),
    "measure_sources": (["measure", "source"], {("measure", "measures", "key"), ("source", "sources", "key")}),
    "levels": (["id"], set()),
    "heatmap": (["likelihood", "impact"], {("level", "levels", "id")}),
}


@pytest.mark.parametrize("name", EXPECTED_KEYS)
def test_tables_keys_and_foreign_keys_are_those_sql_users_rely_on(database, name):
    """Each table has the primary key and foreign keys the README's queries and the site join on."""
    pks, foreign_keys = EXPECTED_KEYS[name]
    table = database[name]
    assert table.pks == pks
    assert {(fk.column, fk.other_table, fk.other_column) for fk in table.foreign_keys} >= foreign_keys


def test_readme_example_queries_run_and_return_rows(database):
    """Every SQL example in the README runs against the built database and returns rows."""
    readme = (CATALOG.parent / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sql\n(.*?)```", readme, re.S).group(1)
    statements = ["\n".join(line for line in chunk.splitlines() if not line.lstrip().startswith("--")).strip()
                  for chunk in block.split(";")]
    statements = [statement for statement in statements if statement]
    assert len(statements) >= 4
    for statement in statements:
        assert database.execute(statement).fetchall(), statement


def test_every_foreign_key_is_indexed(database):
    """Each foreign-key column leads an index (or the primary key), so joins and facets stay fast."""
    for name in database.table_names():
        table = database[name]
        leading = {index.columns[0] for index in table.indexes} | {table.pks[0]}
        assert {fk.column for fk in table.foreign_keys} <= leading, name


def test_required_columns_are_not_null(database):
    """A column is NOT NULL exactly where the field registry says a register always gives it: every English
    text may be empty, and so may every field a register may leave out."""
    for name in EXPECTED_KEYS:
        for column in database[name].columns:
            assert column.notnull == (not tables.nullable(name, column.name)), (name, column.name)
    risks = database["risks"].columns_dict
    assert risks["likelihood"] is int
    notnull = {c.name for c in database["risks"].columns if c.notnull}
    assert {"key", "unit", "id", "title_zh", "level", "measure_ids", "reviewed", "status"} <= notnull
    assert not {"title_en", "supervisor_zh", "likelihood", "score", "category"} & notnull
    assert {c.name for c in database["levels"].columns if not c.notnull} == {"label_en"}


def test_integrity_and_foreign_key_checks_pass(database):
    """PRAGMA foreign_key_check is empty and integrity_check is ok."""
    assert database.execute("pragma foreign_key_check").fetchall() == []
    assert database.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_row_counts_match_the_yaml(database, register):
    """Rows in every table match the entries and links in the YAML."""
    risks, measures = list(register.risks()), list(register.measures())
    assert database["risks"].count == len(risks) == 51
    assert database["measures"].count == len(measures) == 78
    assert database["areas"].count == 8
    assert database["sources"].count == len(register.sources)
    assert database["risk_measures"].count == sum(len(r["measures"]) for r in risks)
    assert database["risk_sources"].count == sum(len(r["sources"]) for r in risks)
    assert database["measure_sources"].count == sum(len(m.get("sources", [])) for m in measures)
    assert database["register"].count == 51


def test_records_keep_their_file_and_line(database):
    """Each risk row names the YAML file and the line its entry starts on."""
    row = next(database["risks"].rows_where("key = ?", ["yijia-LAND-01"]))
    lines = (CATALOG / "land.yml").read_text(encoding="utf-8").splitlines()
    assert row["file"] == "catalog/land.yml"
    assert lines[row["line"] - 1].strip() == "- id: LAND-01"


def test_json_arrays_mirror_the_link_table(database):
    """measure_ids, risk_ids and area_ids agree with risk_measures, for _facet_array."""
    links = database.execute("select r.id, m.id, m.key from risk_measures rm join risks r on r.key = rm.risk "
                             "join measures m on m.key = rm.measure order by rm.risk, rm.position").fetchall()
    for risk in database["risks"].rows:
        assert risk["measure_ids"] == __import__("json").dumps([m for r, m, _ in links if r == risk["id"]])
    register = next(database["measures"].rows_where("key = ?", ["yijia-CASE-M01"]))
    assert len(__import__("json").loads(register["area_ids"])) >= 4


def test_register_view_has_the_chinese_layout(database):
    """The register view's columns are those of a Chinese register, rows in register order."""
    columns = [c.name for c in database["register"].columns]
    assert columns == ["单位", "序号", "领域", "编号", "岗位", "职权事项", "流程环节", "风险点", "表现形式", "风险等级", "防控措施",
                       "直接责任人", "责任领导", "监督主体", "依据", "_risk"]
    first = next(database["register"].rows)
    assert (first["序号"], first["编号"], first["领域"]) == (1, "LAND-01", "国有土地征收")
    # The items of one cell numbered ①②…, one per line, with no doubled punctuation between them.
    items = first["表现形式"].split("\n")
    assert len(items) >= 2 and [item[0] for item in items] == ["①②③④⑤⑥"[n] for n in range(len(items))]
    assert "。；" not in first["表现形式"] and first["防控措施"].startswith("① LAND-M")


def test_two_builds_give_the_same_dump(tmp_path):
    """The same catalogue compiles to the same content every time."""
    dumps = []
    for n in (1, 2):
        path = tmp_path / f"b{n}" / "catalog.db"
        path.parent.mkdir()
        build_db.build([CATALOG], path, commit="fixed")
        dumps.append(sorted(sqlite3.connect(path).iterdump()))
    assert dumps[0] == dumps[1]


def test_a_second_register_loads_beside_the_first_with_clashing_ids(tmp_path, register):
    """Two registers may both have LAND-01; the unit in the key keeps them apart."""
    second = copy_catalog(tmp_path / "second")
    text = (second / "register.yml").read_text(encoding="utf-8")
    (second / "register.yml").write_text(text.replace("id: yijia", "id: hanzheng").replace("易家街道", "汉正街道"),
                                         encoding="utf-8")
    output = tmp_path / "catalog.db"
    assert main([str(CATALOG), str(second), "-o", str(output)]) == 0
    database = sqlite_utils.Database(output)
    assert database["units"].count == 2 and database["risks"].count == 102
    assert [r["key"] for r in database["risks"].rows_where("id = ?", ["LAND-01"], order_by="key")] == [
        "hanzheng-LAND-01", "yijia-LAND-01"]
    assert database.execute("pragma foreign_key_check").fetchall() == []
    land = next(database["area_summary"].rows_where("id = 'land'"))
    assert (land["units"], land["risks"]) == (2, 2 * len(next(a for a in register.areas
                                                          if a.record["id"] == "land").risks))
    assert sum(r["risks"] for r in database["area_summary"].rows) == 102
    assert sum(r["risks"] for r in database["heatmap"].rows) == 102


def test_summaries_count_the_active_risks_and_measures(database, register):
    """area_summary and heatmap, computed at build time, agree with the YAML entries."""
    active = [(area.record["id"], r) for area in register.areas for r in area.risks
              if r.get("status", "active") == "active"]
    for row in database["area_summary"].rows:
        risks = [r for area_id, r in active if area_id == row["id"]]
        assert row["risks"] == len(risks) > 0, row["id"]
        assert [row[level] for level in ("high", "medium", "low")] == [
            sum(r["level"] == level for r in risks) for level in ("high", "medium", "low")], row["id"]
        area = next(a for a in register.areas if a.record["id"] == row["id"])
        assert row["measures"] == sum(m.get("status", "active") == "active" for m in area.measures) > 0
        assert row["units"] == 1
    cells = {(r["likelihood"], r["impact"]): r for r in database["heatmap"].rows}
    assert len(cells) == 25  # empty cells too, each with the level the matrix gives it
    for (likelihood, impact), cell in cells.items():
        assert cell["risks"] == sum((r["likelihood"], r["impact"]) == (likelihood, impact) for _, r in active)
        assert cell["level"] == level_for(likelihood * impact, register.register["levels"])


def test_same_unit_twice_is_an_error(tmp_path, capsys):
    """Two folders declaring the same unit are refused, pointing at the second unit id."""
    second = copy_catalog(tmp_path / "again")
    assert main([str(CATALOG), str(second), "-o", str(tmp_path / "catalog.db")]) == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        f"{second}/register.yml:5:7: unit.id: unit 'yijia' is also the unit of catalog/register.yml — "
        "give each register its own unit id")


def test_an_invalid_catalogue_leaves_the_previous_database_byte_identical(tmp_path, capsys):
    """A failed build exits 1 with the validator's message and keeps the old file and no temp files."""
    output = tmp_path / "catalog.db"
    assert main([str(CATALOG), "-o", str(output)]) == 0
    before = output.read_bytes()
    broken = copy_catalog(tmp_path / "broken")
    text = (broken / "land.yml").read_text(encoding="utf-8")
    (broken / "land.yml").write_text(text.replace("likelihood: ", "likelihood: x", 1), encoding="utf-8")
    capsys.readouterr()
    assert main([str(broken), "-o", str(output)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert re.fullmatch(rf"{broken}/land\.yml:\d+:\d+: risks\[0\]\.likelihood: expected a whole number, "
                        r"but got str — write a whole number", err[0])
    assert err[-1] == f"1 error(s); {output} is unchanged"
    assert output.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken", "catalog.db"]


def _expected(register, kind: str, pattern: str) -> set[str]:
    """Ids of entries whose searchable text matches pattern: the search must find exactly these."""
    entries = register.risks() if kind == "risks" else register.measures()
    also = found_by(register)
    found = set()
    for entry in entries:
        fields = {**entry, **also[(kind, entry["id"])],
                  "manifestations_zh": [m["zh"] for m in entry.get("manifestations", [])],
                  "manifestations_en": [m["en"] for m in entry.get("manifestations", [])]}
        values = [fields.get(name) for column in SEARCHED[kind].values() for name in column]
        text = " ".join(" ".join(v) if isinstance(v, list) else str(v or "") for v in values)
        if re.search(pattern, to_simplified(text), re.IGNORECASE):
            found.add(entry["id"])
    return found


def either(word: str, english: bool = False) -> str:
    """A pattern for word or any term the shipped thesaurus says a search for it also finds."""
    terms = [word, *thesaurus.shipped().also(word)]
    return "(" + "|".join(rf"\b{re.escape(t)}" if english else re.escape(t) for t in terms) + ")"


SEARCHES = [
    ("账", "账"),  # one character
    ("报销", either("报销")),  # two characters, or what the thesaurus gives for them (报账)
    ("報銷", either("报销")),  # Traditional input, Simplified text
    ("征收", either("征收")),
    ("信访", either("信访")),
    ("公示期", "公示期"),  # three characters
    # Four characters, the two words they are made of (in any order), or the thesaurus's terms.
    ("虚报冒领", f"{either('虚报冒领')}|(?=.*虚报)(?=.*冒领)"),
    # English: case and plural, or the thesaurus's terms for petition.
    ("Petitions", r"\bpetition(s|ed|ing)?\b|" + either("petition", english=True)),
    # Two words, both required; porter stems reimbursed/reimbursement alike.
    ("reimbursement claims", r"(?=.*\breimburs(e|es|ed|ing|ement|ements)\b)(?=.*\bclaim(s|ed|ing)?\b)"),
]


@pytest.mark.parametrize("kind", ["risks", "measures"])
@pytest.mark.parametrize("query,pattern", SEARCHES)
async def test_table_search_finds_exactly_the_matching_entries(ds, register, kind, query, pattern):
    """Datasette's table search (?_search=) returns exactly the entries containing the word (or, as the
    thesaurus says, another word for it)."""
    response = await ds.client.get(f"/catalog/{kind}.json", params={"_search": query, "_shape": "array",
                                                                     "_col": "id", "_size": "max"})
    assert response.status_code == 200
    assert {row["id"] for row in response.json()} == _expected(register, kind, pattern)


async def test_search_examples_from_the_issue(ds):
    """报销 finds the reimbursement risks, 征收 the land ones, 信访 the petition ones."""
    async def ids(word):
        response = await ds.client.get("/catalog/risks.json", params={"_search": word, "_shape": "array", "_col": "id"})
        return {row["id"] for row in response.json()}
    def count(prefix, found):
        return sum(i.startswith(prefix) for i in found)
    assert count("REIM-", await ids("报销")) >= 5
    assert count("LAND-", await ids("征收")) >= 5
    assert count("PET-", await ids("信访")) == 6
    assert await ids("報銷") == await ids("报销")
