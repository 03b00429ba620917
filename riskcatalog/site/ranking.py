"""Which entries a search finds and in what order, from the search indexes alone.

An entry holding every word of the query (in any of its forms: riskcatalog.search.Word) is a
match; they come in tiers, most telling first:

  1. the query as typed (the whole phrase, or the one word itself) in the title;
  2. the same in the area's name;
  3. every word in the title;
  4. every word in the area's name;
  5. of several words, one of them in the title;
  6. the query as typed in the entry's own text;
  7. every word in the entry's own text;
  8. every word, counting the titles of the regulations it cites.

Within a tier a high level comes before a low one (risks), then register order. Then come the
entries holding some of the words but not all (部分匹配): those holding most first, and of
those, the ones holding the rarer words.

Each tier and level is one FTS5 expression, read in rowid order and only as far as the page
needs. Tiers 1–4 read the headings' index (riskcatalog.tables.SEARCH_INDEXES: titles and area
names, a tenth of the whole), whose lists are short even for a city's common words; the others
read the whole index, leaving out what the tiers before placed. Over a city's 26,000 matches of
报销 the first page reads twenty rowids per section, never every match's row or a score for each;
the count is the one full pass (docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..search import OWN_COLUMNS, READ_COLUMNS, Reading, all_words, any_word, exact, in_columns, word_query
from ..tables import RANKED_BY, index_name


@dataclass
class Ranked:
    """One section's share of a search: its matches counted, and one page of them in order."""

    count: int = 0  # entries holding every word
    partial: int | None = None  # entries holding some of the words: counted when this page reaches them
    rowids: list[int] = field(default_factory=list)
    #: rowid -> the indexes (in reading.words) of the words a partial match holds; absent for full matches.
    held: dict[int, list[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Tier:
    """One tier: the index it reads ("titles" or "search") and its expression there."""

    index: str
    expression: str


def tiers(reading: Reading) -> list[Tier]:
    """The tiers, most telling first, each excluding those before it; a tier that repeats one is left out.

    The first four read the headings' index alone (short lists); the rest read the whole index, leaving
    out what the headings placed, lazily: each is read only as far as the page needs."""
    typed, every = exact(reading), all_words(reading)
    anywhere = in_columns(READ_COLUMNS, every)
    headed = list(dict.fromkeys([in_columns("{title}", typed), in_columns("{area}", typed),
                                 in_columns("{title}", every), in_columns("{area}", every)]))
    found = [Tier("titles", _excluding(expression, headed[:n])) for n, expression in enumerate(headed)]
    if len(reading.words) > 1:  # one of the words in the title, all of them somewhere
        found.append(Tier("search", _excluding(f"({in_columns('{title}', any_word(reading))}) AND ({anywhere})",
                                               headed)))
    placed = [f"({in_columns('{title}', any_word(reading))}) OR ({in_columns('{area}', every)})"]
    rest = list(dict.fromkeys([in_columns(OWN_COLUMNS, typed), in_columns(OWN_COLUMNS, every), anywhere]))
    return found + [Tier("search", _excluding(expression, placed + rest[:n])) for n, expression in enumerate(rest)]


def _excluding(expression: str, before: list[str]) -> str:
    return f"({expression})" + (f" NOT ({' OR '.join(f'({b})' for b in before)})" if before else "")


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

    def select(self, what: str, index: str = "search", extra: str = "", rows: bool = False) -> str:
        """SQL reading one index for :match, joined to the table's rows only when a filter (or the
        caller: rows) needs their columns."""
        fts = index_name(self.table, index)
        join = f" join [{self.table}] {self.alias} on {self.alias}.rowid = f.rowid" if self.conditions or rows else ""
        conditions = " and ".join([f"{fts} match :match", *self.leave_out, *self.conditions])
        return f"select {what} from {fts} f{join} where {conditions}{extra}"


def rank(conn, scope: Scope, reading: Reading, offset: int, limit: int) -> Ranked:
    """One page (offset, limit) of a section's matches, full ones first; runs in a database thread."""
    result = Ranked(count=_count(conn, scope, "search", in_columns(READ_COLUMNS, all_words(reading))))
    skip, wanted = offset, limit
    levels = scope.levels if scope.table in RANKED_BY else [""]
    for tier in tiers(reading) if result.count > offset else []:
        for level in levels:
            if not wanted:
                break
            expression = f"({tier.expression}) AND {{level}} : \"{level}\"" if level else tier.expression
            if skip:  # earlier pages' entries are counted, not read
                size = _count(conn, scope, tier.index, expression)
                if size <= skip:
                    skip -= size
                    continue
            shown = [row[0] for row in conn.execute(
                scope.select("f.rowid", tier.index, " order by f.rowid limit :limit offset :offset"),
                {**scope.params, "match": expression, "limit": wanted, "offset": skip})]
            skip = 0
            result.rowids += shown
            wanted -= len(shown)
    if len(reading.words) > 1 and offset + limit > result.count:  # the page reaches past the full matches
        _partial(conn, scope, reading, result, max(0, offset - result.count), wanted)
    return result


def _count(conn, scope: Scope, index: str, expression: str) -> int:
    return conn.execute(scope.select("count(*)", index), {**scope.params, "match": expression}).fetchone()[0]


def _partial(conn, scope: Scope, reading: Reading, result: Ranked, offset: int, limit: int) -> None:
    """Entries holding some of the words but not all: how many, and (if the page has room) those
    holding most first, each with the words it holds."""
    words = [in_columns(READ_COLUMNS, word_query(word)) for word in reading.words]
    some = f"({in_columns(READ_COLUMNS, any_word(reading))}) NOT ({in_columns(READ_COLUMNS, all_words(reading))})"
    result.partial = _count(conn, scope, "search", some)
    if not limit or not result.partial:
        return
    fts, a = index_name(scope.table), scope.alias
    holds = [f"(f.rowid in (select rowid from {fts} where {fts} match :w{n}))" for n in range(len(words))]
    # A word fewer entries hold says more: of two entries holding as many words, the one holding the
    # rarer ones comes first (the inverse of how many entries hold each, as bm25 weighs terms).
    rarity = " + ".join(f"{hold} * {1 / max(1, _count(conn, scope, 'search', word)):.9f}"
                        for hold, word in zip(holds, words))
    ranked = scope.table in RANKED_BY  # a page of partial matches at a time: their level is read from their rows
    level = f"(select rank from levels where id = {a}.{RANKED_BY[scope.table]}), " if ranked else ""
    params = {**scope.params, "match": some, "limit": limit, "offset": offset,
              **{f"w{n}": w for n, w in enumerate(words)}}
    rows = conn.execute(scope.select(f"f.rowid, {' + '.join(holds)} as held, {rarity} as rarity", "search",
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
