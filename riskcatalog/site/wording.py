"""The words Datasette's own pages show readers: table titles, column labels, query parameters.

They come from the catalogue's metadata (catalogue.yml, under a deployment's metadata.yml): each
table's `title` ("风险点 Risks") and each column's description, which starts with its Chinese label
and continues in English ("风险点（英文）Risk (English)").
"""

from __future__ import annotations

import datetime
import re

from markupsafe import Markup, escape

from .datasette_adapter import table_metadata, tables_metadata

#: A column description: its Chinese label, then its English text.
_LABELLED = re.compile(r"^([^A-Za-z]*[^\x00-\x7f])\s*([A-Za-z].*)$")

#: A Chinese character or punctuation mark (CJK, full-width forms).
_CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
#: Where an English passage may begin: a Latin letter (or an opening quote or bracket before one)
#: after Chinese, with or without a space between.
_ENGLISH_START = re.compile(rf"(?<={_CHINESE.pattern})(\s*)(?=[\"'(]?[A-Za-z])")

#: Parameters of the canned queries, as a reader fills them in: (Chinese, English, check).
PARAMETERS = {
    "as_of": ("评估基准日", "As of (YYYY-MM-DD; blank = today)", "date"),
    "since": ("起始日期", "Since (YYYY-MM-DD; blank = from the start)", "date"),
    "until": ("截止日期", "Until (YYYY-MM-DD; blank = to date)", "date"),
}


async def titles(datasette, database: str) -> dict[str, str]:
    """Each table's title ("风险点 Risks"), for headings and breadcrumbs."""
    tables = await tables_metadata(datasette, database)
    return {name: meta["title"] for name, meta in tables.items() if meta.get("title")}


async def column_labels(datasette, database: str, table: str) -> dict[str, tuple[str, str]]:
    """column -> (Chinese label, English text), from the column descriptions."""
    described = (await table_metadata(datasette, database, table)).get("columns") or {}
    labels = {}
    for column, description in described.items():
        match = _LABELLED.match(description)
        labels[column] = (match.group(1), match.group(2)) if match else (column, description)
    return labels


def split_languages(text: str) -> tuple[str, str, str]:
    """A title, description or message written Chinese first, English after ("各领域风险等级分布 Risks by
    area and level") as (Chinese, the space between, English), so that a screen reader speaks each
    in its own voice. The English starts at the first Latin letter after Chinese from which the rest
    reads as English: no Chinese in its first twelve characters and a fifth or less after (a Chinese
    sentence may name register.yml; an English one may quote 二级). Text without Chinese is all English;
    text without a Latin letter (a number, a date) is neither."""
    if not re.search("[A-Za-z]", text):
        return text, "", ""
    if not _CHINESE.search(text):
        return "", "", text
    for start in _ENGLISH_START.finditer(text):
        rest = text[start.end():]
        if not _CHINESE.search(rest[:12]) and 5 * len(_CHINESE.findall(rest)) <= len(rest):
            return text[:start.start()], start.group(1), rest
    return text, "", ""


def bilingual(text) -> Markup:
    """The template filter: the English part of text in <span lang="en"> (split_languages); markup
    already made (a message with a link in it) is left as it is."""
    if isinstance(text, Markup):
        return text
    zh, space, en = split_languages("" if text is None else str(text))
    return escape(zh) + escape(space) + (Markup('<span lang="en">%s</span>') % en if en else "")


def parameter_errors(request) -> list[str]:
    """What is wrong with the reader's query parameters, in Chinese and English."""
    errors = []
    for name, (label_zh, label_en, check) in PARAMETERS.items():
        value = request.args.get(name, "").strip()
        if value and check == "date" and not _is_date(value):
            errors.append(f"{label_zh}“{value}”不是有效日期，请按 YYYY-MM-DD 填写，如 2019-05-01；留空即今天。"
                          f"{label_en.split(' (')[0]} '{value}' is not a date: write it as YYYY-MM-DD.")
    return errors


def _is_date(value: str) -> bool:
    try:
        return datetime.date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False
