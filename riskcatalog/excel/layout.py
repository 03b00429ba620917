"""The workbook's sheets and columns, shared by the export and the importer so the two stay in step.

The first sheet, 登记表, is the register as units print it. The field sheets after it hold every
field of the YAML, one row per entry: a Chinese heading in the first row, the field's name in the
second (English, and what the importer reads), so a workbook carries a register without loss.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import vocab

REGISTER_SHEET = "登记表"
#: Rows above the 登记表's heading: the title, then the unit and date.
TITLE_ROWS = 2
#: Rows of a field sheet's heading: Chinese, then the field name.
FIELD_HEADER_ROWS = 2


@dataclass(frozen=True)
class Column:
    """One column: the field it holds, its Chinese heading and its width in characters."""

    field: str
    zh: str
    width: int = 14


#: The 登记表's columns, in the Chinese layout; `unit` only in a workbook of several registers.
REGISTER_COLUMNS = [
    Column("unit", "单位", 12), Column("seq", "序号", 6), Column("area", "领域", 12), Column("post", "岗位", 16),
    Column("power", "职权事项", 18), Column("title", "风险点", 24), Column("manifestations", "表现形式", 40),
    Column("level", "风险等级", 8), Column("measures", "防控措施", 44),
    Column("responsible_post", "直接责任人", 14), Column("responsible_leader", "责任领导", 14),
    Column("supervisor", "监督主体", 16), Column("sources", "依据", 28),
]


def _pair(field: str, zh: str, width: int = 24) -> list[Column]:
    """A text field's Chinese and English columns."""
    return [Column(f"{field}_zh", zh, width), Column(f"{field}_en", f"{zh}（英文）", width)]


UNIT = Column("unit", "单位", 10)

#: Sheet -> its columns. Enumerated values are written as their Chinese labels (VOCABULARIES);
#: lists one item a line, manifestations numbered.
FIELD_SHEETS: dict[str, list[Column]] = {
    "单位": [Column("id", "单位标识", 12), *_pair("name", "单位名称", 16), *_pair("district", "所在区", 12),
             *_pair("city", "所在市", 10), Column("languages", "登记语言", 10),
             Column("provenance_source", "来源依据", 16), *_pair("provenance_note", "来源说明", 40),
             Column("baseline_date", "基线日期", 12), Column("baseline_commit", "基线提交", 12),
             *_pair("baseline_note", "基线说明", 40)],
    "风险等级": [UNIT, Column("level", "风险等级", 10), Column("min_score", "最低分值", 10),
                 Column("review_days", "评估周期（天）", 12)],
    "领域": [UNIT, Column("id", "领域标识", 14), *_pair("name", "领域", 18), *_pair("description", "领域说明", 40)],
    "风险点": [UNIT, Column("area", "领域标识", 12), Column("id", "编号", 10), *_pair("title", "风险点", 28),
               *_pair("description", "风险描述", 40), *_pair("post", "岗位", 18), *_pair("power", "职权事项", 20),
               Column("category", "风险类别", 12), *_pair("manifestations", "表现形式", 40),
               Column("likelihood", "可能性", 8), Column("impact", "影响", 8), Column("level", "风险等级", 8),
               *_pair("responsible_post", "直接责任人", 16), *_pair("responsible_leader", "责任领导", 16),
               *_pair("supervisor", "监督主体", 18), Column("sources", "依据", 22), Column("measures", "防控措施", 12),
               Column("reviewed", "最近评估", 12), Column("status", "状态", 8), Column("replaced_by", "替代风险点", 12)],
    "防控措施": [UNIT, Column("area", "所属领域标识", 12), Column("id", "编号", 12), *_pair("title", "防控措施", 28),
                 *_pair("description", "措施内容", 40), Column("type", "措施类型", 10), Column("nature", "措施性质", 10),
                 *_pair("owner", "责任部门", 16), *_pair("frequency", "执行频次", 14), *_pair("evidence", "留痕资料", 18),
                 Column("sources", "依据", 22), Column("status", "状态", 8), Column("replaced_by", "替代措施", 12),
                 Column("risk_ids", "防控的风险点（仅供查阅）", 14)],
    "依据": [UNIT, Column("id", "依据标识", 22), Column("kind", "类型", 14), *_pair("title", "标题", 40),
             *_pair("issuer", "发布机关", 20), Column("year", "年份", 8), Column("number", "文号", 18),
             Column("date", "日期", 12)],
}

#: Columns the export writes for reading only: the importer leaves them out.
DERIVED = {"risk_ids"}

STATUSES = {"active": ("现行", "active"), "withdrawn": ("已撤销", "withdrawn")}
#: Field -> its fixed vocabulary (id -> (Chinese, English)).
VOCABULARIES = {"category": vocab.CATEGORIES, "level": vocab.LEVELS, "type": vocab.MEASURE_TYPES,
                "nature": vocab.NATURES, "kind": vocab.SOURCE_KINDS, "status": STATUSES}


def label(field: str, value: str | None) -> str | None:
    """An enumerated value as the workbook shows it: its Chinese label."""
    return VOCABULARIES[field][value][0] if value else None


def value_of(field: str, text: str) -> str | None:
    """The id a label stands for: the id itself, its Chinese or English label; None if none."""
    wanted = text.strip().lower()
    for key, (zh, en) in VOCABULARIES[field].items():
        if wanted in (key, zh, en.lower()):
            return key
    return None


def numbered(items: list) -> str:
    """A list in one cell, numbered a line each: "1. …\\n2. …"; an empty item stays an empty line."""
    return "\n".join(f"{n}. {item or ''}".rstrip() for n, item in enumerate(items, 1))


_NUMBERED_LINE = re.compile(r"^(\d+)\.(?: |$)", re.M)


def unnumbered(text: str) -> list[str | None]:
    """The items of a numbered() cell (an empty item is None); a cell without numbers is one item."""
    starts = list(_NUMBERED_LINE.finditer(text))
    if not starts or starts[0].start() != 0:
        return [text] if text.strip() else []
    ends = [m.start() - 1 for m in starts[1:]] + [len(text)]
    return [text[m.end():end] or None for m, end in zip(starts, ends)]


def one_a_line(items: list[str]) -> str:
    """A list of ids in one cell, one a line."""
    return "\n".join(items)
