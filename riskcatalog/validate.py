"""Check loaded YAML against schema.json, and say what is wrong the way a contributor needs it.

The JSON Schema serves editors (yaml-language-server) and this checker alike, and standard
Draft 2020-12 validators decide here what is wrong, so `make check` and the editor cannot
disagree: jsonschema-rs gives the verdict (a file that passes costs a fraction of a millisecond,
which matters for a city's 3,332 registers), and for a file that does not, jsonschema finds each
error. This module only words those errors: at the file, line and column of the value, with what
to do ("quote it", "did you mean", the form an id takes). tests/test_validate.py keeps the two
validators' verdicts, and the editor's, in step.
"""

from __future__ import annotations

import datetime
import difflib
import json
from collections import Counter
from functools import cache
from importlib import resources

import jsonschema_rs
from jsonschema import Draft202012Validator, ValidationError

from .errors import CatalogError
from .formulas import formula_sign
from .yamlload import Document, number_form

#: The schema ships inside the package, so an installed copy validates without a checkout.
SCHEMA = resources.files(__package__) / "schema.json"

#: Keywords that judge one value; at most one of them is reported per value, the first here.
VALUE_KEYWORDS = ("type", "enum", "minLength", "maxLength", "pattern", "format", "minimum", "maximum")
#: Fields that go together, each pair with what to do when one is missing: ratings, and a risk's placement.
TOGETHER = {("likelihood", "impact"): "give likelihood and impact together, or neither",
            ("power", "steps"): "a risk stands on steps of a power: give power and steps together, or neither"}


@cache
def load_schema() -> dict:
    return json.loads(SCHEMA.read_text(encoding="utf-8"))


def resolve(rule: dict) -> dict:
    """Follow $ref links to the rule they name (for fmt, which orders keys as the schema does)."""
    while "$ref" in rule:
        rule = load_schema()["$defs"][rule["$ref"].rsplit("/", 1)[1]]
    return rule


@cache
def validator(definition: str, english: bool = True) -> Draft202012Validator:
    """A validator for one of the schema's definitions (register_file, sources_file, area_file).

    Its $refs are written out in place first: the same rules, but jsonschema then spends half the
    time on a register (resolving a reference costs more than the check it leads to). Without
    english (a register kept in Chinese only, `languages: [zh]`), no Chinese text needs its English.
    """
    rule = _inlined({"$ref": f"#/$defs/{definition}"})
    return Draft202012Validator(rule if english else _chinese_only(rule),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


@cache
def verdict(definition: str, english: bool = True) -> jsonschema_rs.Draft202012Validator:
    """The fast validator of the same rules as validator(definition, english)."""
    return jsonschema_rs.Draft202012Validator(validator(definition, english).schema, validate_formats=True)


def passes(data: object, definition: str, english: bool = True) -> bool:
    """Whether data passes the schema, by jsonschema-rs; False also for a value it cannot read
    (a date or a number YAML made of an unquoted value), which jsonschema then words."""
    try:
        return verdict(definition, english).is_valid(data)
    except (ValueError, TypeError, OverflowError):
        return False


def _chinese_only(rule):
    """rule less every "a Chinese text needs its English" pair of dependentRequired."""
    if isinstance(rule, list):
        return [_chinese_only(item) for item in rule]
    if not isinstance(rule, dict):
        return rule
    return {key: ({k: v for k, v in value.items() if not _is_chinese(k)} if key == "dependentRequired"
                  else _chinese_only(value)) for key, value in rule.items()}


def _is_chinese(field: str) -> bool:
    return field == "zh" or field.endswith("_zh")


def _inlined(rule):
    """rule with every $ref replaced by the definition it names, merged with the annotations beside it."""
    if isinstance(rule, list):
        return [_inlined(item) for item in rule]
    if not isinstance(rule, dict):
        return rule
    if "$ref" not in rule:
        return {key: _inlined(value) for key, value in rule.items()}
    beside = {key: value for key, value in rule.items() if key != "$ref"}
    if beside.keys() - {"description", "title"}:  # only annotations merge without changing the rules
        raise ValueError(f"schema.json: keywords beside $ref would change its meaning: {sorted(beside)}")
    # The definition's own description (a form hint such as "PREFIX-NN (e.g. LAND-01)") wins.
    return {**beside, **_inlined(resolve(rule))}


def check(doc: Document, definition: str, english: bool = True) -> list[CatalogError]:
    """All schema errors of doc against $defs/definition, located and worded."""
    if passes(doc.data, definition, english):
        return _number_forms(doc, set(), set()) + _formulas(doc, set(), set())
    errors: list[CatalogError] = []
    judged: set[tuple] = set()  # (path, what) already worded: one value-level message per value
    unknown: set[tuple] = set()  # fields refused as unknown: nothing inside them is judged again
    for error in sorted(validator(definition, english).iter_errors(doc.data), key=_priority):
        path = tuple(error.absolute_path)
        judged.add((path, "any"))
        if error.validator == "additionalProperties":
            unknown |= {path + (key,) for key in error.instance if key not in error.schema.get("properties", {})}
        # jsonschema reports each missing field apart; _worded names them all at once.
        what = "value" if error.validator in VALUE_KEYWORDS or error.instance is None else error.validator
        if what in ("value", "required", "dependentRequired"):
            if (path, what) in judged:
                continue
            judged.add((path, what))
        errors.extend(_worded(error, path, doc))
    return errors + _number_forms(doc, judged, unknown) + _formulas(doc, judged, unknown)


def _number_forms(doc: Document, judged: set[tuple], unknown: set[tuple]) -> list[CatalogError]:
    """Numbers the schema accepts but not written as plain decimals: YAML 1.1 reads 063 as 51 and
    1:30 as 90, which neither an editor (YAML 1.2) nor a reader expects."""
    errors = []
    for path, text in doc.texts.items():
        value = doc.value(path)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (path, "any") in judged:
            continue
        if any(path[:n] in unknown for n in range(1, len(path) + 1)):
            continue
        form = number_form(text)
        if form:
            errors.append(doc.error(path, f"{text!r} is read as {value} ({form}) — write it as a plain decimal"))
    return errors


def _formulas(doc: Document, judged: set[tuple], unknown: set[tuple]) -> list[CatalogError]:
    """Text a spreadsheet would read as a formula (riskcatalog.formulas): every field reaches the
    登记表 and the site's downloads, where Excel or WPS would run it. Only the texts the loader noted
    as beginning with a sign or a blank need a look (doc.signed)."""
    errors = []
    for path in doc.signed:
        text = doc.value(path)
        sign = formula_sign(text)
        if sign is None or (path, "any") in judged or any(path[:n] in unknown for n in range(1, len(path) + 1)):
            continue
        shown = text if len(text) <= 40 else text[:40] + "…"
        errors.append(doc.error(path, f"{shown!r} begins with {sign!r}, which a spreadsheet reads as a formula "
                                      "— start the text with a word (drop a leading list marker, write a sign in "
                                      "words)"))
    return errors


def _priority(error: ValidationError) -> tuple:
    keyword = error.validator
    rank = VALUE_KEYWORDS.index(keyword) if keyword in VALUE_KEYWORDS else len(VALUE_KEYWORDS)
    return tuple(map(str, error.absolute_path)), rank


def _worded(error: ValidationError, path: tuple, doc: Document) -> list[CatalogError]:
    """One or more located messages for one jsonschema error."""
    keyword, value, rule = error.validator, error.instance, error.schema
    at = lambda message: [doc.error(path, message)]  # noqa: E731
    if value is None:
        return at("no value — fill it in")
    if keyword == "type":
        return at(_wrong_type(rule["type"], value, doc.texts.get(path)))
    if keyword == "enum":
        choices = ", ".join(c if isinstance(c, str) else _shown(c) for c in rule["enum"])
        return at(f"{_shown(value)} is not one of: {choices} — use one of these")
    if keyword == "minLength" or (keyword == "pattern" and not value.strip()):
        return at("empty text — fill it in")
    if keyword == "pattern":
        form = rule.get("description", rule["pattern"])
        return at(f"{value!r} is not of the form {form} — rewrite it in that form")
    if keyword == "maxLength":
        return at(f"text of {len(value):,} characters is too long: at most {rule['maxLength']:,} — shorten it, "
                  "or move the detail to another field")
    if keyword == "format":
        return at(f"{value!r} is not a real date — give a date that exists")
    if keyword in ("minimum", "maximum"):
        return at(f"{value} is outside {rule.get('minimum', '')}–{rule.get('maximum', '')} — use a value in that range")
    if keyword == "required":
        return [doc.error(path, f"missing field {key!r} — add it") for key in rule["required"] if key not in value]
    if keyword == "dependentRequired":
        return [doc.error(path, f"missing field {needed!r} — " + _together(key))
                for key, needs in rule["dependentRequired"].items() if key in value
                for needed in needs if needed not in value]
    if keyword == "additionalProperties":
        allowed = rule.get("properties", {})
        return [doc.error(path + (key, "__key__"), f"unknown field {key!r} — {_guess(key, allowed)}")
                for key in value if key not in allowed]
    if keyword == "minItems":
        return at(f"needs at least {rule['minItems']} item(s) — add them")
    if keyword == "maxItems":
        return at(f"{len(value):,} items are too many: at most {rule['maxItems']:,} — split the entry or remove some")
    if keyword == "uniqueItems":
        return [doc.error(path + (index,), f"{item!r} is listed twice — remove one")
                for index, item in _repeats(value)]
    # A keyword this module has no words for yet still stops the build, in jsonschema's words.
    return at(f"{error.message} — see schema.json")


def _together(key: str) -> str:
    """What to do about a field missing beside key: give the pair together, or simply add it."""
    return next((advice for pair, advice in TOGETHER.items() if key in pair), "add it")


def _shown(value) -> str:
    """A value as a message quotes it: text in quotes, a list as it is written in YAML."""
    return json.dumps(value, ensure_ascii=False).replace('"', "") if isinstance(value, list) else repr(value)


def _wrong_type(expected: str, value, text: str | None) -> str:
    found = _describe(value, text)
    if expected == "string":
        hint = f' — quote it: "{text}"' if text is not None else " — write text here"
        return f"expected text, but {found}{hint}"
    if expected == "integer":
        return f"expected a whole number, but {found} — write a whole number"
    if expected == "object":
        return f"expected a mapping of fields, {found} — write `field: value` lines"
    return f"expected a list, {found} — write one `- item` line per item"


def _describe(value, text: str | None) -> str:
    kinds = {bool: "a yes/no value", int: "a number", float: "a number",
             datetime.date: "a date", datetime.datetime: "a date and time"}
    kind = kinds.get(type(value), type(value).__name__)
    return f"{text!r} is read as {kind}" if text is not None else f"got {kind}"


def _guess(key: str, allowed) -> str:
    guess = difflib.get_close_matches(key, allowed, n=1)
    return f"did you mean {guess[0]!r}?" if guess else f"allowed: {', '.join(allowed)}"


def _repeats(items: list) -> list[tuple[int, object]]:
    """(index, item) of every repeat of an earlier item."""
    seen: Counter = Counter()
    repeats = []
    for index, item in enumerate(items):
        key = json.dumps(item, sort_keys=True, default=str)
        if seen[key]:
            repeats.append((index, item))
        seen[key] += 1
    return repeats
