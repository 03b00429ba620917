"""Search quality on the judged query set (tests/data/search_judgements.yml), as `make bench` reports it."""

from __future__ import annotations

from benchmarks import quality


async def test_recall_at_3_on_the_judged_queries_is_at_least_95_percent(catalog_db):
    """At least 95 % of the judged queries (phrases, the field's words, word orders, Traditional, English,
    ids, areas, questions) find an entry a reader expects among the first three of its section."""
    queries = quality.judgements()
    assert len(queries) >= 80
    figures = quality.summary(await quality.judge_all(catalog_db, queries))
    missed = "\n".join(f"{m['q']}: expected {m['expect']}, first {m['first']}" for m in figures["missed"])
    assert figures["recall_at_3"] >= 0.95, missed
    assert set(figures["by_kind"]) >= {"phrase", "synonym", "order", "traditional", "english", "id"}
