"""Search quality over the judged query set (tests/data/search_judgements.yml): recall@3 and MRR.

`python -m benchmarks.quality [DB]` builds the shipped catalogue (or reads DB) and asks the real
search (/search.json of an in-process Datasette with the project's plugin) every judged query.
A query is answered when one of the entries it expects is among the first three of its section
(risks, measures or regulations, as the page lists them; an id opens its entry: rank 1); its
reciprocal rank is 1 / the best such position on the first page (0 if none is there). The judged
set is written from the catalogue, independently of the search code: never edit it to suit a ranking.
`--compare` measures the other ways of reading a query (VARIANTS) on the same database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from datasette.app import Datasette

from riskcatalog import build as builder, search, thesaurus
from riskcatalog.site.serve import METADATA, SETTINGS

from . import ROOT

JUDGEMENTS = ROOT / "tests" / "data" / "search_judgements.yml"
#: Among how many of its section's first results an expected entry must be.
FIRST = 3


@dataclass
class Judged:
    """One judged query and what the search made of it."""

    q: str
    kind: str
    expect: list[str]
    rank: int | None  # best position of an expected entry in its section; None if not on the first page
    first: dict[str, list[str]]  # each section's first results, as the judged set names entries

    @property
    def answered(self) -> bool:
        return self.rank is not None and self.rank <= FIRST


def judgements(path: Path = JUDGEMENTS) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]


def datasette(db_path: Path) -> Datasette:
    """An in-process Datasette serving db_path as the site serves it (metadata, templates, plugin)."""
    metadata = yaml.safe_load((ROOT / METADATA).read_text(encoding="utf-8"))
    return Datasette([str(db_path)], metadata=metadata, template_dir=str(ROOT / "templates"),
                     static_mounts=[("static", str(ROOT / "static"))], settings=SETTINGS)


async def judge(ds: Datasette, query: dict) -> Judged:
    response = await ds.client.get("/search.json", params={"q": query["q"]})
    found = response.json()
    expect = [str(e) for e in query["expect"]]
    if found.get("entry"):
        first = {"entry": [found["entry"]["id"]]}
    else:
        first = {kind: [("sources:" if kind == "sources" else "") + row["id"] for row in found[kind]["rows"]]
                 for kind in ("risks", "measures", "sources") if kind in found}
    ranks = [ids.index(e) + 1 for ids in first.values() for e in expect if e in ids]
    return Judged(query["q"], query.get("kind", ""), expect, min(ranks, default=None),
                  {kind: ids[:FIRST] for kind, ids in first.items()})


async def judge_all(db_path: Path, queries: list[dict]) -> list[Judged]:
    ds = datasette(db_path)
    return [await judge(ds, query) for query in queries]


def summary(judged: list[Judged]) -> dict:
    """recall@3 and the mean reciprocal rank, overall and by kind of query."""
    def figures(items: list[Judged]) -> dict:
        return {"queries": len(items), "recall_at_3": sum(j.answered for j in items) / len(items),
                "mrr": sum(1 / j.rank if j.rank else 0 for j in items) / len(items)}
    kinds = sorted({j.kind for j in judged})
    return {**figures(judged), "by_kind": {kind: figures([j for j in judged if j.kind == kind]) for kind in kinds},
            "missed": [{"q": j.q, "expect": j.expect, "first": j.first} for j in judged if not j.answered]}


def measure(db_path: Path | None = None, path: Path = JUDGEMENTS) -> dict:
    """The judged set's figures against db_path (default: the shipped catalogue, built afresh)."""
    with tempfile.TemporaryDirectory() as tmp:
        if db_path is None:
            db_path = Path(tmp) / "catalog.db"
            builder.build([ROOT / "catalog"], db_path, history=False)
        return summary(asyncio.run(judge_all(db_path, judgements(path))))


def _as_one_phrase(monkeypatch) -> None:
    monkeypatch(search, "segment", lambda run: [run])
    monkeypatch(search, "_parts", lambda word: [])


def _as_pairs(monkeypatch) -> None:
    monkeypatch(search, "segment", lambda run: search.pairs(run) if len(run) > 1 else [run])
    monkeypatch(search, "_parts", lambda word: [])
    monkeypatch(search, "MAX_WORDS", 40)


def _jieba_alone(monkeypatch) -> None:
    import rjieba

    plain = rjieba.Jieba()
    monkeypatch(search, "segment", lambda run: plain.cut(run, False))


def _no_thesaurus(monkeypatch) -> None:
    empty = thesaurus.Thesaurus()
    monkeypatch(thesaurus, "shipped", lambda: empty)


#: Other ways of reading a query, on the same index, tiers and pages, for `--compare`: what the
#: choice of word segmentation with the thesaurus is measured against.
VARIANTS = {
    "each Chinese run one phrase (no segmentation)": _as_one_phrase,
    "n-grams: the query's character pairs as words, most and rarest held first": _as_pairs,
    "jieba's dictionary alone (no thesaurus terms kept whole, no rules for lone characters)": _jieba_alone,
    "segmentation without the thesaurus": _no_thesaurus,
}


def compare(db_path: Path) -> dict[str, dict]:
    """The judged set's figures for the search as it is and for each of VARIANTS."""
    results = {"as built: jieba with the thesaurus's terms": summary(asyncio.run(judge_all(db_path, judgements())))}
    for name, change in VARIANTS.items():
        saved: list[tuple[object, str, object]] = []

        def monkeypatch(owner, attribute, value):
            saved.append((owner, attribute, getattr(owner, attribute)))
            setattr(owner, attribute, value)

        change(monkeypatch)
        try:
            results[name] = summary(asyncio.run(judge_all(db_path, judgements())))
        finally:
            for owner, attribute, value in reversed(saved):
                setattr(owner, attribute, value)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__.splitlines()[0])
    parser.add_argument("db", nargs="?", type=Path, help="a database built from catalog/ (default: build one)")
    parser.add_argument("--compare", action="store_true", help="also measure the other ways of reading a query")
    options = parser.parse_args(argv)
    if not options.compare:
        print(json.dumps(measure(options.db), ensure_ascii=False, indent=1))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        db_path = options.db or Path(tmp) / "catalog.db"
        if options.db is None:
            builder.build([ROOT / "catalog"], db_path, history=False)
        for name, figures in compare(db_path).items():
            print(f"{figures['recall_at_3']:6.1%}  MRR {figures['mrr']:.3f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
