"""Every parameter a reader sends, read by one strict parser: a mistake is a 400 that says what to fix.

The catalogue's own pages declare their parameters here (SEARCH, CHANGES, REGISTER_WORKBOOK,
SHORT_ADDRESS) and read them with read(); the door (riskcatalog.site.limits) reads the
parameters of Datasette's pages that Datasette 0.65 would convert without checking
(datasette_refusal). The rules are the same everywhere:

- a number is ASCII digits only ("²" and "١" are digits to Python's str.isdigit, not to int),
  with a bounded count of them (int() of 5,000 digits raises) and a range;
- every value has a longest length, and none may hold a control character (NUL breaks an FTS
  query; the others are never typed);
- a parameter given more times than it may be is refused, not silently read once;
- a search has a longest length and a largest number of words (each word is work for the index).

Each refusal is worded in Chinese, then English, and names the parameter.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass

from ..fields import MEASURE, RISK
from ..search import typed_words

BAD_REQUEST = "请求有误 Bad request"
#: Control characters (C0 but tab, line feed and carriage return; DEL; C1): never typed by a reader.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Longest search, and most words in it: a search's cost grows with its words (each is a
#: lookup in the index; a single Chinese character is a prefix lookup). Measured in
#: docs/limits.md ("Searches and filters").
SEARCH_CHARS, SEARCH_WORDS = 100, 8
#: Digits a number may have: 18 stay within SQLite's 64-bit integers.
DIGITS = 18


class ParameterError(ValueError):
    """A parameter the page cannot read: 400 (riskcatalog.site.errors), the reason in Chinese, then English."""

    status = 400

    def __init__(self, zh: str, en: str):
        self.zh, self.en, self.message = zh, en, f"{zh}。Bad request: {en}"
        super().__init__(self.message)


@dataclass(frozen=True)
class Parameter:
    """One parameter of a page: its form and bounds.

    form: "text" (any text up to chars), "search" (text within SEARCH_CHARS and SEARCH_WORDS),
    "number" (ASCII digits, low–high), "date" (YYYY-MM-DD) or "choice" (one of choices,
    case-insensitive, given back as written in choices)."""

    name: str
    label_zh: str
    form: str = "text"
    chars: int = 64
    low: int = 1
    high: int = 10**6
    choices: tuple[str, ...] = ()
    #: Times it may be given: a list of them is read when more than one.
    times: int = 1


def read(args, parameters: tuple[Parameter, ...]) -> dict:
    """Each declared parameter's value from a request's args (Datasette's MultiParams): its text
    (stripped of spaces around it), "" when absent, a list for one that may be given many times.
    Raises ParameterError for the first that breaks its rule; other parameters are ignored."""
    values: dict = {}
    for parameter in parameters:
        given = args.getlist(parameter.name)
        if len(given) > parameter.times:
            raise ParameterError(f"参数 {_named(parameter)}最多给 {parameter.times} 个，"
                                 f"本次给了 {len(given)} 个",
                                 f"{parameter.name} may be given at most {parameter.times} time(s); "
                                 f"it was given {len(given)} times")
        read_values = [value_of(parameter, value) for value in given]
        values[parameter.name] = read_values if parameter.times > 1 else (read_values[0] if read_values else "")
    return values


def value_of(parameter: Parameter, value: str) -> str:
    """One value, checked against its parameter's rule and stripped; ParameterError if it breaks it."""
    name = _shown(parameter.name)
    limit = SEARCH_CHARS if parameter.form == "search" else parameter.chars
    if len(value) > limit:
        raise ParameterError(f"参数 {_named(parameter)}最多 {limit:,} 个字符，本次有 {len(value):,} 个",
                             f"{name} may have at most {limit:,} characters; this one has {len(value):,}")
    if CONTROL.search(value):
        raise ParameterError(f"参数 {_named(parameter)}含有控制字符（如 NUL），请删去",
                             f"{name} holds a control character (such as NUL); remove it")
    value = value.strip()
    if value and parameter.form == "number":
        number(parameter, value)
    elif value and parameter.form == "date":
        _date(parameter, value)
    elif value and parameter.form == "choice":
        value = _choice(parameter, value)
    elif parameter.form == "search":
        _words(name, value)
    return value


def number(parameter: Parameter, value: str) -> int:
    """value as a whole number within the parameter's range, written in ASCII digits."""
    if re.fullmatch(r"[0-9]{1,%d}" % DIGITS, value) and parameter.low <= int(value) <= parameter.high:
        return int(value)
    digits = len(str(parameter.high))
    if parameter.low == 0 and parameter.high == 10**digits - 1:
        zh, en = f"用数字 0–9 书写、最多 {digits} 位的整数", f"a whole number of at most {digits} digits 0–9"
    else:
        zh = f" {parameter.low} 到 {parameter.high:,} 的整数（用数字 0–9 书写）"
        en = f"a whole number {parameter.low}–{parameter.high:,} written with the digits 0–9"
    raise ParameterError(f"参数 {_named(parameter)}应为{zh}，而不是“{_shown(value)}”",
                         f"{_shown(parameter.name)} must be {en}, not {_shown(value)!r}")


def _named(parameter: Parameter) -> str:
    """The parameter as the Chinese messages name it: q（搜索词）."""
    name = _shown(parameter.name)
    return f"{name}（{parameter.label_zh}）" if parameter.label_zh else f"{name} "


def _date(parameter: Parameter, value: str) -> None:
    try:
        ok = datetime.date.fromisoformat(value).isoformat() == value
    except ValueError:
        ok = False
    if not ok:
        raise ParameterError(f"参数 {_named(parameter)}应为 YYYY-MM-DD 形式的日期，"
                             f"如 2019-05-01，而不是“{_shown(value)}”",
                             f"{parameter.name} must be a date written YYYY-MM-DD, not {_shown(value)!r}")


def _choice(parameter: Parameter, value: str) -> str:
    for choice in parameter.choices:
        if value.lower() == choice.lower():
            return choice
    listed = " 或 ".join(parameter.choices)
    raise ParameterError(f"参数 {_named(parameter)}只能是 {listed}，而不是“{_shown(value)}”",
                         f"{parameter.name} must be {' or '.join(parameter.choices)}, not {_shown(value)!r}")


def _words(name: str, text: str) -> None:
    """A search of at most SEARCH_WORDS words (as the index reads them), or ParameterError."""
    words = len(typed_words(text))
    if words > SEARCH_WORDS:
        raise ParameterError(f"搜索词最多 {SEARCH_WORDS} 个（以空格分隔），本次有 {words} 个，请减少一些",
                             f"a search ({name}) may have at most {SEARCH_WORDS} words; this one has {words}")


def _shown(value: str) -> str:
    """A refused value as a message quotes it: at most 40 characters of it."""
    return value if len(value) <= 40 else value[:40] + "…"


# --- the catalogue's own pages -----------------------------------------------------------------

#: An id, a key or a lookup value as the pages' links write them.
_ID = 200

SEARCH = (
    Parameter("q", "搜索词", "search"),
    Parameter("unit", "单位", chars=_ID), Parameter("area", "领域", chars=_ID),
    Parameter("level", RISK["level"].zh, chars=_ID), Parameter("category", RISK["category"].zh, chars=_ID),
    # Ratings are read here as numbers; the page says which are ratings (1–5) in its own words.
    Parameter("likelihood", RISK["likelihood"].zh, "number", low=0, high=999),
    Parameter("impact", RISK["impact"].zh, "number", low=0, high=999),
    Parameter("type", MEASURE["type"].zh, chars=_ID), Parameter("nature", MEASURE["nature"].zh, chars=_ID),
    Parameter("source", "依据", chars=_ID), Parameter("id", "编号", chars=_ID),
    Parameter("kind", "条目类别", "choice", choices=("risks", "measures", "sources")),
    Parameter("page", "页码", "number", high=10**6),
)

CHANGES = (
    Parameter("area", "领域", chars=_ID), Parameter("change", "修订类别", chars=_ID),
    Parameter("kind", "条目类别", chars=_ID), Parameter("since", "起始日期", "date"),
    Parameter("entry", "条目", chars=_ID), Parameter("revision", "修订", chars=_ID),
    Parameter("page", "页码", "number", high=10**6),
)

#: Registers one workbook may be asked for by id: a city's, at most.
WORKBOOK_UNITS = 5000
REGISTER_WORKBOOK = (
    Parameter("unit", "单位", chars=_ID, times=WORKBOOK_UNITS), Parameter("area", "领域", chars=_ID),
    Parameter("paper", "纸张", "choice", choices=("A4", "A3")),
)

#: The powers' pages and documents (/powers, /powers/<id>, /cards, /-/handbook.docx): the register.
POWERS = (Parameter("unit", "单位", chars=_ID),)
#: The risk cards (/cards, /-/cards.docx): the register, or one post.
CARDS = (*POWERS, Parameter("post", "岗位", chars=_ID))

#: The large-text switch (/-/text-size): the size chosen and the page to go back to, which may be any
#: page of the site, the SQL page too (its SQL up to 100,000 bytes, percent-encoded three characters
#: a byte, and a query string of 8,192: hardening.MAX_SQL_BYTES, limits.MAX_QUERY_CHARS).
TEXT_SIZE = (Parameter("size", "字号", "choice", choices=("large", "normal")),
             Parameter("next", "返回的页面", chars=3 * 100_000 + 8_192 + 1_000))

#: /catalog/risks/LAND-02: the id in the path.
SHORT_ADDRESS = Parameter("id", "编号", chars=40)


# --- Datasette's own pages (read by the door) --------------------------------------------------

#: Datasette's parameters it converts with int(): always, or once str.isdigit() says it may ("²"
#: passes isdigit, not int; nor do 5,000 digits). Filters are converted when they are digits too.
_WHOLE = ("_timelimit",)
_WHEN_DIGITS = ("_size", "_facet_size", "_ttl")
_NUMERIC_FILTERS = ("__gt", "__gte", "__lt", "__lte")
#: Characters of any other of Datasette's parameters but sql and _where (bounded as SQL).
DATASETTE_CHARS = 2000


def datasette_refusal(parameters: list[tuple[str, str]], view: bool) -> ParameterError | None:
    """The first of a Datasette page's parameters its own code would fail on (a 500 in
    Datasette 0.65), as the reader's error; None when all can be read. view: the page is a
    view's, whose _next is an offset (a number)."""
    for name, value in parameters:
        try:
            _datasette_value(name, value, view)
        except ParameterError as error:
            return error
    return None


def _datasette_value(name: str, value: str, view: bool) -> None:
    if name in ("sql", "_where"):
        return  # SQL: bounded by SQLite's statement limit, and prepared first (riskcatalog.site.planning)
    searched = name == "_search" or name.startswith("_search_")
    value_of(Parameter(name, "", "search" if searched else "text", chars=DATASETTE_CHARS), value)
    if name in _WHOLE or (name == "_next" and view) or (
            value.isdigit() and (name in _WHEN_DIGITS or name.endswith(_NUMERIC_FILTERS))):
        number(Parameter(name, "", "number", low=0, high=10**DIGITS - 1), value)
    elif name == "_through":
        _json_object(name, value, {"table": str, "column": str, "value": (str, int)})
    elif name.startswith("_facet") and value.startswith("{"):  # every _facet… parameter: a facet's JSON
        _json_object(name, value, {"column": str})


def _json_object(name: str, value: str, keys: dict[str, type | tuple[type, ...]]) -> None:
    """value as a JSON object with each of keys of its type (Datasette reads them unchecked)."""
    try:
        data = json.loads(value)
    except ValueError:
        data = None
    if not (isinstance(data, dict) and all(isinstance(data.get(key), kind) and not isinstance(data.get(key), bool)
                                           for key, kind in keys.items())):
        fields = "、".join(keys)
        raise ParameterError(f"参数 {name} 应为含有 {fields} 的 JSON 对象，如 "
                             + json.dumps({key: "…" for key in keys}, ensure_ascii=False),
                             f"{name} must be a JSON object with {', '.join(keys)}")
