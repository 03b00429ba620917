"""The field registry: every field of the register format, declared once.

A register is a few kinds of record (the unit, its risk matrix, sources, areas, risks, measures),
each a list of fields. A field says here what it is (kind, limits, whether a register must give
it), what it is called (Chinese and English), and where it goes (database column, 登记表 column,
search, the headings published registers give it). Everything else reads these declarations:

- riskcatalog/schema.json, for editors and the validator, is generated from them
  (`python -m riskcatalog.fields`; a test keeps the committed file current);
- riskcatalog.tables (database columns, NOT NULL), riskcatalog.compile (rows and search text),
  riskcatalog.db (the 登记表 view);
- riskcatalog.excel (the 登记表 and field sheets, both directions; the headings units use);
- riskcatalog.history (how a change names a field) and the site (labels, column descriptions);
- docs/catalog-format.md's field tables (generated between markers, kept current by a test).

Adding a field to risks is one line in RISK (plus data); CONTRIBUTING.md says what else may want it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property

from . import vocab

# --- kinds of field ------------------------------------------------------------------------------

#: A text in both languages: `<name>_zh` (the register's own words) and `<name>_en` (its translation).
TEXT = "text"
#: One text in no particular language (a document number).
PLAIN = "plain"
#: A list of texts in both languages: [{zh, en}, …] (表现形式).
ITEMS = "items"
#: An id of the form the field's `ref` names (slug, risk_id, measure_id).
ID = "id"
#: A list of ids of the form `ref` names.
IDS = "ids"
DATE = "date"
INTEGER = "integer"
#: One of a fixed vocabulary (riskcatalog.vocab): stored as its id, shown as its label.
CHOICE = "choice"
#: The languages a register is kept in: [zh, en] or [zh].
LANGUAGES = "languages"
#: A web address (http:// or https://).
URL = "url"
#: A nested record (register.yml's unit), or a list of records (its levels).
RECORD = "record"
RECORDS = "records"
#: A column the build computes; no YAML field gives it.
COMPUTED = "computed"

#: The longest text a field may hold, by length class: short names, titles, one item of a list,
#: running text. Sized from the shipped register (its longest English description is 1,372
#: characters; an English translation runs to four times its Chinese, so an owner of 50 characters
#: reads 220 in English) and from units' published registers, where one cell of numbered measures
#: runs to a few hundred characters; far enough under SQLite's 1 MB value limit on the served site
#: (riskcatalog.site.hardening) that a risk's whole search text still fits.
NAME, TITLE, ITEM, PROSE = 400, 500, 2_000, 10_000
#: The most items one list may hold (表现形式, measures, sources of one entry).
MAX_ITEMS = 100


@dataclass(frozen=True)
class Field:
    """One field of a record."""

    name: str  #: in YAML (a TEXT field `title` is written title_zh and title_en)
    zh: str  #: its Chinese name, as registers head it: 监督主体
    en: str  #: its English name: Supervising body
    kind: str = TEXT
    required: bool = False  #: a register must give it (for TEXT, the Chinese)
    doc: str = ""  #: what to write, for editors and docs/catalog-format.md
    maximum: int | None = None  #: characters (texts), items (lists), or the largest value (integers)
    minimum: int | None = None  #: the smallest value (integers), or the fewest items (lists)
    ref: str | None = None  #: ID and IDS: the form of the id (a $defs name of the schema)
    vocabulary: dict | None = None  #: CHOICE: id -> (Chinese, English)
    record: Record | None = None  #: RECORD and RECORDS
    column: str | None = None  #: the database column, where it is not the YAML name (measures -> measure_ids)
    search: str | None = None  #: "title" or "body": which part of the search index holds it
    register: int | None = None  #: its width in the 登记表, where the 登记表 shows it (REGISTER_COLUMNS orders them)
    width: int = 14  #: its width in the field sheets, in characters
    headings: tuple[str, ...] = ()  #: how units' published registers head its column (besides zh)
    #: words that name it inside a longer heading, the import reading a heading by the one it ends with
    #: (风险点涉及的岗位 is a post): riskcatalog.excel.headings
    words: tuple[str, ...] = ()
    history_zh: str | None = None  #: how the history names it, where that is not zh
    sheet_zh: str | None = None  #: how the field sheets head it, where that is not zh
    note: str = ""  #: more of the column's description on the site (English)
    of: type = str  #: COMPUTED: the column's type
    default: object = None  #: the value a register that leaves the field out means (status: active)
    details: bool | None = None  #: in the entry page's list of details (default: a text, number, date or address
    #: the page does not place itself)
    sheet: bool | None = None  #: in the workbook's field sheet (default: every field a register gives)
    #: its YAML key, where that is not its name: a risk's power id is written `power`, beside power_zh
    key: str | None = None
    #: the keys a register must give with it (a risk's power and the steps it stands on go together)
    needs: tuple[str, ...] = ()

    @property
    def is_text(self) -> bool:
        return self.kind == TEXT

    @property
    def keys(self) -> tuple[str, ...]:
        """Its keys in YAML: title_zh and title_en for a TEXT field, else its name; none if computed."""
        if self.kind == COMPUTED:
            return ()
        return (f"{self.name}_zh", f"{self.name}_en") if self.is_text else (self.key or self.name,)

    @property
    def columns(self) -> dict[str, type]:
        """Its database columns and their types: a TEXT or ITEMS field has one per language; nested records
        (a power's steps) are tables of their own."""
        if self.kind in (RECORD, RECORDS):
            return {}
        if self.kind in (TEXT, ITEMS):
            return {f"{self.name}_zh": str, f"{self.name}_en": str}
        return {self.column or self.name: int if self.kind == INTEGER else self.of}

    @property
    def nullable(self) -> bool:
        """Whether its Chinese (or only) column may be empty: a field a register may leave out, with no
        default; lists are stored as JSON, [] when empty."""
        return not (self.required or self.default is not None or self.kind in (IDS, ITEMS))

    @property
    def in_details(self) -> bool:
        """Whether the entry page lists it among the entry's details (岗位, 监督主体 …), by its names."""
        return self.kind in (TEXT, PLAIN, INTEGER, DATE, URL) if self.details is None else self.details

    @property
    def in_sheet(self) -> bool:
        """Whether the field sheets carry it: every field a register gives, unless declared otherwise."""
        return self.kind not in (COMPUTED, RECORD, RECORDS) if self.sheet is None else self.sheet

    @property
    def label(self) -> str:
        """Both names, as a heading or caption reads them: 监督主体 Supervising body."""
        return f"{self.zh} {self.en}"

    def column_description(self, column: str) -> str:
        """A database column's description on the site: its Chinese name, then English."""
        if column.endswith("_en") and self.kind in (TEXT, ITEMS):
            return f"{self.zh}（英文）{self.en} (English)"
        suffix = " (Chinese)" if self.kind in (TEXT, ITEMS) else ""
        return f"{self.zh} {self.en}{suffix}" + (f", {self.note}" if self.note else "")


@dataclass(frozen=True)
class Record:
    """A kind of record: its fields in order (of YAML keys, field sheets, columns and the format document)."""

    name: str  #: risk
    zh: str  #: 风险点
    en: str  #: risk point
    fields: tuple[Field, ...]
    table: str | None = None  #: its database table
    sheet: str | None = None  #: its sheet in the workbook

    def __post_init__(self):
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: a field is declared twice")

    @cached_property
    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @cached_property
    def by_key(self) -> dict[str, Field]:
        """Every YAML key and database column -> its field (title_zh and title_en -> title)."""
        found = {key: f for f in self.fields for key in (*f.keys, *f.columns)}
        return found

    def __getitem__(self, name: str) -> Field:
        return self.by_name[name]

    @property
    def yaml_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.kind != COMPUTED)


def _text(name: str, zh: str, en: str, maximum: int, **more) -> Field:
    return Field(name, zh, en, TEXT, maximum=maximum, **more)


def _retirement(kind: str, replacement_zh: str) -> tuple[Field, ...]:
    """The fields that retire an entry (status, replaced_by): every risk and measure has them."""
    return (
        Field("status", "状态", "Status", CHOICE, vocabulary=vocab.STATUSES, width=8, default="active",
              doc="Retired entries stay with status: withdrawn", note="active, or withdrawn (retired; the id is never reused)"),
        Field("replaced_by", replacement_zh, f"{kind.capitalize()} that replaces a withdrawn one", ID,
              ref=f"{kind}_id", width=12, history_zh="替代条目",
              doc=f"Id of the {kind} that replaces a withdrawn one"),
    )


#: Columns the build adds to every table of entries: the row's key and unit, and where the entry came
#: from (for "edit this entry" links).
KEY = Field("key", "键", "Key (unit-id), the row's address", COMPUTED, required=True)
OF_UNIT = Field("unit", "单位", "Unit", COMPUTED, required=True, sheet=True, width=10)
_WHERE = (Field("file", "所在文件", "YAML file", COMPUTED, required=True, history_zh="所属领域"),
          Field("line", "所在行", "Line in the YAML file", COMPUTED, required=True, of=int))


#: The keeper's notes on a risk or measure (what a threshold rests on, what was assumed): never official text.
NOTES = _text("notes", "备注", "Notes", PROSE, width=24, headings=("附注", "说明"), words=("备注",),
              doc="备注: the keeper's notes (what a threshold rests on, what was assumed), never official text")


def _in_area(zh: str, en: str) -> Field:
    """The area an entry belongs to: its key in the database, its id in the field sheets."""
    return Field("area", zh, en, COMPUTED, required=True, note="its key", sheet=True, sheet_zh=f"{zh}标识", width=12)

# --- the register format ---------------------------------------------------------------------------

UNIT = Record("unit", "单位", "unit", (
    Field("id", "单位标识", "Unit id", ID, required=True, ref="slug", width=12,
          note="the prefix of every key in this register"),
    _text("name", "单位名称", "Unit name", NAME, required=True, width=16, register=12,
          history_zh="名称"),
    _text("district", "所在区", "District", NAME, width=12),
    _text("city", "所在市", "City", NAME, width=10),
), sheet="单位")

PROVENANCE = Record("provenance", "来源", "provenance", (
    Field("source", "来源依据", "The report the register is modelled on", ID, ref="slug", width=16,
          note="a source key"),
    Field("kind", "文本性质", "Nature of the text", CHOICE, vocabulary=vocab.TEXT_KINDS, width=12,
          doc="modelled: the entries are modelled on public practice, not the unit's official text — every entry "
              "page and printed page then says so (模拟文本，非官方); official, or absent: nothing is said"),
    _text("note", "来源说明", "How the entries were drawn up", PROSE, required=True, width=40),
))

#: Where the register's revisions (修订记录, riskcatalog.history) count from: the state it was settled in.
BASELINE = Record("baseline", "基线", "baseline", (
    Field("date", "基线日期", "Date the register was settled (登记确定), its revisions counted from then", DATE,
          required=True, width=12, doc='登记确定日期, quoted: "2019-01-29"; the revisions count from the commit that '
                                       "last set it"),
    Field("commit", "基线提交", "The commit whose state is the baseline", ID, ref="commit_id", width=12,
          doc="The commit (its id) whose state is the baseline; without it, the commit that last changed the date"),
    _text("note", "基线说明", "Baseline note", PROSE, width=40),
))

#: How a register is published: the site's title, the licence of its text, where it is kept. A register
#: that gives none is served under its unit's name, with no licence line and no edit links.
PUBLICATION = Record("publication", "发布信息", "publication", (
    _text("title", "目录名称", "Title of the published register", TITLE, width=28,
          doc="the site's title (default: the unit's name and 廉政风险点与防控措施目录)"),
    Field("licence", "许可", "Licence of the text", PLAIN, maximum=NAME, width=16, doc="e.g. CC BY 4.0"),
    Field("licence_url", "许可链接", "Address of the licence", URL, width=24),
    Field("repository", "仓库地址", "Repository the register is kept in", URL, width=24,
          doc="where readers can see each entry's file and each revision (its edit and commit links); none: no links"),
    Field("branch", "分支", "Branch of the repository", PLAIN, maximum=NAME, width=10, doc="default: main"),
))

TOTALS = Record("totals", "总数", "totals", (
    Field("risks", "风险点总数", "Declared number of risks", INTEGER, required=True, minimum=0, sheet=False),
    Field("measures", "防控措施总数", "Declared number of measures", INTEGER, required=True, minimum=0, sheet=False),
))

LANGUAGES_FIELD = Field("languages", "登记语言", "Languages the register is kept in", LANGUAGES, width=10,
                        default=["zh", "en"],
                        doc="Languages the register is kept in: [zh, en] (the default: every Chinese text has its "
                            "English) or [zh] (Chinese only, English optional)", note="JSON list ([zh, en] or [zh])")

LEVEL = Record("level", "风险等级", "risk level", (
    OF_UNIT,
    Field("id", "风险等级", "Level", CHOICE, required=True, vocabulary=vocab.LEVELS, width=10, column="level"),
    Field("min_score", "最低分值", "Lowest likelihood × impact score of the level", INTEGER, required=True,
          minimum=1, maximum=25, width=10),
    Field("review_days", "评估周期（天）", "Days between reviews for risks of this level", INTEGER, required=True,
          minimum=1, maximum=3660, width=12),
), table="unit_levels", sheet="风险等级")

REGISTER = Record("register", "登记", "register", (
    Field("unit", "单位", "Unit", RECORD, required=True, record=UNIT),
    Field("provenance", "来源", "Provenance", RECORD, record=PROVENANCE),
    Field("baseline", "基线", "Baseline", RECORD, record=BASELINE,
          doc="修订记录的起点: the state the register's revisions count from (docs/catalog-format.md)"),
    Field("publication", "发布信息", "Publication", RECORD, record=PUBLICATION),
    LANGUAGES_FIELD,
    Field("totals", "总数", "Totals", RECORD, required=True, record=TOTALS),
    Field("areas", "领域", "Areas", IDS, required=True, ref="slug", minimum=1, maximum=MAX_ITEMS),
    Field("levels", "风险矩阵", "Risk matrix", RECORDS, required=True, record=LEVEL, minimum=1),
))

SOURCE = Record("source", "依据", "source", (
    KEY, OF_UNIT,
    Field("id", "依据标识", "Source id", ID, required=True, ref="slug", width=22),
    Field("kind", "类型", "Kind", CHOICE, vocabulary=vocab.SOURCE_KINDS, width=14, history_zh="依据类型"),
    _text("title", "标题", "Title", TITLE, required=True, width=40, search="title", history_zh="名称", details=False),
    _text("issuer", "发布机关", "Issuer", NAME, width=20, search="body"),
    Field("year", "年份", "Year issued", INTEGER, minimum=1949, maximum=2100, width=8),
    Field("number", "文号", "Document number", PLAIN, maximum=NAME, width=18, search="title",
          doc="文号, only where the document has one", note="where the document has one"),
    Field("date", "发布日期", "Date of issue", DATE, width=12, history_zh="日期",
          note="of the version meant, or of the report"),
    *_WHERE,
), table="sources", sheet="依据")

AREA = Record("area", "领域", "area", (
    KEY, OF_UNIT,
    Field("id", "领域标识", "Area id", ID, required=True, ref="slug", width=14, note="the YAML file name"),
    Field("position", "在登记中的顺序", "Order in the register", COMPUTED, required=True, of=int),
    _text("name", "领域", "Area", NAME, required=True, width=18, register=12, details=False, headings=("风险领域", "业务领域", "工作领域", "业务类别", "重点领域", "类别领域", "业务范围"), words=("领域",),
          history_zh="名称"),
    _text("description", "领域说明", "Description", PROSE, width=40, history_zh="描述", details=False),
    *_WHERE,
), table="areas", sheet="领域")

RISK = Record("risk", "风险点", "risk point", (
    KEY, OF_UNIT,
    Field("id", "编号", "Risk id", ID, required=True, ref="risk_id", width=10, search="title",
          doc="Stable id, never reused (e.g. LAND-01)", note="stable and never reused"),
    Field("seq", "序号", "Number in the register's order", COMPUTED, required=True, of=int, register=6,
          headings=("序", "编号", "排序"), words=("序号", "编号")),
    _in_area("领域", "Area"),
    _text("title", "风险点", "Risk", TITLE, required=True, width=28, search="title", register=24, details=False,
          headings=("廉政风险点", "风险点名称", "主要风险点", "岗位风险点", "风险名称", "廉洁风险点", "风险事项", "廉政风险",
                    "风险"), words=("风险点", "风险名称", "风险事项"), history_zh="名称"),
    _text("description", "风险描述", "Description", PROSE, width=40, search="body", details=False,
          headings=("风险内容", "风险点描述", "风险点内容", "风险情形", "风险点说明", "风险说明", "廉政风险内容"),
          words=("描述", "内容", "情形"), history_zh="描述"),
    _text("post", "岗位", "Post", NAME, width=18, search="body", register=16,
          headings=("风险岗位", "涉及岗位", "岗位名称", "职位", "工作岗位", "重点岗位", "责任岗位", "岗位类别"),
          words=("岗位", "职位")),
    _text("power", "职权事项", "Power exercised", NAME, width=20, search="body", register=18,
          headings=("重要环节", "权力事项", "职责", "岗位职责", "主要职责", "工作职责", "业务环节", "关键环节", "权力名称",
                    "权力运行环节", "工作事项", "职权名称", "主要工作", "工作内容", "业务事项", "职责任务", "职权内容",
                    "权力运行流程", "工作流程"), words=("职权", "职责", "权力", "环节", "事项")),
    Field("category", "风险类别", "Category", CHOICE, vocabulary=vocab.CATEGORIES, width=12,
          headings=("风险类型", "类别", "风险分类", "类型"), words=("类别", "类型", "分类"),
          doc="风险类别: ethics 思想道德, duties 岗位职责, rules 制度机制, process 业务流程, external 外部环境"),
    Field("manifestations", "表现形式", "Manifestations", ITEMS, maximum=ITEM, width=40, search="body", register=40,
          headings=("廉政风险主要内容及表现形式", "廉政风险点表现形式", "主要内容及表现形式", "风险表现形式",
                    "风险点表现形式", "主要表现形式", "具体表现", "主要表现", "表现", "风险表现"), words=("表现",),
          doc="表现形式: how the risk shows up in practice", note="JSON list"),
    Field("likelihood", "可能性", "Likelihood", INTEGER, minimum=1, maximum=5, width=8, details=False,
          doc="Likelihood 可能性 1–5; give it with impact, or neither", note="1–5"),
    Field("impact", "影响", "Impact", INTEGER, minimum=1, maximum=5, width=8, details=False,
          doc="Impact 影响 1–5; give it with likelihood, or neither", note="1–5"),
    Field("score", "分值", "Likelihood × impact", COMPUTED, of=int),
    Field("level", "风险等级", "Level", CHOICE, required=True, vocabulary=vocab.LEVELS, width=8, register=8,
          headings=("等级", "风险级别", "级别", "风险程度", "风险评级", "风险等次"),
          words=("等级", "级别", "程度", "评级", "等次", "级次"),
          doc="风险等级; where likelihood and impact are given, must agree with register.yml levels for "
              "likelihood × impact", note="agrees with the register's matrix"),
    _text("responsible_post", "直接责任人", "Directly responsible post", NAME, width=16, search="body", register=14,
          headings=("部门负责人", "责任人", "科室负责人", "具体责任人", "直接责任部门", "部门责任人", "责任部门", "责任单位",
                    "主体责任", "第一责任人"), words=("责任人", "责任部门", "责任单位", "负责人", "主体责任")),
    _text("responsible_leader", "责任领导", "Responsible leader", NAME, width=16, search="body", register=14,
          headings=("分管领导", "领导责任人", "分管责任领导", "领导责任", "分管责任"), words=("领导", "分管")),
    _text("supervisor", "监督主体", "Supervising body", NAME, width=18, search="body", register=16,
          headings=("监督责任人", "监督部门", "监督人", "监督责任部门", "监督责任", "监督单位", "监督检查"),
          words=("监督",)),
    NOTES,
    Field("sources", "依据", "Regulations", IDS, ref="slug", minimum=1, maximum=MAX_ITEMS, column="source_ids",
          width=22, register=28, headings=("法规依据", "制度依据", "政策依据", "依据文件", "相关依据", "法律法规依据",
                                           "设定依据", "法律依据"), words=("依据", "法规", "法律"),
          doc="Regulations the risk rests on (ids in sources.yml)", note="source ids, JSON list"),
    Field("measures", "防控措施", "Measures", IDS, required=True, ref="measure_id", minimum=1, maximum=MAX_ITEMS,
          column="measure_ids", width=12, register=44,
          headings=("防控要点及防控措施", "防控要点", "风险防控措施", "廉政风险防控措施", "主要防控措施", "防范措施",
                    "防控措施及要求", "防控办法", "预防措施", "防控手段", "措施", "防控方法", "防范方法"),
          words=("措施", "防控要点", "防控办法", "防控方法", "防控手段", "防范"),
          doc="防控措施: measure ids, any area", note="measure ids, JSON list (facet with _facet_array)"),
    Field("reviewed", "最近评估日期", "Date last reviewed", DATE, required=True, width=12,
          headings=("最近评估", "评估日期", "更新日期", "排查日期", "评估时间"), words=("日期",),
          doc='Date last reviewed, quoted: "2019-01-15"'),
    Field("power_id", "所在职权", "Power it arises in", ID, key="power", column="power", ref="power_id", width=12,
          needs=("steps",), history_zh="所在职权",
          doc="The power it arises in (a power id of any area, e.g. WELF-P01); give it with steps",
          note="the power's key"),
    Field("steps", "流程环节", "Steps where it arises", IDS, ref="slug", minimum=1, maximum=MAX_ITEMS,
          column="step_ids", width=16, register=16, needs=("power",),
          headings=("风险环节", "办理环节", "流程节点", "运行环节"), words=("流程环节",),
          doc="流程环节: ids of the steps of its power where it arises (e.g. [accept, survey])",
          note="step ids of its power, JSON list"),
    Field("next_review", "下次评估日期", "Due date of the next review", COMPUTED, required=True, details=True,
          note="reviewed + the level's interval"),
    *_retirement("risk", "替代风险点"),
    *_WHERE,
), table="risks", sheet="风险点")

MEASURE = Record("measure", "防控措施", "control measure", (
    KEY, OF_UNIT,
    Field("id", "编号", "Measure id", ID, required=True, ref="measure_id", width=12, search="title",
          doc="Stable id, never reused (e.g. LAND-M01)", note="stable and never reused"),
    _in_area("所属领域", "Area whose file defines the measure"),
    _text("title", "防控措施", "Measure", TITLE, required=True, width=28, search="title", history_zh="名称",
          details=False),
    _text("description", "措施内容", "Description", PROSE, width=40, search="body", history_zh="描述", details=False),
    Field("type", "措施类型", "Type", CHOICE, vocabulary=vocab.MEASURE_TYPES, width=10,
          doc="措施类型: 教育 制度 流程 公开 监督 科技 回避/轮岗 问责"),
    Field("nature", "措施性质", "Nature", CHOICE, vocabulary=vocab.NATURES, width=10,
          doc="预防 / 发现 / 纠正", note="preventive, detective or corrective"),
    _text("owner", "责任部门", "Owner", NAME, width=16, search="body", doc="责任部门或岗位: the post or office that runs it"),
    _text("frequency", "执行频次", "When it runs", NAME, width=14, search="body"),
    _text("evidence", "留痕资料", "Evidence that it ran", TITLE, width=18, search="body"),
    NOTES,
    Field("sources", "依据", "Regulations", IDS, ref="slug", minimum=1, maximum=MAX_ITEMS, column="source_ids",
          width=22, note="source ids, JSON list"),
    Field("steps", "作用环节", "Steps it acts on", IDS, ref="step_ref", minimum=1, maximum=MAX_ITEMS,
          column="step_ids", width=22, doc="The steps it acts on, as POWER/step (e.g. [WELF-P01/survey])",
          note="POWER/step references, JSON list"),
    *_retirement("measure", "替代措施"),
    Field("risk_ids", "防控的风险点（仅供查阅）", "Ids of the risks it controls", COMPUTED, required=True, sheet=True,
          note="JSON list"),
    Field("area_ids", "覆盖领域", "Ids of the areas of those risks", COMPUTED, required=True,
          note="JSON list (facet with _facet_array)"),
    *_WHERE,
), table="measures", sheet="防控措施")

POST = Record("post", "岗位", "post", (
    KEY, OF_UNIT,
    Field("id", "岗位标识", "Post id", ID, required=True, ref="slug", width=22, doc="Stable id of the post (e.g. "
          "civil-affairs-officer), unique in the register"),
    _text("title", "岗位", "Post", NAME, required=True, width=26, history_zh="名称"),
    _text("department", "所在科室", "Department", NAME, width=16),
    _text("leader", "责任领导", "Responsible leader", NAME, width=18,
          doc="The leader who signs the post's risk card (岗位廉政风险防控卡) with its holder"),
    *_WHERE,
), table="posts", sheet="岗位")

#: Where a step's flow branches (drawn as a diamond): on a condition it goes to another step, or ends.
BRANCH = Record("branch", "流程分支", "branch", (
    OF_UNIT,
    Field("step", "所在环节", "Step the flow branches at", COMPUTED, required=True, sheet=True, sheet_zh="所在环节（职权/环节）",
          width=20, note="the step's key (unit-POWER/step)"),
    Field("position", "分支序号", "Number of the branch at its step", COMPUTED, required=True, of=int),
    _text("when", "分支条件", "Condition", NAME, required=True, width=20, doc="When the flow branches (不符合条件, 有异议 …)"),
    Field("to", "转至环节", "Step it goes to", ID, ref="slug", column="to_step", width=14,
          doc="The step of the same power the flow goes to (its id); or give end_zh", note="the step's key"),
    _text("end", "流程终结", "Where the flow ends", NAME, width=24,
          doc="Where the flow ends on this branch (退回申请并书面告知理由 …); or give to"),
), table="branches", sheet="流程分支")

STEP = Record("step", "流程环节", "step", (
    KEY, OF_UNIT,
    Field("power", "所属职权", "Power", COMPUTED, required=True, sheet=True, sheet_zh="职权编号", width=12,
          note="the power's key"),
    Field("position", "环节序号", "Number of the step in its power's flow", COMPUTED, required=True, of=int),
    Field("id", "环节标识", "Step id", ID, required=True, ref="slug", width=14,
          doc="Stable id of the step, unique within its power (e.g. survey)"),
    _text("title", "流程环节", "Step", TITLE, required=True, width=26, history_zh="名称"),
    _text("actor", "办理主体", "Who acts", NAME, width=20, doc="Who acts at the step (may be outside the unit: 区民政局)"),
    Field("post", "经办岗位", "Post that acts at the step", ID, ref="slug", width=18,
          doc="The unit's post that acts at the step (a posts.yml id)", note="the post's key"),
    _text("days", "办理时限", "Time limit", NAME, width=18, doc="Its time limit as the rule states it"),
    Field("branches", "流程分支", "Branches", RECORDS, record=BRANCH, maximum=MAX_ITEMS),
), table="steps", sheet="流程环节")

POWER = Record("power", "职权", "power", (
    KEY, OF_UNIT,
    Field("id", "职权编号", "Power id", ID, required=True, ref="power_id", width=12,
          doc="Stable id, never reused (e.g. WELF-P01)", note="stable and never reused"),
    _in_area("所属领域", "Area"),
    _text("title", "职权名称", "Power", TITLE, required=True, width=28, history_zh="名称"),
    _text("description", "职权说明", "Description", PROSE, width=40, history_zh="描述"),
    Field("posts", "行使岗位", "Posts that exercise it", IDS, ref="slug", minimum=1, maximum=MAX_ITEMS,
          column="post_ids", width=22, doc="The posts.yml ids of the posts that exercise it", note="post ids, JSON list"),
    Field("sources", "职权依据", "Basis", IDS, ref="slug", minimum=1, maximum=MAX_ITEMS, column="source_ids",
          width=22, doc="Its basis: regulations in sources.yml", note="source ids, JSON list"),
    Field("steps", "流程环节", "Steps", RECORDS, required=True, record=STEP, minimum=2, maximum=MAX_ITEMS,
          doc="Its steps in order, from application to closing"),
    *_WHERE,
), table="powers", sheet="职权")

#: The units table, a row per register, from register.yml: (the mapping of register.yml it comes from, or
#: None for the register's own fields; the columns' prefix; the fields; whether the mapping may be absent).
UNITS_TABLE = (("unit", "", UNIT.fields, False), ("provenance", "provenance_", PROVENANCE.fields, True),
               ("baseline", "baseline_", BASELINE.fields, True), ("publication", "publication_", PUBLICATION.fields, True),
               ("totals", "declared_", TOTALS.fields, False),
               (None, "", (Field("folder", "目录文件夹", "Folder the register was built from", COMPUTED, required=True),
                           LANGUAGES_FIELD), False))

#: Every record kind, in the order of the workbook's field sheets.
RECORDS_IN_ORDER = (UNIT, LEVEL, AREA, RISK, MEASURE, SOURCE, POST, POWER, STEP, BRANCH)
#: The records of powers and posts (issue 25): a register may have none, and a workbook may lack their sheets.
POWER_RECORDS = (POST, POWER, STEP, BRANCH)
#: Each YAML file kind and its top-level fields.
FILES = {
    "register_file": (REGISTER, "register.yml"),
    "sources_file": (Record("sources_file", "依据", "sources", (
        Field("sources", "依据", "Sources", RECORDS, required=True, record=SOURCE, minimum=1),)), "sources.yml"),
    "posts_file": (Record("posts_file", "岗位", "posts", (
        Field("posts", "岗位", "Posts", RECORDS, required=True, record=POST, minimum=1),)), "posts.yml"),
    "area_file": (Record("area_file", "领域", "area file", (
        Field("area", "领域", "Area", RECORD, required=True, record=AREA),
        Field("powers", "职权", "Powers", RECORDS, record=POWER, maximum=MAX_ITEMS),
        Field("risks", "风险点", "Risks", RECORDS, required=True, record=RISK),
        Field("measures", "防控措施", "Measures", RECORDS, required=True, record=MEASURE),
    )), "<area>.yml"),
}


def record_of_table(table: str) -> Record | None:
    return next((r for r in RECORDS_IN_ORDER if r.table == table), None)


@dataclass(frozen=True)
class Column:
    """A database column of a register's table: the field it holds, and whether it may be empty."""

    name: str
    field: Field
    type: type
    nullable: bool

    @property
    def description(self) -> str:
        return self.field.column_description(self.name)


def table_columns(table: str) -> list[Column]:
    """The columns of one of the register's tables (units, unit_levels, sources, areas, risks, measures), in order."""
    parts = UNITS_TABLE if table == "units" else ((None, "", record_of_table(table).fields, False),)
    return [Column(prefix + name, f, kind, optional or f.nullable or (name.endswith("_en") and f.kind in (TEXT, ITEMS)))
            for _, prefix, fields, optional in parts for f in fields for name, kind in f.columns.items()]


#: The tables a register's fields fill.
REGISTER_TABLES = ("units", "unit_levels", "sources", "areas", "risks", "measures", "posts", "powers", "steps",
                   "branches")


#: The 登记表's columns, in the Chinese layout: (record, field name) in the order units print them.
REGISTER_COLUMNS = (("unit", "name"), ("risk", "seq"), ("area", "name"), ("risk", "post"), ("risk", "power"),
                    ("risk", "steps"), ("risk", "title"), ("risk", "manifestations"), ("risk", "level"), ("risk", "measures"),
                    ("risk", "responsible_post"), ("risk", "responsible_leader"), ("risk", "supervisor"),
                    ("risk", "sources"))


def register_heading(record: str, name: str) -> str:
    """A 登记表 column's heading: the field's Chinese name, or, for the unit's and area's name, the record's (单位, 领域)."""
    if name == "name":
        return {"unit": UNIT, "area": AREA}[record].zh
    return RISK[name].zh


#: The record each kind of entry is, as the history names kinds (vocab.ENTRY_KINDS).
ENTRY_RECORDS = {"risk": RISK, "measure": MEASURE, "area": AREA, "source": SOURCE, "register": REGISTER,
                 "power": POWER, "post": POST}


def details(record: Record, row: dict) -> list[tuple[Field, object, object]]:
    """What an entry page lists among an entry's details, in the registry's order: (field, Chinese or only value,
    English value) for each field the page does not place itself and the entry gives."""
    found = []
    for f in record.fields:
        if not f.in_details:
            continue
        zh, en = (row.get(f"{f.name}_zh"), row.get(f"{f.name}_en")) if f.is_text else (row.get(f.column or f.name), None)
        if zh is not None or en is not None:
            found.append((f, zh, en))
    return found


#: The registry as the site's templates read it: F.risk.supervisor.zh is 监督主体.
LABELS = {name: record.by_name for name, record in
          (("unit", UNIT), ("area", AREA), ("risk", RISK), ("measure", MEASURE), ("source", SOURCE),
           ("provenance", PROVENANCE), ("publication", PUBLICATION), ("post", POST), ("power", POWER), ("step", STEP),
           ("register", REGISTER))}


#: Every record by its name, as labelled() reads {risk} and {risk.supervisor}.
_BY_NAME = {record.name: record for record in (*RECORDS_IN_ORDER, REGISTER)}
_LABEL = re.compile(r"\{([a-z_]+)(?:\.([a-z_]+))?(\.history)?\}")


def labelled(text: str) -> str:
    """A text with each {record.field} as the field's Chinese name ({risk.supervisor} is 监督主体), {record.field.history}
    as the history's name for it ({risk.replaced_by.history} is 替代条目), and each {record} as the record's ({risk}
    is 风险点): wording kept outside the registry (the site's catalogue.yml) names fields so."""
    def label(found: re.Match) -> str:
        record = _BY_NAME[found.group(1)]
        if not found.group(2):
            return record.zh
        named = record[found.group(2)]
        return (named.history_zh or named.zh) if found.group(3) else named.zh
    return _LABEL.sub(label, text)


def field_of(kind: str, key: str) -> Field | None:
    """The field a key of an entry names (title_en -> title; totals.risks -> the totals' risks), or None."""
    record = ENTRY_RECORDS.get(kind)
    parent, _, child = key.partition(".")
    while child and record is not None:
        holder = record.by_name.get(parent)
        record = holder.record if holder is not None else None
        parent, _, child = child.partition(".")
    return record.by_key.get(parent) if record is not None else None


def name_zh(kind: str, key: str) -> str:
    """How the history names a key of an entry: 风险等级 for a risk's level, 名称（英文） for its title_en."""
    found = field_of(kind, key)
    if found is None:
        return key
    name = found.history_zh or found.zh
    return f"{name}（英文）" if key.endswith("_en") and found.kind in (TEXT, ITEMS) else name


# --- the JSON Schema -----------------------------------------------------------------------------

#: Forms of value shared by many fields; the fields' rules refer to them.
_DEFS = {
    "text": {"type": "string", "minLength": 1, "pattern": "\\S", "description": "text, not blank"},
    "slug": {"type": "string", "maxLength": 64, "pattern": "^[a-z][a-z0-9-]*$(?!\\n)",
             "description": "lower-case letters, digits and hyphens (e.g. land)"},
    "date": {"type": "string", "pattern": "^(19[0-9]{2}|20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$(?!\\n)", "format": "date",
             "description": "YYYY-MM-DD from 1900 to 2100 (e.g. \"2019-01-15\")"},
    "risk_id": {"type": "string", "maxLength": 32, "pattern": "^[A-Z][A-Z0-9]*-[0-9]{2,}$(?!\\n)",
                "description": "PREFIX-NN (e.g. LAND-01)"},
    "measure_id": {"type": "string", "maxLength": 32, "pattern": "^[A-Z][A-Z0-9]*-M[0-9]{2,}$(?!\\n)",
                   "description": "PREFIX-MNN (e.g. LAND-M01)"},
    "commit_id": {"type": "string", "pattern": "^[0-9a-f]{7,64}$(?!\\n)",
                  "description": "a git commit's id, 7 to 64 hexadecimal digits (e.g. 1a2b3c4d)"},
    "url": {"type": "string", "maxLength": 500, "pattern": "^https?://[^\\s<>\"]+$(?!\\n)",
            "description": "a web address starting with http:// or https:// (e.g. https://example.org/register)"},
    "power_id": {"type": "string", "maxLength": 32, "pattern": "^[A-Z][A-Z0-9]*-P[0-9]{2,}$(?!\\n)",
                 "description": "PREFIX-PNN (e.g. WELF-P01)"},
    "step_ref": {"type": "string", "maxLength": 100, "pattern": "^[A-Z][A-Z0-9]*-P[0-9]{2,}/[a-z][a-z0-9-]*$(?!\\n)",
                 "description": "POWER/step (e.g. WELF-P01/survey)"},
}

_SCHEMA_HEAD = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "schema.json",
    "title": "Integrity-risk register catalogue file (廉政风险点与防控措施)",
    "description": "One schema for every catalogue file: register.yml, sources.yml, posts.yml and one <area>.yml per area. "
                   "Generated from riskcatalog/fields.py: edit that, then run python -m riskcatalog.fields.",
    "$comment": "Patterns end in $(?!\\n): JSON Schema patterns are ECMA-262 regular expressions, where $ matches "
                "only at the end of the text, but Python's re (jsonschema) also matches $ before a final line "
                "break; the lookahead makes both refuse \"LAND-01\\n\". Dates stop at 2100 so that a date plus a "
                "review interval is always a date.",
}


def schema() -> dict:
    """The JSON Schema of every catalogue file, from the declarations above."""
    defs = dict(_DEFS)
    defs.update({record.name: _record_rule(record) for record in (RISK, MEASURE)})
    defs.update({name: {**_record_rule(record), "description": shown} for name, (record, shown) in FILES.items()})
    return {**_SCHEMA_HEAD, "anyOf": [{"$ref": f"#/$defs/{name}"} for name in FILES], "$defs": defs}


def _record_rule(record: Record) -> dict:
    properties: dict[str, dict] = {}
    depends: dict[str, list[str]] = {}
    for f in record.yaml_fields:
        for key, rule in _field_rules(f):
            properties[key] = rule
        if f.is_text:
            depends[f"{f.name}_zh"] = [f"{f.name}_en"]
        if f.needs:
            depends[f.keys[0]] = list(f.needs)
    if {"likelihood", "impact"} <= record.by_name.keys():
        depends.update(likelihood=["impact"], impact=["likelihood"])
    rule = {"type": "object", "additionalProperties": False,
            "required": [f.keys[0] for f in record.yaml_fields if f.required]}
    if depends:
        rule["dependentRequired"] = depends
    rule["properties"] = properties
    if record in (RISK, MEASURE):
        rule["description"] = f"{record.zh} {record.en}"
    return rule


def _field_rules(f: Field) -> list[tuple[str, dict]]:
    """(YAML key, rule) for each key of the field."""
    if f.is_text:
        return [(f"{f.name}_{lang}", {**_text_rule(f.maximum), "description": f"{f.zh} ({language})"})
                for lang, language in (("zh", "Chinese"), ("en", "English translation"))]
    rule = _value_rule(f)
    described = f.doc or (f"{f.zh}: {f.en}" if f.kind not in (RECORD, RECORDS) else "")
    if described and "description" not in rule:
        rule["description"] = described
    return [(f.keys[0], rule)]


def _text_rule(maximum: int | None) -> dict:
    return {**_DEFS["text"], "maxLength": maximum} if maximum else dict(_DEFS["text"])


def _value_rule(f: Field) -> dict:
    if f.kind == PLAIN:
        return _text_rule(f.maximum)
    if f.kind == ITEMS:
        item = {"type": "object", "additionalProperties": False, "required": ["zh"], "dependentRequired": {"zh": ["en"]},
                "properties": {"zh": _text_rule(f.maximum), "en": _text_rule(f.maximum)}}
        return {"type": "array", "minItems": 1, "maxItems": MAX_ITEMS, "items": item}
    if f.kind == ID:
        return {"$ref": f"#/$defs/{f.ref}"}
    if f.kind == IDS:
        return {"type": "array", "minItems": f.minimum or 0, "maxItems": f.maximum, "uniqueItems": True,
                "items": {"$ref": f"#/$defs/{f.ref}"}}
    if f.kind == DATE:
        return {"$ref": "#/$defs/date"}
    if f.kind == URL:
        return {"$ref": "#/$defs/url"}
    if f.kind == INTEGER:
        return {"type": "integer", **({"minimum": f.minimum} if f.minimum is not None else {}),
                **({"maximum": f.maximum} if f.maximum is not None else {})}
    if f.kind == CHOICE:
        return {"enum": list(f.vocabulary)}
    if f.kind == LANGUAGES:
        return {"enum": [["zh", "en"], ["zh"]]}
    if f.kind == RECORD:
        return _record_rule(f.record)
    if f.kind == RECORDS:
        return {"type": "array", **({"minItems": f.minimum} if f.minimum else {}),
                **({"maxItems": f.maximum} if f.maximum else {}),
                "items": {"$ref": f"#/$defs/{f.record.name}"} if f.record in (RISK, MEASURE) else _record_rule(f.record)}
    raise ValueError(f"{f.name}: no schema for kind {f.kind!r}")


def schema_text() -> str:
    """schema.json as committed: two-space indents, Chinese as it is, a final line break."""
    return json.dumps(schema(), ensure_ascii=False, indent=2) + "\n"


# --- the format document ------------------------------------------------------------------------

_KINDS_SHOWN = {TEXT: "text", PLAIN: "text", URL: "web address", ITEMS: "list of {zh, en}", ID: "id", IDS: "list of ids", DATE: "date",
                INTEGER: "whole number", CHOICE: "one of", LANGUAGES: "[zh, en] or [zh]", RECORD: "mapping",
                RECORDS: "list of mappings"}


def _form(f: Field) -> str:
    """A field's form in the format document: its kind and its limits."""
    if f.kind == CHOICE:
        return "one of " + ", ".join(f"`{key}` {zh}" for key, (zh, _) in f.vocabulary.items())
    shown = _KINDS_SHOWN[f.kind]
    if f.kind in (ID, IDS):
        shown += f" ({_DEFS[f.ref]['description']})"
    if f.kind == INTEGER and f.minimum is not None:
        shown += f" {f.minimum}–{f.maximum}" if f.maximum is not None else f" ≥ {f.minimum}"
    elif f.maximum and f.kind in (TEXT, PLAIN, ITEMS):
        shown += f", ≤ {f.maximum:,} characters" + (" each" if f.kind == ITEMS else "")
    return shown


def format_table(record: Record) -> str:
    """The Markdown table of a record's fields for docs/catalog-format.md."""
    lines = ["| field | 名称 | name | must give | form |", "|---|---|---|---|---|"]
    for f in record.yaml_fields:
        keys = " ".join(f"`{key}`" for key in f.keys)
        must = "yes" if f.required else ""
        lines.append(f"| {keys} | {f.zh} | {f.en} | {must} | {_form(f)} |")
    return "\n".join(lines)


#: docs/catalog-format.md's generated parts: <!-- fields: risk --> … <!-- /fields -->.
_FORMAT_PART = re.compile(r"(<!-- fields: (\w+) -->\n).*?(<!-- /fields -->)", re.S)
_FORMAT_RECORDS = {"register": REGISTER, "unit": UNIT, "provenance": PROVENANCE, "baseline": BASELINE,
                   "publication": PUBLICATION, "totals": TOTALS, "level": LEVEL,
                   "source": SOURCE, "area": AREA, "risk": RISK, "measure": MEASURE, "post": POST, "power": POWER,
                   "step": STEP, "branch": BRANCH}


def format_document(text: str) -> str:
    """docs/catalog-format.md with each field table written anew from the registry."""
    return _FORMAT_PART.sub(lambda m: f"{m.group(1)}{format_table(_FORMAT_RECORDS[m.group(2)])}\n{m.group(3)}", text)


if __name__ == "__main__":  # python -m riskcatalog.fields: write schema.json and the format document anew
    from importlib import resources
    from pathlib import Path

    target = resources.files(__package__) / "schema.json"
    target.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {target}")
    document = Path(str(target)).parent.parent / "docs" / "catalog-format.md"
    if document.exists():  # a checkout, not an installed copy
        document.write_text(format_document(document.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"wrote {document}")
