"""One interpreter of schema.json: `make check` and an editor using plain jsonschema agree."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap

import jsonschema
import pytest

from riskcatalog import validate
from riskcatalog.catalog import definition_of
from riskcatalog.errors import format_path
from riskcatalog.yamlload import load_text

from .conftest import CATALOG, MINI

ALPHA = textwrap.dedent(MINI["alpha.yml"])

#: (name, text to replace in the mini register's alpha.yml, replacement). Each breaks the schema.
BROKEN = [
    ("blank-text", "title_en: False travel claims", 'title_en: "   "'),
    ("empty-text", "title_en: False travel claims", 'title_en: ""'),
    ("no-value", "title_en: False travel claims", "title_en:"),
    ("yes-no-for-text", "title_en: False travel claims", "title_en: NO"),
    ("octal-for-text", "title_en: False travel claims", "title_en: 012"),
    ("sexagesimal-for-text", "title_en: False travel claims", "title_en: 12:30"),
    ("unquoted-date", 'reviewed: "2019-01-15"', "reviewed: 2019-01-15"),
    ("unreal-date", 'reviewed: "2019-01-15"', 'reviewed: "2019-02-30"'),
    ("date-of-another-form", 'reviewed: "2019-01-15"', 'reviewed: "2019/01/15"'),
    ("id-of-another-form", "id: AL-02", "id: al-02"),
    ("quoted-number", "likelihood: 4", 'likelihood: "4"'),
    ("out-of-range", "likelihood: 4", "likelihood: 7"),
    ("not-in-enum", "category: ethics", "category: morals"),
    ("empty-list", "measures: [AL-M03]", "measures: []"),
    ("listed-twice", "measures: [AL-M03]", "measures: [AL-M03, AL-M03]"),
    ("text-for-list", "measures: [AL-M03]", "measures: AL-M03"),
    ("list-for-text", "title_en: False travel claims", "title_en: [False travel claims]"),
    ("missing-field", "    post_en: Claimant\n", ""),
    ("unknown-field", "title_zh: 虚报冒领差旅费", "tittle_zh: 虚报冒领差旅费"),
    ("unknown-top-level-key", "area:\n", "notes: x\narea:\n"),
    ("manifestation-without-english", "        en: Extra days of travel claimed\n", ""),
    # Issue 14, item 10: `$` let Python's re (jsonschema) match before a final line break; JS editors did not.
    ("risk-id-with-final-line-break", "id: AL-02", 'id: "AL-02\\n"'),
    ("measure-id-with-final-line-break", "measures: [AL-M03]", 'measures: ["AL-M03\\n"]'),
    ("area-id-with-final-line-break", "id: alpha", 'id: "alpha\\n"'),
    ("date-with-final-line-break", 'reviewed: "2019-01-15"', 'reviewed: "2019-01-15\\n"'),
    # Item 7: dates from 1900 to 2100, so a review date plus its interval is always a date.
    ("date-after-2100", 'reviewed: "2019-01-15"', 'reviewed: "9999-12-01"'),
    ("date-before-1900", 'reviewed: "2019-01-15"', 'reviewed: "1899-12-31"'),
]


@pytest.fixture(scope="module")
def editor() -> jsonschema.Draft202012Validator:
    """What an editor does with the file: plain jsonschema, the schema's own formats checked."""
    schema = json.loads(validate.SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _area_file_errors(editor, data) -> set[str]:
    """The paths plain jsonschema finds wrong in an area file; an unknown field and a repeated item
    at their own paths, as check points at them."""
    area_file = editor.evolve(schema={**editor.schema, "$ref": "#/$defs/area_file", "anyOf": [{}]})
    paths = set()
    for error in area_file.iter_errors(data):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            paths |= {format_path(path + (key,)) for key in error.instance if key not in error.schema["properties"]}
        elif error.validator == "uniqueItems":
            paths |= {format_path(path + (n,)) for n, item in enumerate(error.instance) if item in error.instance[:n]}
        else:
            paths.add(format_path(path))
    return paths


@pytest.mark.parametrize("name, old, new", BROKEN, ids=[case[0] for case in BROKEN])
def test_editor_and_check_refuse_the_same_values(editor, name, old, new):
    """Both refuse the broken file, at the same places."""
    assert ALPHA.count(old) == 1
    doc, load_errors = load_text(ALPHA.replace(old, new), "alpha.yml")
    assert load_errors == []
    assert not editor.is_valid(doc.data)
    found = validate.check(doc, "area_file")
    assert found, name
    assert {error.path for error in found} == _area_file_errors(editor, doc.data)


@pytest.mark.parametrize("name, old, new", BROKEN, ids=[case[0] for case in BROKEN])
def test_both_validators_of_the_check_give_the_same_verdict(name, old, new):
    """jsonschema-rs (the verdict) and jsonschema (the words) agree on every broken file: a value
    jsonschema-rs cannot read counts as failing, so jsonschema then looks."""
    doc, _ = load_text(ALPHA.replace(old, new), "alpha.yml")
    python = validate.validator("area_file").is_valid(doc.data)
    assert validate.passes(doc.data, "area_file") == python is False


@pytest.mark.parametrize("path", sorted(CATALOG.glob("*.yml")), ids=lambda path: path.name)
def test_both_validators_pass_every_shipped_file(path):
    """Every file of the shipped catalogue passes both validators, in both language modes."""
    doc, _ = load_text(path.read_text(encoding="utf-8"), path.name)
    definition = definition_of(path.name)
    for english in (True, False):
        assert validate.passes(doc.data, definition, english)
        assert validate.validator(definition, english).is_valid(doc.data)


def test_editor_and_check_accept_the_same_file(editor):
    """The valid mini area file passes both."""
    doc, _ = load_text(ALPHA, "alpha.yml")
    assert editor.is_valid(doc.data) and validate.check(doc, "area_file") == []


def test_every_schema_keyword_has_words():
    """Each keyword the schema uses is one validate words itself, not jsonschema's fallback message."""
    worded = set(validate.VALUE_KEYWORDS) | {"required", "dependentRequired", "additionalProperties", "minItems", "maxItems",
                                             "uniqueItems"}
    structural = {"$schema", "$id", "$comment", "$defs", "$ref", "title", "description", "anyOf", "properties",
                  "items"}
    used = set()

    def walk(node):
        if isinstance(node, dict):
            used.update(node)
            for key, value in node.items():
                for child in (value.values() if key in ("properties", "$defs", "dependentRequired") else [value]):
                    walk(child)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(validate.load_schema())
    assert used - structural <= worded


def _patterns(node) -> list[dict]:
    """Every rule of the schema that has a pattern."""
    if isinstance(node, dict):
        return ([node] if "pattern" in node else []) + [rule for value in node.values() for rule in _patterns(value)]
    return [rule for value in node for rule in _patterns(value)] if isinstance(node, list) else []


@pytest.mark.parametrize("rule", [r for r in _patterns(validate.load_schema()) if "e.g." in r.get("description", "")],
                         ids=lambda rule: rule["pattern"])
def test_patterns_match_whole_values_in_python_and_javascript(rule):
    """Each anchored pattern accepts its own example and refuses it with a final line break, read as
    Python's re.search reads it (jsonschema, make check) and as JavaScript does (editors: there `$` is
    the end of the text, Python's \\Z)."""
    example = re.search(r'e\.g\. "?([^")]+)', rule["description"])[1]
    as_javascript = rule["pattern"].replace("$", r"\Z")
    for value, matches in ((example, True), (example + "\n", False)):
        assert bool(re.search(rule["pattern"], value)) is matches
        assert bool(re.search(as_javascript, value)) is matches


def test_patterns_read_by_javascript_itself_agree():
    """The same, asked of Node's RegExp (the engine of yaml-language-server) where Node is installed."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    rules = [r for r in _patterns(validate.load_schema()) if "e.g." in r.get("description", "")]
    cases = [[r["pattern"], value] for r in rules
             for example in [re.search(r'e\.g\. "?([^")]+)', r["description"])[1]] for value in (example, example + "\n")]
    script = "const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));" \
             "console.log(JSON.stringify(cases.map(([p, v]) => new RegExp(p, 'u').test(v))));"
    done = subprocess.run([node, "-e", script], input=json.dumps(cases), capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [bool(re.search(pattern, value)) for pattern, value in cases]
    assert json.loads(done.stdout) == [True, False] * len(rules)
