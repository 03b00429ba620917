"""Which entries a search finds and in what order, from the search index alone.

An entry holding every word of the query (in any of its forms: riskcatalog.search.Word) is a
match; they come in tiers, most telling first:

  1. the query as typed (the whole phrase, or the one word itself) in the title;
  2. the same in the area's name;
  3. every word in the title;
  4. every word in the area's name;
  5. the query as typed in the entry's own text;
  6. every word in the entry's own text, one of them in the title;
  7. every word in the entry's own text;
  8. every word, counting the titles of the regulations it cites, one of them in the title;
  9. every word, counting the titles of the regulations it cites.

Within a tier a high level comes before a low one (risks), then register order. Then come the
entries holding some of the words but not all (部分匹配): those holding most first, and of
those, the ones holding the rarer words.

Each tier and level is one FTS5 expression (column filters, AND, NOT the tiers before it), read
in rowid order and only as far as the page needs: over a city's 26,000 matches of 报销 the first
page reads about fifty rowids per section, never every match's row or a score for each.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..search import OWN_COLUMNS, READ_COLUMNS, Reading, all_words, any_word, exact, in_columns, word_query
from ..tables import RANKED_BY


@dataclass
class Ranked:
    """One section's share of a search: its matches counted, and one page of them in order."""

    count: int = 0  # entries holding every word
    partial: int = 0  # entries holding some of the words
    rowids: list[int] = field(default_factory=list)
    #: rowid -> the indexes (in reading.words) of the words a partial match holds; absent for full matches.
    held: dict[int, list[int]] = field(default_factory=dict)


def tiers(reading: Reading) -> list[str]:
    """The tiers' FTS5 expressions, most telling first; a tier that repeats one before it is left out."""
    typed, every = exact(reading), all_words(reading)
    own, anywhere = in_columns(OWN_COLUMNS, every), in_columns(READ_COLUMNS, every)
    # Of several words, entries with one of them in the title first (审核 in 审核结果公示流于形式).
    titled = ([f"({in_columns('{title}', any_word(reading))}) AND ({within})" for within in (own, anywhere)]
              if len(reading.words) > 1 else ["", ""])
    found = [in_columns("{title}", typed), in_columns("{area}", typed), in_columns("{title}", every),
             in_columns("{area}", every), in_columns(OWN_COLUMNS, typed), titled[0], own, titled[1], anywhere]
    return list(dict.fromkeys(filter(None, found)))


def buckets(reading: Reading, levels: list[str]) -> list[str]:
    """Every tier, split by level (highest first) where the index holds one, excluding the tiers before it."""
    found = tiers(reading)
    ranked = []
    for n, tier in enumerate(found):
        expression = f"({tier})" + (f" NOT ({' OR '.join(f'({t})' for t in found[:n])})" if n else "")
        if levels:
            ranked += [f"({expression}) AND {{level}} : \"{level}\"" for level in levels]
        else:
            ranked.append(expression)
    return ranked


@dataclass
class Scope:
    """Where a section looks: its table and alias, the SQL conditions and parameters of its filters
    (on the table's rows, aliased), and the entries it leaves out (withdrawn ones: a condition on the
    index's rowid, f.rowid, which needs no row)."""

    table: str
    alias: str
    conditions: list[str]
    params: dict
    leave_out: list[str] = field(default_factory=list)
    #: Level ids highest first, for a table ranked by level (riskcatalog.tables.RANKED_BY).
    levels: list[str] = field(default_factory=list)

    @property
    def fts(self) -> str:
        return f"{self.table}_search_fts"

    def select(self, what: str, extra: str = "", rows: bool = False) -> str:
        """SQL reading the index for :match, joined to the table's rows only when a filter (or the
        caller: rows) needs their columns."""
        join = f" join [{self.table}] {self.alias} on {self.alias}.rowid = f.rowid" if self.conditions or rows else ""
        where = " and ".join([f"{self.fts} match :match", *self.leave_out, *self.conditions])
        return f"select {what} from {self.fts} f{join} where {where}{extra}"


def rank(conn, scope: Scope, reading: Reading, offset: int, limit: int) -> Ranked:
    """One page (offset, limit) of a section's matches, full ones first; runs in a database thread."""
    result = Ranked(count=_count(conn, scope, all_words(reading)))
    skip, wanted = offset, limit
    levels = scope.levels if scope.table in RANKED_BY else []
    for expression in buckets(reading, levels) if result.count > offset else []:
        if not wanted:
            break
        if skip:  # earlier pages' buckets are counted, not read
            size = _count(conn, scope, expression)
            if size <= skip:
                skip -= size
                continue
        rows = conn.execute(scope.select("f.rowid", " order by f.rowid limit :limit offset :offset"),
                            {**scope.params, "match": expression, "limit": wanted, "offset": skip}).fetchall()
        result.rowids += [row[0] for row in rows]
        wanted -= len(rows)
        skip = 0
    if len(reading.words) > 1:
        _partial(conn, scope, reading, result, max(0, offset - result.count), wanted)
    return result


def _count(conn, scope: Scope, expression: str) -> int:
    return conn.execute(scope.select("count(*)"), {**scope.params, "match": expression}).fetchone()[0]


def _partial(conn, scope: Scope, reading: Reading, result: Ranked, offset: int, limit: int) -> None:
    """Entries holding some of the words but not all: how many, and (if the page has room) those
    holding most first, each with the words it holds."""
    words = [in_columns(READ_COLUMNS, word_query(word)) for word in reading.words]
    some = f"({in_columns(READ_COLUMNS, any_word(reading))}) NOT ({in_columns(READ_COLUMNS, all_words(reading))})"
    result.partial = _count(conn, scope, some)
    if not limit or not result.partial:
        return
    fts, a = scope.fts, scope.alias
    holds = [f"(f.rowid in (select rowid from {fts} where {fts} match :w{n}))" for n in range(len(words))]
    # A word fewer entries hold says more: of two entries holding as many words, the one holding the
    # rarer ones comes first (the inverse of how many entries hold each, as bm25 weighs terms).
    rarity = " + ".join(f"{hold} * {1 / max(1, _count(conn, scope, word)):.9f}" for hold, word in zip(holds, words))
    ranked = scope.table in RANKED_BY  # a page of partial matches at a time: their level is read from their rows
    level = f"(select rank from levels where id = {a}.{RANKED_BY[scope.table]}), " if ranked else ""
    params = {**scope.params, "match": some, "limit": limit, "offset": offset,
              **{f"w{n}": w for n, w in enumerate(words)}}
    rows = conn.execute(scope.select(f"f.rowid, {' + '.join(holds)} as held, {rarity} as rarity",
                                     f" order by held desc, rarity desc, {level}f.rowid limit :limit offset :offset",
                                     rows=ranked), params).fetchall()
    shown = [row[0] for row in rows]
    if not shown:
        return
    result.rowids += shown
    for n, word in enumerate(words):
        having = conn.execute(f"select rowid from {fts} where {fts} match :w and rowid in "
                              f"({', '.join(map(str, shown))})", {"w": word}).fetchall()
        for (rowid,) in having:
            result.held.setdefault(rowid, []).append(n)

