"""Column headings read by what they say: the words of each field, as published registers write them.

HEADINGS is what a column may be called, keyed by the register format's field names (title_zh,
manifestations, level, …), read from the field registry: each field's headings as published
registers give them, compared whole, and the words that name it inside a longer heading. A heading is read as the field of the word it ends with, as Chinese
puts the head of a phrase last (风险点涉及的岗位 is a post, 廉政风险的具体表现 a manifestation);
two fields' words ending at the same place make it ambiguous, reported rather than guessed.
A group heading over two rows is read with the one below it: 防控责任 over 部门 is the department
answerable (the responsible post, not a grouping of risks), a level's heading over 高 | 中 | 低 columns
ticked for the level.

Every reading carries why it was made, for the import report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import fields


@dataclass(frozen=True)
class Known:
    """A field as headings name it: its Chinese name, headings seen whole, words seen inside headings."""

    zh: str
    headings: tuple[str, ...]
    words: tuple[str, ...] = ()


def _known(declared: fields.Field) -> Known:
    return Known(declared.zh, (declared.zh, *declared.headings), declared.words)


#: Field -> how headings name it, from the registry (riskcatalog/fields.py: each field's zh, headings
#: and words), keyed by the field's YAML key (title_zh, manifestations, level, …). Besides the risk's
#: fields: seq, area (its name) and department (a 科室 grouping risks as an area does), which belong to
#: the layout; and skip, a column understood and left out. Headings are compared without spaces, line
#: breaks, bracketed notes, asterisks and colons.
HEADINGS: dict[str, Known] = {
    "seq": _known(fields.RISK["seq"]),
    "department": Known("科室", ("单位", "科室", "部门", "单位科室", "单位/科室", "科室/部门", "处室", "股室", "责任科室",
                                 "所在科室", "责任股室", "部门科室", "内设机构", "科室名称", "部门名称", "单位名称", "责任主体"),
                        ("科室", "处室", "股室", "内设机构")),
    "area": _known(fields.AREA["name"]),
    **{declared.keys[0]: _known(declared) for declared in fields.RISK.fields
       if (declared.headings or declared.words) and declared.name != "seq"},
    "skip": Known("不导入", ("其他", "风险点数量", "数量", "个数"), ("数量",)),
}
#: Words that say how the risks are answered for, whichever kind of responsibility the heading below names.
_RESPONSIBILITY_GROUP = re.compile(r"责任")
#: The columns a register cannot do without.
NEEDED = ("title_zh", "level", "measures")
#: The ways to say a column is left out, in --column and a mapping file.
LEAVE_OUT = ("不导入", "-", "skip")

_BY_HEADING = {heading: name for name, known in HEADINGS.items() for heading in known.headings}
_WORDS = sorted(((word, name) for name, known in HEADINGS.items() for word in known.words),
                key=lambda pair: -len(pair[0]))


@dataclass(frozen=True)
class Reading:
    """What a column heading was read as, and why; field None when it was not understood."""

    field: str | None
    why: str
    candidates: tuple[str, ...] = ()

    @property
    def zh(self) -> str:
        return HEADINGS[self.field].zh if self.field else "?"


def plain(text: str) -> str:
    """A heading as compared: without spaces, line breaks, bracketed notes, asterisks, colons, numbering."""
    text = re.sub(r"[（(【\[][^）)】\]]*[）)】\]]", "", text)
    return re.sub(r"[\s*＊:：、/／]|^\d+[.．、]", "", text)


def read_heading(text: str) -> Reading:
    """The field a heading names, by its whole text or by the longest field word in it."""
    whole = plain(text)
    if not whole:
        return Reading(None, "空 · empty")
    if whole in _BY_HEADING:
        return Reading(_BY_HEADING[whole], "已知表头 · a known heading")
    for variant in (text.replace(" ", ""), re.sub(r"\s", "", text)):  # a known heading with its note kept
        if variant in _BY_HEADING:
            return Reading(_BY_HEADING[variant], "已知表头 · a known heading")
    # The head of a Chinese noun phrase comes last (风险点涉及的岗位 is a post, 建议风险级别 a level): the
    # field word ending last names the column; of words ending together, the longest.
    found = sorted(((whole.rfind(word) + len(word), len(word), word, name) for word, name in _WORDS if word in whole),
                   reverse=True)
    if not found:
        return Reading(None, "没有可识别的词 · no word of any field")
    end, length = found[0][:2]
    best = [(word, name) for e, n, word, name in found if (e, n) == (end, length)]
    fields = tuple(dict.fromkeys(name for _, name in best))
    if len(fields) > 1:
        return Reading(None, "含义不明 · ambiguous: " + "、".join(f"「{w}」{HEADINGS[n].zh}" for w, n in best), fields)
    return Reading(fields[0], f"含「{best[0][0]}」 · holds {best[0][0]}")


def read_column(upper: str, lower: str, group: bool) -> tuple[Reading, str]:
    """A column's reading from its heading of one or two rows, and the heading text it was read from.

    upper is the text above (a group heading when `group`, i.e. it spans several columns); lower the
    text in the heading's last row (the same text for a heading merged down both rows).
    """
    if group and upper and lower and upper != lower:
        alone = read_heading(lower)
        if _RESPONSIBILITY_GROUP.search(plain(upper)) and alone.field in ("department", "skip", None) and \
                re.search(r"部门|科室|单位|股室", lower):
            # 防控责任 over 部门: the department answerable, not a grouping of risks
            return Reading("responsible_post_zh", f"「{upper}」下的「{lower}」 · {lower} under {upper}"), \
                f"{upper}/{lower}"
        if alone.field is not None:
            return Reading(alone.field, f"{alone.why}（在「{upper}」之下 · under {upper}）"), f"{upper}/{lower}"
        together = read_heading(upper + lower)
        if together.field is not None:
            return Reading(together.field, f"「{upper}」与「{lower}」合读，{together.why} · read together"), \
                f"{upper}/{lower}"
        return alone, f"{upper}/{lower}"
    return read_heading(lower or upper), lower or upper


def field_named(text: str) -> str | None:
    """A field from what a user calls it: its Chinese name or any heading of it, or its field name;
    "skip" for 不导入 (leave the column out)."""
    wanted = text.strip()
    if wanted in LEAVE_OUT:
        return "skip"
    if wanted in HEADINGS:
        return wanted
    for name, known in HEADINGS.items():
        if wanted == known.zh:
            return name
    return _BY_HEADING.get(plain(wanted))


def field_names() -> str:
    """The names a user may give a column, for messages."""
    return "、".join(known.zh for name, known in HEADINGS.items() if name != "skip")
