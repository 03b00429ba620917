"""Whose register the site shows: the unit's own name, the register's title and licence, the report or
document it rests on, the repository it is kept in, and whether its text is modelled.

All of it comes from the register itself (register.yml's unit, publication and provenance, which the
build carries into the units table), so a unit that imports and builds its own register is served
under its own name with nothing of another unit's. A deployment's metadata.yml may set the site's
title, licence, source and about line, and plugins.riskcatalog.repository/branch; set, they win.
"""

from __future__ import annotations

import weakref

from .. import vocab
from ..excel.layout import register_title
from .catalogue import catalogue_database
from .datasette_adapter import site_metadata

#: Each served Datasette's units: read once, as the database is served immutable.
_UNITS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def units(datasette) -> dict[str, dict]:
    """unit id -> its row, with the title, issuer, date and key of the source its provenance names."""
    if datasette not in _UNITS:
        db = catalogue_database(datasette)
        rows = (await db.execute("""
            select u.*, s.title_zh as report_title_zh, s.title_en as report_title_en, s.date as report_date,
                   s.issuer_zh as report_issuer_zh, s.issuer_en as report_issuer_en, s.key as report_key
            from units u left join sources s on s.key = u.provenance_source order by u.rowid""")).rows
        _UNITS[datasette] = {row["id"]: dict(row) for row in rows}
    return _UNITS[datasette]


def repository(datasette, unit: dict | None) -> tuple[str, str] | None:
    """(address, branch) of the repository a unit's register is kept in, or None: no edit or commit links."""
    plugin = datasette.plugin_config("riskcatalog") or {}
    address = plugin.get("repository") or (unit or {}).get("publication_repository")
    if not address:
        return None
    return address.rstrip("/"), plugin.get("branch") or (unit or {}).get("publication_branch") or "main"


async def identity(datasette) -> dict:
    """What every page says of the register: its title (Chinese, English), licence, source and about
    lines, and the notice of a modelled text (None for official text)."""
    found = list((await units(datasette)).values())
    first, several = found[0], len(found) > 1
    meta = site_metadata(datasette)
    name = first["name_zh"] if not several else f"{len(found)} 个单位"
    title_zh = (not several and first["publication_title_zh"]) or f"{name}廉政风险点与防控措施目录"
    title_en = (not several and first["publication_title_en"]) or (
        f"{first['name_en']} integrity-risk register" if first["name_en"] and not several
        else "Integrity-risk register" + (f"s of {len(found)} units" if several else ""))
    if meta.get("title"):  # the deployment's own title, as one line
        title_zh, _, title_en = meta["title"].partition(" · ")
    kept = repository(datasette, first)
    return {
        "title_zh": title_zh, "title_en": title_en,
        "licence": meta.get("license") or (None if several else first["publication_licence"]),
        "licence_url": meta.get("license_url") or (None if several else first["publication_licence_url"]),
        "source": meta.get("source") or _source_line(first, several),
        "source_url": meta.get("source_url"),
        "report_key": None if several or meta.get("source") else first["report_key"],
        "about": meta.get("about") or ("目录仓库 Repository" if kept and not several else None),
        "about_url": meta.get("about_url") or (kept[0] if kept and not several else None),
        "notice": _notice(found),
        # The printed 登记表's title, as the workbook titles it (excel.layout).
        "register_title": register_title([unit["name_zh"] for unit in found]),
    }


def _source_line(unit: dict, several: bool) -> str | None:
    """The report or document the register rests on, as the footer credits it: 《title》, issuer, date."""
    if several or not unit["report_title_zh"]:
        return None
    return "，".join(filter(None, (f"《{unit['report_title_zh']}》", unit["report_issuer_zh"], unit["report_date"])))


def _notice(found: list[dict]) -> dict | None:
    """The notice a modelled register carries on every page: who it is modelled for and what it rests on."""
    modelled = [unit for unit in found if unit["provenance_kind"] == "modelled"]
    if not modelled:
        return None
    label_zh, label_en = vocab.TEXT_KINDS["modelled"]
    if len(modelled) < len(found):
        return {"label_zh": label_zh, "label_en": label_en,
                "zh": f"{len(found)} 个单位中有 {len(modelled)} 个单位的条目为模拟文本，不是该单位的官方文本。",
                "en": f"The entries of {len(modelled)} of the {len(found)} units are modelled, not the units' "
                      "official text."}
    unit = modelled[0]
    whose_zh = unit["name_zh"] if len(found) == 1 else "各单位"
    whose_en = unit["name_en"] or unit["name_zh"] if len(found) == 1 else "the units"
    return {"label_zh": label_zh, "label_en": label_en,
            "zh": f"本目录条目依据公开实践和国家法规拟写，不是{whose_zh}的官方文本。",
            "en": f"The entries are modelled on public practice and national regulations; they are not "
                  f"{whose_en}'s official text."}
