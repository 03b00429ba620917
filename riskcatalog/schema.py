"""Check loaded YAML against catalog/schema.json with messages that say what to do.

The JSON Schema serves editors (yaml-language-server) and this checker alike, so the two
cannot drift. Only the keywords the schema uses are interpreted; a generic validator
would report "'NO' is not of type 'string'" where a contributor needs "quote it".
"""

from __future__ import annotations

import datetime
import difflib
import json
import re
from functools import cache

from . import PROJECT_ROOT
from .errors import CatalogError
from .yamlload import Document

SCHEMA_PATH = PROJECT_ROOT / "catalog" / "schema.json"

#: What a value matching each named definition looks like, for pattern errors.
FORM_HINTS = {
    "slug": "lower-case letters, digits and hyphens (e.g. land)",
    "date": 'a quoted date like "2019-01-15"',
    "risk_id": "PREFIX-NN (e.g. LAND-01)",
    "measure_id": "PREFIX-MNN (e.g. LAND-M01)",
}


@cache
def load_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def check(doc: Document, definition: str) -> list[CatalogError]:
    """All schema errors of doc against $defs/definition."""
    errors: list[CatalogError] = []
    _check(doc.data, {"$ref": f"#/$defs/{definition}"}, (), doc, errors, None)
    return errors


def _resolve(rule: dict, name: str | None) -> tuple[dict, str | None]:
    while "$ref" in rule:
        name = rule["$ref"].rsplit("/", 1)[1]
        rule = load_schema()["$defs"][name]
    return rule, name


def _describe(value, text: str | None) -> str:
    kinds = {bool: "a yes/no value", int: "a number", float: "a number",
             datetime.date: "a date", datetime.datetime: "a date and time"}
    kind = kinds.get(type(value), type(value).__name__)
    return f"{text!r} is read as {kind}" if text is not None else f"got {kind}"


def _check(value, rule: dict, path: tuple, doc: Document, errors: list, name: str | None) -> None:
    rule, name = _resolve(rule, name)
    fail = lambda message: errors.append(doc.error(path, message))  # noqa: E731
    if value is None:
        fail("no value — fill it in")
        return
    if "enum" in rule:
        if value not in rule["enum"]:
            fail(f"{value!r} is not one of: {', '.join(rule['enum'])} — use one of these")
        return
    kind = rule.get("type")
    if kind == "object":
        _check_object(value, rule, path, doc, errors, fail)
    elif kind == "array":
        _check_array(value, rule, path, doc, errors, fail)
    elif kind == "string":
        if not isinstance(value, str):
            text = doc.texts.get(path)
            hint = f' — quote it: "{text}"' if text is not None else " — write text here"
            fail(f"expected text, but {_describe(value, text)}{hint}")
        elif len(value.strip()) < rule.get("minLength", 0):
            fail("empty text — fill it in")
        elif "pattern" in rule and not _matches(rule["pattern"], value):
            fail(f"{value!r} is not of the form {FORM_HINTS.get(name, rule['pattern'])} — rewrite it in that form")
        elif name == "date" and not _is_date(value):
            fail(f"{value!r} is not a real date — give a date that exists")
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            fail(f"expected a whole number, but {_describe(value, doc.texts.get(path))} — write a whole number")
        elif not rule.get("minimum", value) <= value <= rule.get("maximum", value):
            fail(f"{value} is outside {rule.get('minimum', '')}–{rule.get('maximum', '')} — use a value in that range")


def _check_object(value, rule, path, doc, errors, fail) -> None:
    if not isinstance(value, dict):
        fail(f"expected a mapping of fields, {_describe(value, doc.texts.get(path))} — write `field: value` lines")
        return
    properties = rule["properties"]
    for key in rule.get("required", []):
        if key not in value:
            fail(f"missing field {key!r} — add it")
    for key, item in value.items():
        if key in properties:
            _check(item, properties[key], path + (key,), doc, errors, None)
        else:
            guess = difflib.get_close_matches(key, properties, n=1)
            hint = f"did you mean {guess[0]!r}?" if guess else f"allowed: {', '.join(properties)}"
            errors.append(doc.error(path + (key, "__key__"), f"unknown field {key!r} — {hint}"))


def _check_array(value, rule, path, doc, errors, fail) -> None:
    if not isinstance(value, list):
        fail(f"expected a list, {_describe(value, doc.texts.get(path))} — write one `- item` line per item")
        return
    if len(value) < rule.get("minItems", 0):
        fail(f"needs at least {rule['minItems']} item(s) — add them")
    seen = set()
    for index, item in enumerate(value):
        if rule.get("uniqueItems") and isinstance(item, str):
            if item in seen:
                errors.append(doc.error(path + (index,), f"{item!r} is listed twice — remove one"))
            seen.add(item)
        _check(item, rule["items"], path + (index,), doc, errors, None)


def _matches(pattern: str, value: str) -> bool:
    return re.search(pattern, value) is not None  # re caches compiled patterns


def _is_date(value: str) -> bool:
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True
