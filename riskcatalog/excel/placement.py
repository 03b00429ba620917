"""Powers and steps from a unit's own 登记表: where its sheet has a column of the risks' powers and one of their steps.

A published register names, on each risk's row, the power it arises in (the risk's field `power`) and the
step or steps of that power where it arises (`steps`). place() turns those texts, once every risk is read,
into the register's powers (one per distinct power text of an area, in the order first named, ids
A1-P01 …), their steps (in the order first named, ids step-1 …), the posts that exercise them (one per
distinct post, with the responsible leader of its first risk) and each risk's power and steps.
What it made, and what it could not, is said in its notes (naming the columns by the field registry's
labels): nothing is placed silently.
"""

from __future__ import annotations

from ..fields import RISK
from .reading import Imported

#: The fewest steps a flowchart has (the format's minimum): a power named with fewer gets no flowchart.
MIN_STEPS = 2
#: The columns the texts come from (the risks' power, steps and post), as the notes name them.
_POWER, _STEPS, _POST = (RISK[name].zh for name in ("power", "steps", "post"))


def place(imported: Imported) -> list[str]:
    """Declare the powers, steps and posts the risks' texts name (each risk's "steps" holds its step titles as
    read; it gets the step ids, or loses them when its power cannot be drawn); the notes to print."""
    notes: list[str] = []
    single: list[str] = []  # the powers named with one step only
    unplaced: list[str] = []  # risks with a step but no power
    posts: dict[str, dict] = {}  # a post's text -> post
    for number, area in enumerate(imported.areas, 1):
        powers: dict[str, dict] = {}  # a power's text -> power
        for risk in area["risks"]:
            titles = risk.pop("steps", [])
            if titles and not risk.get("power_zh"):
                unplaced.append(risk["id"])
                continue
            if not titles:
                continue
            power = powers.setdefault(risk["power_zh"], _power(number, len(powers) + 1, risk["power_zh"]))
            for title in titles:
                _add(power["titles"], title)
            risk["steps"] = titles  # titles for now: ids once the power is known to have enough steps
            power["risks"].append(risk)
            if risk.get("post_zh"):
                _add(power["posts"], posts.setdefault(risk["post_zh"], _post(len(posts) + 1, risk))["id"])
            for source in risk.get("sources", []):
                _add(power["sources"], source)
        area_powers = [power for power in powers.values() if _drawable(power, single)]
        if area_powers:
            area["powers"] = [_declared(power) for power in area_powers]
    if unplaced:
        notes.append(f"{len(unplaced)} 个风险点有{_STEPS}而无{_POWER}，未放入流程图：{_some(unplaced)} · {len(unplaced)} "
                     f"risks name a step but no power ({_POWER}): not placed on a flowchart")
    if single:
        notes.append(f"{len(single)} 项{_POWER}只有一个{_STEPS}，不画流程图：{_some(single, '「」')} · {len(single)} powers named "
                     f"with one step only: no flowchart (name their other steps in the {_STEPS} cells of their risks)")
    imported.posts = [post for post in posts.values()
                      if any(post["id"] in power.get("posts", []) for area in imported.areas
                             for power in area.get("powers", []))]
    placed = sum(len(area.get("powers", [])) for area in imported.areas)
    if placed:
        notes.append(f"职权 {placed} 项、岗位 {len(imported.posts)} 个取自「{_POWER}」「{_STEPS}」「{_POST}」列 · "
                     f"{placed} powers and {len(imported.posts)} posts from those columns")
    return notes


def _some(names: list[str], marks: str = "") -> str:
    """The first three names, and 等 for the rest: 「经费报销」、「工程发包」等."""
    quote = (lambda name: f"{marks[0]}{name}{marks[1]}") if marks else str  # noqa: E731
    return "、".join(map(quote, names[:3])) + ("等" if len(names) > 3 else "")


def _add(items: list, item) -> None:
    """Add item to a list that keeps each once, in the order first named."""
    if item not in items:
        items.append(item)


def _power(area_number: int, number: int, title: str) -> dict:
    return {"id": f"A{area_number}-P{number:02d}", "title_zh": title, "titles": [], "risks": [], "posts": [],
            "sources": []}


def _post(number: int, risk: dict) -> dict:
    post = {"id": f"post-{number}", "title_zh": risk["post_zh"]}
    if risk.get("responsible_leader_zh"):
        post["leader_zh"] = risk["responsible_leader_zh"]
    return post


def _drawable(power: dict, single: list[str]) -> bool:
    """Whether the power has the steps a flowchart needs; its risks stand on them, or on nothing (and the power
    is listed in single)."""
    ids = {title: f"step-{n}" for n, title in enumerate(power["titles"], 1)}
    enough = len(ids) >= MIN_STEPS
    for risk in power["risks"]:
        if enough:
            risk["power"], risk["steps"] = power["id"], [ids[title] for title in risk["steps"]]
        else:
            del risk["steps"]
    if not enough:
        single.append(power["title_zh"])
    return enough


def _declared(power: dict) -> dict:
    """A power as an area file declares it."""
    declared = {"id": power["id"], "title_zh": power["title_zh"]}
    if power["posts"]:
        declared["posts"] = power["posts"]
    if power["sources"]:
        declared["sources"] = power["sources"]
    declared["steps"] = [{"id": f"step-{n}", "title_zh": title} for n, title in enumerate(power["titles"], 1)]
    return declared
