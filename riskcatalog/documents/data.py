"""What the powers' documents show, read from a catalogue database: the catalogue of powers (职权目录), a
power's flow with the risks standing on its steps (权力运行流程图), a post's risk card (岗位廉政风险防控卡).

Every function takes a sqlite3 connection, as the workbook writer does: `build.py handbook` hands over a
database compiled in memory, the site its served database (through Datasette's execute_fn). Keys are the
database's (<unit>-<id>); ids are shown. Withdrawn risks and measures are left out: these documents are
what a unit posts and signs now.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field


#: The commitment (廉政承诺) a post's holder signs on the card, with the responsible leader.
COMMITMENT_ZH = ("本人已知悉本岗位的职权事项、廉政风险点及防控措施。本人承诺：严格依照法律法规和规定程序行使职权，不以权谋私，"
                 "不优亲厚友，不收受可能影响公正履职的礼品礼金；认真落实本卡所列各项防控措施，发现风险及时报告；自觉接受组织"
                 "和群众监督。如有违反，愿意接受组织处理。")
COMMITMENT_EN = ("I know the powers of this post, the integrity risks in them and the measures that control them. I "
                 "undertake to exercise these powers only as the law, the regulations and the set procedures provide; not "
                 "to use them for private gain or to favour relatives and friends; not to accept gifts or money that could "
                 "affect the fair performance of my duties; to carry out every measure on this card and report any risk I "
                 "find; and to accept the supervision of the organisation and the public. If I break this undertaking, I "
                 "accept the organisation's decision.")


@dataclass(frozen=True)
class Level:
    id: str
    zh: str  #: 一级
    en: str  #: high
    colour: str
    text_colour: str


@dataclass
class Measure:
    key: str
    id: str
    title_zh: str
    title_en: str | None


@dataclass
class Risk:
    """A risk as the flowcharts and cards show it: its level, the steps it stands on (positions in its power's
    flow) and its measures."""

    key: str
    id: str
    title_zh: str
    title_en: str | None
    level: str
    power: str | None  #: its power's key
    steps: list[int] = field(default_factory=list)  #: positions of its steps in its power's flow, in flow order
    measures: list[Measure] = field(default_factory=list)
    seq: int = 0  #: its number in the register's order


@dataclass
class Branch:
    when_zh: str
    when_en: str | None
    to: int | None  #: the position of the step it goes to, or None where the flow ends
    end_zh: str | None
    end_en: str | None


@dataclass
class Step:
    key: str
    id: str
    position: int
    title_zh: str
    title_en: str | None
    actor_zh: str | None
    actor_en: str | None
    days_zh: str | None
    days_en: str | None
    post_zh: str | None
    post_en: str | None
    post: str | None = None  #: the key of the post that acts at it
    branches: list[Branch] = field(default_factory=list)
    risks: list[Risk] = field(default_factory=list)  #: the risks standing on it, in register order


@dataclass
class Source:
    key: str
    title_zh: str
    title_en: str | None
    number: str | None


@dataclass
class Post:
    key: str
    id: str
    title_zh: str
    title_en: str | None
    department_zh: str | None
    department_en: str | None
    leader_zh: str | None
    leader_en: str | None


@dataclass
class Power:
    """A power with its steps (each with its branches and the risks standing on it), posts and basis."""

    key: str
    id: str
    unit: str
    title_zh: str
    title_en: str | None
    description_zh: str | None
    description_en: str | None
    area_key: str
    area_zh: str
    area_en: str | None
    posts: list[Post] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    risks: list[Risk] = field(default_factory=list)  #: every active risk standing on it, in register order


@dataclass
class Card:
    """A post's risk card: its unit, its powers and the risks it answers for, each with its measures."""

    unit_zh: str
    unit_en: str | None
    post: Post
    powers: list[Power]  #: the powers it exercises or acts in (steps and risks not filled in)
    risks: list[Risk]
    step_titles: dict[tuple[str, int], str]  #: (power key, position) -> the step's title, for the risks' steps


def rows(conn: sqlite3.Connection, sql: str, *params) -> list[dict]:
    cursor = conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor]


def levels(conn: sqlite3.Connection) -> dict[str, Level]:
    """The levels with their labels and colours, highest first."""
    return {row["id"]: Level(row["id"], row["label_zh"], row["label_en"], row["colour"], row["text_colour"])
            for row in rows(conn, "select * from levels order by rank")}


def units(conn: sqlite3.Connection) -> list[dict]:
    """Every unit with how many powers and posts it declares, in the order the build wrote them."""
    return rows(conn, """select u.id, u.name_zh, u.name_en,
                                (select count(*) from powers p where p.unit = u.id) as powers,
                                (select count(*) from posts p where p.unit = u.id) as posts
                         from units u order by u.rowid""")


def _post(row: dict) -> Post:
    return Post(row["key"], row["id"], row["title_zh"], row["title_en"], row["department_zh"], row["department_en"],
                row["leader_zh"], row["leader_en"])


def _power(row: dict) -> Power:
    return Power(row["key"], row["id"], row["unit"], row["title_zh"], row["title_en"], row["description_zh"],
                 row["description_en"], row["area"], row["area_zh"], row["area_en"])


_POWERS = """select p.*, a.name_zh as area_zh, a.name_en as area_en from powers p join areas a on a.key = p.area"""


def catalogue(conn: sqlite3.Connection, unit: str) -> list[Power]:
    """A unit's powers in the register's order (area by area), each with its posts, basis and step count (steps
    listed without their risks), and the active risks standing on it."""
    powers = [_power(row) for row in rows(conn, f"{_POWERS} where p.unit = ? order by a.position, p.rowid", unit)]
    by_key = {power.key: power for power in powers}
    for row in rows(conn, """select pp.power, s.* from power_posts pp join posts s on s.key = pp.post
                             join powers p on p.key = pp.power where p.unit = ? order by pp.power, pp.position""", unit):
        by_key[row["power"]].posts.append(_post(row))
    _add_sources(conn, by_key, "join powers p on p.key = x.power where p.unit = ?", unit)
    for row in rows(conn, "select s.* from steps s where s.unit = ? order by s.power, s.position", unit):
        by_key[row["power"]].steps.append(_step(row))
    for risk in _risks(conn, "r.unit = ? and r.power is not null", unit):
        by_key[risk.power].risks.append(risk)
    return powers


def _add_sources(conn: sqlite3.Connection, by_key: dict[str, Power], where: str, *params) -> None:
    for row in rows(conn, f"""select x.power, s.key, s.title_zh, s.title_en, s.number from power_sources x
                              join sources s on s.key = x.source {where} order by x.rowid""", *params):
        by_key[row["power"]].sources.append(Source(row["key"], row["title_zh"], row["title_en"], row["number"]))


def _step(row: dict, post: dict | None = None) -> Step:
    return Step(row["key"], row["id"], row["position"], row["title_zh"], row["title_en"], row["actor_zh"],
                row["actor_en"], row["days_zh"], row["days_en"], (post or {}).get("title_zh"),
                (post or {}).get("title_en"), row["post"])


def _risks(conn: sqlite3.Connection, where: str, *params) -> list[Risk]:
    """Active risks (in register order) with their steps' positions and their active measures."""
    found = [Risk(row["key"], row["id"], row["title_zh"], row["title_en"], row["level"], row["power"], seq=row["seq"])
             for row in rows(conn, f"select r.key, r.id, r.title_zh, r.title_en, r.level, r.power, r.seq from risks r "
                                   f"where {where} and r.status = 'active' order by r.unit, r.seq", *params)]
    by_key = {risk.key: risk for risk in found}
    if not found:
        return found
    keys = json.dumps(list(by_key))
    for row in rows(conn, """select x.risk, s.position from risk_steps x join steps s on s.key = x.step
                             where x.risk in (select value from json_each(?)) order by x.risk, s.position""", keys):
        by_key[row["risk"]].steps.append(row["position"])
    for row in rows(conn, """select x.risk, m.key, m.id, m.title_zh, m.title_en from risk_measures x
                             join measures m on m.key = x.measure where x.risk in (select value from json_each(?))
                             and m.status = 'active' order by x.risk, x.position""", keys):
        by_key[row["risk"]].measures.append(Measure(row["key"], row["id"], row["title_zh"], row["title_en"]))
    return found


def power(conn: sqlite3.Connection, key: str) -> Power | None:
    """One power with everything its flowchart shows: steps in order, their branches, the risks on each step."""
    found = rows(conn, f"{_POWERS} where p.key = ?", key)
    if not found:
        return None
    result = _power(found[0])
    result.posts = [_post(row) for row in rows(conn, """select s.* from power_posts pp join posts s on s.key = pp.post
                                                        where pp.power = ? order by pp.position""", key)]
    _add_sources(conn, {key: result}, "where x.power = ?", key)
    posts = {row["key"]: row for row in rows(conn, "select key, title_zh, title_en from posts where unit = ?",
                                             result.unit)}
    result.steps = [_step(row, posts.get(row["post"]))
                    for row in rows(conn, "select * from steps where power = ? order by position", key)]
    at = {step.key: step for step in result.steps}
    for row in rows(conn, """select b.*, t.position as to_position from branches b left join steps t on t.key = b.to_step
                             where b.step in (select key from steps where power = ?) order by b.step, b.position""", key):
        at[row["step"]].branches.append(Branch(row["when_zh"], row["when_en"], row["to_position"], row["end_zh"],
                                               row["end_en"]))
    result.risks = _risks(conn, "r.power = ?", key)
    for risk in result.risks:
        for position in risk.steps:
            result.steps[position - 1].risks.append(risk)
    return result


def posts(conn: sqlite3.Connection, unit: str) -> list[Post]:
    """A unit's posts, in the order posts.yml lists them."""
    return [_post(row) for row in rows(conn, "select * from posts where unit = ? order by rowid", unit)]


def cards(conn: sqlite3.Connection, unit: str, post_key: str | None = None) -> list[Card]:
    """The risk card of each post of a unit (or of one post): the powers it exercises (as listed on the power) or
    acts in (at a step); the risks standing on a step it acts at, or, where none of a risk's steps names a post,
    on a power it exercises; each risk with its measures, in register order."""
    unit_row = rows(conn, "select name_zh, name_en from units where id = ?", unit)
    if not unit_row:
        return []
    chosen = [post for post in posts(conn, unit) if post_key in (None, post.key)]
    powers = {power.key: power for power in catalogue(conn, unit)}
    acting = rows(conn, "select key, power, position, post from steps where unit = ?", unit)
    exercised = rows(conn, "select power, post from power_posts pp join powers p on p.key = pp.power where p.unit = ?",
                     unit)
    titles = {(step.key): step.title_zh for power in powers.values() for step in power.steps}
    step_titles = {(row["power"], row["position"]): titles[row["key"]] for row in acting}
    posts_at = {(row["power"], row["position"]): row["post"] for row in acting}
    found = []
    for post in chosen:
        own = {row["power"] for row in exercised if row["post"] == post.key}
        acts = {row["power"] for row in acting if row["post"] == post.key}
        risks = [risk for power in powers.values() for risk in power.risks
                 if _answers_for(post.key, risk, own, posts_at)]
        risks.sort(key=lambda risk: risk.seq)
        found.append(Card(unit_row[0]["name_zh"], unit_row[0]["name_en"], post,
                          [power for power in powers.values() if power.key in own | acts], risks, step_titles))
    return found


def _answers_for(post: str, risk: Risk, exercised: set[str], posts_at: dict[tuple[str, int], str | None]) -> bool:
    """Whether a post answers for a risk: it acts at one of the risk's steps, or none of them names a post and the
    post exercises the risk's power."""
    named = {posts_at.get((risk.power, position)) for position in risk.steps} - {None}
    return post in named if named else risk.power in exercised

