"""The powers' pages (issue 25): the 职权目录 (/powers), a page per power with its flowchart (/powers/<key>), the
posts' risk cards (/cards, /cards/<key>), and their Word downloads (/-/cards.docx, /-/handbook.docx).

The data comes from riskcatalog.documents.data, run on the catalogue database's connection; the flowcharts
are drawn by riskcatalog.documents.flowchart as inline SVG, three times where it helps: wide for a desk,
narrow for a phone (CSS shows one), and, for a long power, broad to print on one A4 page. Both are imported
when a page of the powers is first asked for (documents), so that a server starts with the site alone.
"""

from __future__ import annotations

import asyncio
import io
from urllib.parse import urlencode

from datasette import NotFound, Response
from markupsafe import Markup

from . import params
from .catalogue import catalogue_database

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def documents():
    """riskcatalog.documents' data and flowchart modules, imported on first use."""
    from ..documents import data, flowchart

    return data, flowchart


async def _read(datasette, read):
    """read(conn) on one of Datasette's SQL threads, against the catalogue database."""
    return await catalogue_database(datasette).execute_fn(read)


async def _unit(datasette, request) -> dict:
    """The unit a page is about: ?unit=ID, else the first register that declares powers (or the first)."""
    data, _ = documents()
    units = await _read(datasette, data.units)
    wanted = params.read(request.args, params.POWERS)["unit"]
    if wanted:
        found = [unit for unit in units if unit["id"] == wanted]
        if not found:
            raise NotFound(f"没有单位 {wanted}。No unit has the id {wanted}.")
        return found[0]
    return next((unit for unit in units if unit["powers"]), units[0])


def _unit_query(unit: dict, several: bool) -> str:
    return "?" + urlencode({"unit": unit["id"]}) if several else ""


async def catalogue_page(datasette, request) -> dict:
    """The 职权目录 of a unit: its powers area by area (posts, basis, steps, risks by level), then by post."""
    data, _ = documents()
    unit = await _unit(datasette, request)
    powers, posts, levels = await _read(datasette, lambda conn: (data.catalogue(conn, unit["id"]),
                                                                 data.posts(conn, unit["id"]), data.levels(conn)))
    areas: dict[str, dict] = {}
    for power in powers:
        area = areas.setdefault(power.area_key, {"key": power.area_key, "name_zh": power.area_zh,
                                                 "name_en": power.area_en, "powers": []})
        area["powers"].append({"power": power, "levels": _level_counts(power.risks, levels)})
    by_post = []
    for post in posts:
        exercised = [power for power in powers
                     if post.key in {p.key for p in power.posts} or any(s.post == post.key for s in power.steps)]
        by_post.append({"post": post, "powers": exercised})
    units = await _read(datasette, data.units)
    return {"unit": unit, "units": units, "areas": list(areas.values()), "by_post": by_post,
            "levels": list(levels.values()), "unit_query": _unit_query(unit, len(units) > 1),
            "counts": {"powers": len(powers), "steps": sum(len(p.steps) for p in powers),
                       "risks": sum(len(p.risks) for p in powers), "posts": len(posts)}}


def _level_counts(risks: list, levels: dict) -> list[tuple]:
    """(level, how many of the risks have it) for each level the risks have, highest first."""
    return [(level, sum(risk.level == level.id for risk in risks)) for level in levels.values()
            if any(risk.level == level.id for risk in risks)]


async def power_page(datasette, request, reference: str) -> dict | Response:
    """A power's page: who exercises it, its basis, its flowchart (SVG), and the same as an ordered list."""
    data, flowchart = documents()
    key = await _key(datasette, request, "powers", reference)
    if isinstance(key, Response):
        return key
    db = catalogue_database(datasette)
    power, levels = await _read(datasette, lambda conn: (data.power(conn, key), data.levels(conn)))
    href = lambda table, row_key: datasette.urls.row(db.name, table, row_key)  # noqa: E731
    wide, narrow = (flowchart.layout(power, levels, mode, href) for mode in ("wide", "narrow"))
    printed = flowchart.for_print(power, levels, href)
    charts = {"wide": Markup(flowchart.svg(wide, f"{power.id}-wide", "flowchart flow-wide")),
              "narrow": Markup(flowchart.svg(narrow, f"{power.id}-narrow", "flowchart flow-narrow"))}
    if printed.width != wide.width:  # a long power prints larger in the broad layout
        charts["print"] = Markup(flowchart.svg(printed, f"{power.id}-print", "flowchart flow-print"))
    units = await _read(datasette, data.units)
    unit = next(u for u in units if u["id"] == power.unit)
    return {"power": power, "levels": levels, "charts": charts, "unit": unit,
            "unit_query": _unit_query(unit, len(units) > 1)}


async def cards_page(datasette, request, reference: str | None = None) -> dict | Response:
    """The risk cards of a unit's posts (or of one post), each to print on an A4 page of its own."""
    data, _ = documents()
    post_key = None if reference is None else await _key(datasette, request, "posts", reference)
    if isinstance(post_key, Response):
        return post_key
    unit = await _unit(datasette, request) if post_key is None else await _unit_of_post(datasette, post_key)
    cards, levels, units = await _read(datasette, lambda conn: (data.cards(conn, unit["id"], post_key),
                                                                data.levels(conn), data.units(conn)))
    return {"cards": cards, "levels": levels, "unit": unit, "units": units, "one": post_key is not None,
            "unit_query": _unit_query(unit, len(units) > 1), "commitment": (data.COMMITMENT_ZH, data.COMMITMENT_EN)}


async def _unit_of_post(datasette, post_key: str) -> dict:
    data, _ = documents()
    unit_id = (await catalogue_database(datasette).execute("select unit from posts where key = ?", [post_key])).first()[0]
    return next(unit for unit in await _read(datasette, data.units) if unit["id"] == unit_id)


async def _key(datasette, request, table: str, reference: str) -> str | Response:
    """The key a page's address names: a key (yijia-WELF-P01), or an id as readers write it (WELF-P01,
    welf-p01 for a power; cashier for a post) with ?unit= where several registers have it."""
    db = catalogue_database(datasette)
    exact = await db.execute(f"select key from {table} where key = ?", [reference])
    if exact.first():
        return reference
    wanted = reference.upper() if table == "powers" else reference.lower()
    unit = params.read(request.args, params.POWERS)["unit"]
    found = [row["key"] for row in await db.execute(
        f"select key from {table} where id = ?" + (" and unit = ?" if unit else ""), [wanted] + ([unit] if unit else []))]
    what_zh, what_en = ("职权", "power") if table == "powers" else ("岗位", "post")
    if len(found) == 1:
        return Response.redirect(datasette.urls.path(f"/{'powers' if table == 'powers' else 'cards'}/{found[0]}"))
    if found:
        units = "、".join(key.removesuffix("-" + wanted) for key in found)
        raise NotFound(f"{len(found)} 个单位都有编号为 {wanted} 的{what_zh}（{units}）：请加上 ?unit=。"
                       f"{len(found)} units have a {what_en} {wanted}: add ?unit=.")
    raise NotFound(f"没有编号为 {reference} 的{what_zh}。No {what_en} has the id {reference}.")


# --- the Word downloads -----------------------------------------------------------------------------------------

async def word_download(datasette, request, build, name: str) -> Response:
    """A Word document built off the event loop, as an attachment. A download (.docx): the door
    (riskcatalog.site.limits) admits it with every other costly request."""
    from . import downloads
    from ..documents.picture import NoChineseFont

    try:
        made = await asyncio.get_running_loop().run_in_executor(None, build)
    except NoChineseFont as exc:
        return Response.text(f"{exc}\n服务器缺少中文字体，无法绘制流程图：请管理员安装（如 apt-get install fonts-wqy-microhei）。\n",
                             status=503)
    return Response(made, content_type=DOCX, headers=downloads.attachment(name))


async def handbook_download(datasette, request) -> Response:
    """/-/handbook.docx?unit=ID: the register's 廉政风险防控手册 (read on a SQL thread, written on another)."""
    from ..documents import word

    unit = await _unit(datasette, request)
    book = await _read(datasette, lambda conn: word.read_handbook(conn, unit["id"]))
    return await word_download(datasette, request, lambda: word.handbook_bytes(book),
                               f"{unit['name_zh']}廉政风险防控手册.docx")


async def cards_download(datasette, request) -> Response:
    """/-/cards.docx?unit=ID[&post=KEY]: the risk cards of a register's posts, or of one post."""
    data, _ = documents()
    from ..documents import word

    post = params.read(request.args, params.CARDS)["post"]
    key = await _key(datasette, request, "posts", post) if post else None
    if isinstance(key, Response):  # an id: the card of the post it names
        key = key.headers["Location"].rsplit("/", 1)[1]
    unit = await _unit_of_post(datasette, key) if key else await _unit(datasette, request)
    cards, levels = await _read(datasette, lambda conn: (data.cards(conn, unit["id"], key), data.levels(conn)))
    if not cards:
        raise NotFound("此单位没有岗位（posts.yml），没有防控卡。This register declares no posts, so it has no cards.")

    def build() -> bytes:
        out = io.BytesIO()
        word.cards_document(cards, levels, out)
        return out.getvalue()

    title = cards[0].unit_zh + (cards[0].post.title_zh if key else "")
    return await word_download(datasette, request, build, f"{title}岗位廉政风险防控卡.docx")
