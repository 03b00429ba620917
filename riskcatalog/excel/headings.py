"""Column headings read by what they say: the words of each field, as published registers write them.

HEADINGS is the one list of what a column may be called, keyed by the register format's field
names (title_zh, manifestations, level, …; seq, area and department are the layout's own). Each
field has the headings published registers give it, compared whole, and the words that name it
inside a longer heading. A heading is read as the field of the word it ends with, as Chinese
puts the head of a phrase last (风险点涉及的岗位 is a post, 廉政风险点表现形式 a manifestation);
two fields' words ending at the same place make it ambiguous, reported rather than guessed.
A group heading over two rows is read with the one below it: 防控责任 over 直接责任人 is the
responsible post, 防控责任 over 部门 the department answerable, 风险等级 over 高 | 中 | 低 columns
ticked for the level.

Every reading carries why it was made, for the import report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Known:
    """A field as headings name it: its Chinese name, headings seen whole, words seen inside headings."""

    zh: str
    headings: tuple[str, ...]
    words: tuple[str, ...] = ()


#: Field -> how headings name it. Headings are compared without spaces, line breaks, bracketed
#: notes, asterisks and colons. Field names are the YAML format's; seq, area (the area's name)
#: and department (a 科室 grouping risks, like an area) belong to the layout only. "skip" is a
#: column understood and left out: the format has no field for it.
HEADINGS: dict[str, Known] = {
    "seq": Known("序号", ("序号", "序", "编号", "排序"), ("序号", "编号")),
    "department": Known("科室", ("单位", "科室", "部门", "单位科室", "单位/科室", "科室/部门", "处室", "股室", "责任科室",
                                 "所在科室", "责任股室", "部门科室", "内设机构", "科室名称", "部门名称", "单位名称", "责任主体"),
                        ("科室", "处室", "股室", "内设机构")),
    "area": Known("领域", ("领域", "风险领域", "业务领域", "工作领域", "业务类别", "重点领域", "类别领域", "业务范围"),
                  ("领域",)),
    "post_zh": Known("岗位", ("岗位", "风险岗位", "涉及岗位", "岗位名称", "职位", "工作岗位", "重点岗位", "责任岗位",
                              "岗位（职位）", "岗位类别"), ("岗位", "职位")),
    "power_zh": Known("职权事项", ("职权事项", "重要环节", "权力事项", "职责", "岗位职责", "主要职责", "工作职责",
                                   "业务环节", "关键环节", "权力名称", "权力运行环节", "工作事项", "职权名称",
                                   "主要工作", "工作内容", "业务事项", "职责任务", "职权内容", "权力运行流程", "工作流程"),
                      ("职权", "职责", "权力", "环节", "事项")),
    "category": Known("风险类别", ("风险类别", "风险类型", "类别", "风险分类", "类型"), ("类别", "类型", "分类")),
    "title_zh": Known("风险点", ("风险点", "廉政风险点", "风险点名称", "主要风险点", "岗位风险点", "风险名称",
                                 "廉洁风险点", "风险事项", "廉政风险", "风险"),
                      ("风险点", "风险名称", "风险事项")),
    "description_zh": Known("风险描述", ("风险描述", "风险内容", "风险点描述", "风险点内容", "风险情形", "风险点说明",
                                         "风险说明", "廉政风险内容"),
                            ("描述", "内容", "情形", "说明")),
    "manifestations": Known("表现形式", ("表现形式", "廉政风险主要内容及表现形式", "廉政风险点表现形式",
                                         "主要内容及表现形式", "风险表现形式", "风险点表现形式", "主要表现形式",
                                         "具体表现", "主要表现", "表现", "风险表现"),
                            ("表现",)),
    "level": Known("风险等级", ("风险等级", "等级", "风险级别", "级别", "风险程度", "风险评级", "风险等次"),
                   ("等级", "级别", "程度", "评级", "等次", "级次")),
    "measures": Known("防控措施", ("防控措施", "防控要点及防控措施", "防控要点", "风险防控措施", "廉政风险防控措施",
                                   "主要防控措施", "防范措施", "防控措施及要求", "防控办法", "预防措施", "防控手段",
                                   "措施", "防控方法", "防范方法"),
                      ("措施", "防控要点", "防控办法", "防控方法", "防控手段", "防范")),
    "responsible_post_zh": Known("直接责任人", ("直接责任人", "部门负责人", "责任人", "科室负责人", "具体责任人",
                                                "直接责任部门", "部门责任人", "责任部门", "责任单位", "主体责任",
                                                "第一责任人"),
                                 ("责任人", "责任部门", "责任单位", "负责人", "主体责任")),
    "responsible_leader_zh": Known("责任领导", ("责任领导", "分管领导", "领导责任人", "分管责任领导", "领导责任",
                                                "分管责任"), ("领导", "分管")),
    "supervisor_zh": Known("监督主体", ("监督主体", "监督责任人", "监督部门", "监督人", "监督责任部门", "监督责任",
                                        "监督单位", "监督检查"), ("监督",)),
    "sources": Known("依据", ("依据", "法规依据", "制度依据", "政策依据", "依据文件", "相关依据", "法律法规依据",
                              "设定依据", "法律依据"), ("依据", "法规", "法律")),
    "reviewed": Known("评估日期", ("评估日期", "最近评估", "更新日期", "排查日期", "评估时间"), ("日期",)),
    "skip": Known("不导入", ("备注", "说明", "其他", "附注", "风险点数量", "数量", "个数"), ("备注", "数量")),
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
