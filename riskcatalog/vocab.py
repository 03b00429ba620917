"""Labels of the catalogue's fixed vocabularies: the lookup tables of the database.

The ids are the enums of riskcatalog/schema.json; a test keeps the two in step.
"""

from __future__ import annotations

#: A risk's categories: the five kinds of risk used in Chinese registers.
CATEGORIES = {
    "ethics": ("思想道德风险", "ethics"),
    "duties": ("岗位职责风险", "duties of the post"),
    "rules": ("制度机制风险", "rules and mechanisms"),
    "process": ("业务流程风险", "process"),
    "external": ("外部环境风险", "outside environment"),
}

#: A measure's types: kinds of control measure.
MEASURE_TYPES = {
    "education": ("教育", "education"),
    "rules": ("制度", "rules"),
    "process": ("流程", "process"),
    "disclosure": ("公开", "public disclosure"),
    "oversight": ("监督", "oversight"),
    "technology": ("科技", "technology"),
    "recusal": ("回避轮岗", "recusal and rotation"),
    "accountability": ("问责", "accountability"),
}

#: A measure's natures: when in the life of a risk the measure acts.
NATURES = {
    "preventive": ("预防", "preventive"),
    "detective": ("发现", "detective"),
    "corrective": ("纠正", "corrective"),
}

#: A risk's levels: three, highest first; each register's matrix (register.yml) sets their scores.
LEVELS = {
    "high": ("一级", "high"),
    "medium": ("二级", "medium"),
    "low": ("三级", "low"),
}

#: How the site shows each level: background and text colour (red, amber, green, as registers print them).
LEVEL_COLOURS = {
    "high": ("#c62828", "#ffffff"),
    "medium": ("#f9a825", "#222222"),
    "low": ("#66bb6a", "#111111"),
}

#: An entry's statuses: whether it is in force or retired (its id is never reused).
STATUSES = {
    "active": ("现行", "active"),
    "withdrawn": ("已撤销", "withdrawn"),
}

#: The nature of a register's text: whether its entries are the unit's official text or modelled on public practice.
TEXT_KINDS = {
    "official": ("正式文本", "official text"),
    "modelled": ("模拟文本，非官方", "modelled text, not official"),
}

#: Source kinds.
SOURCE_KINDS = {
    "report": ("报道", "report"),
    "law": ("法律", "law"),
    "regulation": ("行政法规", "administrative regulation"),
    "party-rule": ("党内法规", "Party regulation"),
    "rule": ("部门规章", "ministerial rule"),
    "normative": ("规范性文件", "normative document"),
}

#: 修订类型: what a commit did to an entry (the history's changes table).
CHANGE_KINDS = {
    "added": ("新增", "added"),
    "changed": ("修改", "changed"),
    "withdrawn": ("撤销", "withdrawn"),
    "removed": ("删除", "removed"),
}

#: 条目类型: the kinds of entry a register holds, as the history names them.
ENTRY_KINDS = {
    "risk": ("风险点", "risk"),
    "measure": ("防控措施", "measure"),
    "area": ("领域", "area"),
    "source": ("依据", "source"),
    "register": ("登记", "register"),
    "power": ("职权", "power"),
    "post": ("岗位", "post"),
}


def lookup_rows(vocabulary: dict[str, tuple[str, str]]) -> list[dict]:
    """Rows for a lookup table: id, a readable bilingual label, and its parts, in rank order."""
    return [{"id": key, "label": f"{zh} {en}", "label_zh": zh, "label_en": en, "rank": rank}
            for rank, (key, (zh, en)) in enumerate(vocabulary.items(), 1)]


def level_rows() -> list[dict]:
    """The levels table: the lookup columns and each level's colours."""
    return [{**row, "colour": LEVEL_COLOURS[row["id"]][0], "text_colour": LEVEL_COLOURS[row["id"]][1]}
            for row in lookup_rows(LEVELS)]


#: Every lookup table and its rows.
LOOKUPS = {
    "levels": level_rows,
    "categories": lambda: lookup_rows(CATEGORIES),
    "measure_types": lambda: lookup_rows(MEASURE_TYPES),
    "natures": lambda: lookup_rows(NATURES),
    "source_kinds": lambda: lookup_rows(SOURCE_KINDS),
    "change_kinds": lambda: lookup_rows(CHANGE_KINDS),
    "entry_kinds": lambda: lookup_rows(ENTRY_KINDS),
}
