"""The shipped catalogue: counts, links, levels, sources and schema agree with the issue's rules."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
import yaml

from riskcatalog import fields, vocab
from riskcatalog.catalog import level_for, load_register
from riskcatalog.cli import main
from riskcatalog.validate import SCHEMA

from .conftest import CATALOG, PROJECT_ROOT

AREAS = ["land", "village", "enterprise", "welfare", "reimbursement", "petitions", "cases", "workstyle"]


@pytest.fixture(scope="module")
def register():
    return load_register(CATALOG)


def test_check_prints_the_summary(capsys):
    """`build.py --check` passes on the shipped catalogue and prints the one-line summary."""
    assert main(["--check"]) == 0
    assert capsys.readouterr().out == "8 areas, 51 risks, 78 measures: OK\n"


def test_the_eight_areas_of_the_report_in_order(register):
    """The areas are the report's eight, in its order, each file named as its id."""
    assert [a.record["id"] for a in register.areas] == AREAS
    assert [a.record["name_zh"] for a in register.areas] == [
        "国有土地征收", "城中村改造", "企业改制", "惠民资金使用", "经费报销", "信访接谈", "办案程序", "工作作风"]
    assert all(a.doc.file.endswith(f"{a.record['id']}.yml") for a in register.areas)


def test_totals_are_51_risks_and_78_measures(register):
    """Exactly 51 risks and 78 measures, as Yijia Street's register."""
    assert len(list(register.risks())) == 51
    assert len(list(register.measures())) == 78
    assert register.register["totals"] == {"risks": 51, "measures": 78}


def test_every_area_has_at_least_four_risks(register):
    """No area is a token: each carries four or more risks."""
    assert min(len(a.risks) for a in register.areas) >= 4


def test_every_risk_has_a_measure_and_every_measure_a_risk(register):
    """The risk–measure link is complete in both directions."""
    measure_ids = {m["id"] for m in register.measures()}
    linked = Counter(m for r in register.risks() for m in r["measures"])
    assert all(r["measures"] for r in register.risks())
    assert set(linked) == measure_ids


def test_cross_cutting_measures_span_areas(register):
    """Collective decision and recusal are defined once and linked from several areas."""
    areas_of = {}
    for area in register.areas:
        for risk in area.risks:
            for m in risk["measures"]:
                areas_of.setdefault(m, set()).add(area.record["id"])
    assert len(areas_of["STYLE-M01"]) >= 2  # the sub-district's own decisions only (not the land or village ones)
    assert len(areas_of["CASE-M01"]) >= 4  # the one register of staff relatives, used wherever work is assigned


def test_levels_agree_with_the_matrix(register):
    """Each risk's level is the matrix's level for likelihood × impact."""
    levels = register.register["levels"]
    assert all(r["level"] == level_for(r["likelihood"] * r["impact"], levels) for r in register.risks())
    assert {r["level"] for r in register.risks()} == {"high", "medium", "low"}


def test_every_category_type_and_nature_is_used(register):
    """The catalogue uses the whole vocabulary, not one kind of risk or measure."""
    assert {r["category"] for r in register.risks()} == set(vocab.CATEGORIES)
    assert {m["type"] for m in register.measures()} == set(vocab.MEASURE_TYPES)
    assert {m["nature"] for m in register.measures()} == set(vocab.NATURES)


def test_no_two_entries_share_a_title(register):
    """No two risks or measures say the same thing under the same title."""
    for entries in (list(register.risks()), list(register.measures())):
        for lang in ("zh", "en"):
            titles = Counter(e[f"title_{lang}"] for e in entries)
            assert titles.most_common(1)[0][1] == 1


def _pairs(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


@pytest.mark.parametrize("kind", ["risks", "measures"])
def test_no_two_entries_say_nearly_the_same_thing(register, kind):
    """Chinese descriptions are specific: no two share more than a third of their character pairs,
    and none is a slogan-length line."""
    entries = list(getattr(register, kind)())
    pairs = {e["id"]: _pairs(e["description_zh"]) for e in entries}
    overlap = max((len(pairs[a] & pairs[b]) / len(pairs[a] | pairs[b]), a, b)
                  for i, a in enumerate(pairs) for b in list(pairs)[i + 1:])
    assert overlap[0] < 1 / 3, overlap
    assert min(len(e["description_zh"]) for e in entries) >= 40


#: Pairs a review found saying the same thing, since rewritten apart (issue 13).
FORMER_OVERLAPS = [("PET-01", "CASE-02"), ("REIM-04", "STYLE-03"), ("LAND-07", "STYLE-02")]


@pytest.mark.parametrize("first, second", FORMER_OVERLAPS)
def test_former_overlaps_are_distinct_risks(register, first, second):
    """Each pair now differs in title, post and power, and shares under a fifth of its description's pairs."""
    risks = {r["id"]: r for r in register.risks()}
    a, b = risks[first], risks[second]
    overlap = len(_pairs(a["description_zh"]) & _pairs(b["description_zh"])) / len(
        _pairs(a["description_zh"]) | _pairs(b["description_zh"]))
    assert overlap < 0.2, overlap
    assert a["title_zh"] != b["title_zh"] and a["power_zh"] != b["power_zh"]


def test_no_entry_cites_what_was_issued_after_its_review(register):
    """The register speaks as of January 2019: each citation was issued by the entry's review date
    (a measure's: the latest review of its risks); the 2022 petition rules and the 2019 revision of
    the information-disclosure rules are not cited at all."""
    sources = {s["id"]: s for s in register.sources}
    reviewed = {r["id"]: r["reviewed"] for r in register.risks()}
    for risk in register.risks():
        for measure_id in risk["measures"]:
            reviewed[measure_id] = max(reviewed.get(measure_id, ""), risk["reviewed"])
    for entry in [*register.risks(), *register.measures()]:
        for source_id in entry.get("sources", []):
            source = sources[source_id]
            issued = source.get("date") or f"{source['year']}-01-01"
            assert issued <= reviewed[entry["id"]], (entry["id"], source_id)
    titles = {s["title_zh"] + (s.get("number") or "") for s in register.sources}
    assert "信访工作条例" not in titles and not any("第711号" in t for t in titles)


def test_chinese_first_text_is_chinese(register):
    """Every _zh text contains Chinese characters and every _en text is mostly ASCII."""
    for entry in [*register.risks(), *register.measures()]:
        for key, value in entry.items():
            if key.endswith("_zh"):
                assert any("\u4e00" <= ch <= "\u9fff" for ch in value), (entry["id"], key)
            elif key.endswith("_en"):
                assert sum(ord(ch) < 128 for ch in value) / len(value) > 0.9, (entry["id"], key)


def test_sources_are_cited_and_the_report_is_the_provenance(register):
    """Every source is cited or is the report; the report is the 2019-01-29 Changjiang Daily piece."""
    cited = {s for e in [*register.risks(), *register.measures()] for s in e.get("sources", [])}
    sources = {s["id"]: s for s in register.sources}
    report = sources[register.register["provenance"]["source"]]
    assert (report["issuer_zh"], report["date"]) == ("长江日报", "2019-01-29")
    assert set(sources) - cited == {report["id"]}


def test_every_file_declares_the_schema_the_build_uses_for_editors():
    """Each YAML file opens with a yaml-language-server line naming the package's own schema.json."""
    for path in CATALOG.glob("*.yml"):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        assert (path.parent / first.split("=", 1)[1]).resolve() == Path(str(SCHEMA)).resolve(), path


def test_schema_is_valid_draft_2020_12_and_accepts_every_file():
    """schema.json is a valid JSON Schema and a generic validator accepts the shipped files."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in CATALOG.glob("*.yml"):
        assert not list(validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))), path


def test_schema_json_is_the_registry_written_out():
    """The committed schema.json is what the field registry generates (python -m riskcatalog.fields), so an
    editor, the validator and every other reader of the registry agree; its enums are the vocabularies."""
    assert SCHEMA.read_text(encoding="utf-8") == fields.schema_text()
    defs = json.loads(SCHEMA.read_text(encoding="utf-8"))["$defs"]
    assert defs["risk"]["properties"]["category"]["enum"] == list(vocab.CATEGORIES)
    assert defs["measure"]["properties"]["type"]["enum"] == list(vocab.MEASURE_TYPES)
    assert defs["risk"]["properties"]["level"]["enum"] == list(vocab.LEVELS)

def test_the_format_document_has_every_field_of_the_registry():
    """docs/catalog-format.md's field tables are the registry's (python -m riskcatalog.fields writes them), and
    they name every field a register may give, with its Chinese name."""
    text = (PROJECT_ROOT / "docs" / "catalog-format.md").read_text(encoding="utf-8")
    assert fields.format_document(text) == text
    for record in (fields.RISK, fields.MEASURE, fields.AREA, fields.SOURCE, fields.UNIT):
        for declared in record.yaml_fields:
            assert f"| {' '.join(f'`{key}`' for key in declared.keys)} | {declared.zh} |" in text, declared.name
