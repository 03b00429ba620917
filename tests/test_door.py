"""The door's one admission (riskcatalog.site.limits): every costly request takes a turn.

Searches and lists, table filters and facets, downloads and readers' SQL all pass the same
Admission: they work one at a time (the SQL threads but two), at most eight are admitted at
once, and the rest are answered 503 at once; the home page and entry pages never wait for a turn.
"""

from __future__ import annotations

import asyncio
import threading
import time
import types
from urllib.parse import quote

import pytest
from datasette import hookimpl
from datasette.plugins import pm

from riskcatalog.site import limits

from .conftest import make_datasette

BUSY_ZH = "正在进行的搜索、查询和下载已达上限，请 10 秒后重试。"
BUSY_EN = "Too many searches, queries and downloads are under way; try again in 10 s."


async def test_turns_are_taken_in_order_and_places_are_bounded():
    """One turn, three places: the second and third wait in order, the fourth is refused at once; a
    waiter that waits past its time leaves without a turn, and its place is freed."""
    admission = limits.Admission(places=3, turns=1, wait=0.5)
    order: list[str] = []

    async def request(name: str, works: float) -> bool:
        async with admission.place() as turn:
            if turn is None:
                order.append(f"{name} refused")
                return False
            order.append(f"{name} works")
            assert admission.working == 1
            await asyncio.sleep(works)
            order.append(f"{name} done")
            return True

    results = await asyncio.gather(request("a", 0.1), request("b", 0.1), request("c", 0.1), request("d", 0.1))
    assert results == [True, True, True, False]
    assert order == ["a works", "d refused", "a done", "b works", "b done", "c works", "c done"]
    assert (admission.admitted, admission.working, len(admission.waiting)) == (0, 0, 0)
    slow = await asyncio.gather(request("e", 0.8), request("f", 0.1))
    assert slow == [True, False] and order[-3:] == ["e works", "f refused", "e done"]
    assert (admission.admitted, admission.working, len(admission.waiting)) == (0, 0, 0)


async def test_costly_work_takes_at_most_its_share_of_the_time():
    """With half the time theirs, a request that worked 0.2 s leaves the next 0.2 s to the pages before
    a waiting one starts: queued back to back, costly requests would keep the event loop and a core
    from them, one at a time or not. A request that finds the turn free starts at once."""
    admission = limits.Admission(places=3, turns=1, wait=5, share=0.5)
    spans: list[tuple[float, float]] = []

    async def request() -> None:
        async with admission.place() as turn:
            assert turn is not None
            started = time.monotonic()
            await asyncio.sleep(0.01)  # waiting for SQL: the other requests arrive meanwhile
            time.sleep(0.2)  # work that holds the event loop, as rendering a page does
            spans.append((started, time.monotonic()))

    await asyncio.gather(request(), request(), request())
    gaps = [later[0] - earlier[1] for earlier, later in zip(spans, spans[1:])]
    assert len(gaps) == 2 and all(gap >= 0.19 for gap in gaps), gaps
    assert (admission.admitted, admission.working) == (0, 0)
    await request()
    assert spans[-1][0] - spans[-2][1] < 0.1  # alone: no rest


async def test_a_turn_is_given_back_while_the_client_reads_and_taken_again_for_a_stream():
    """A slow client holds no turn: sending gives it back; a stream takes it again for its next part."""
    admission = limits.Admission(places=2, turns=1, wait=5)
    sent: list[str] = []

    async def client_reads(message: dict) -> None:
        sent.append(f"{message['type']} working={admission.working}")

    async with admission.place() as turn:
        send = turn.outside(client_reads, streams=True)
        await send({"type": "http.response.start", "status": 200})
        assert turn.held and admission.working == 1  # taken again: the stream's next part is work
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        assert not turn.held
    assert sent == ["http.response.start working=0", "http.response.body working=0"]
    assert (admission.admitted, admission.working) == (0, 0)


async def test_a_request_that_goes_away_while_waiting_frees_its_place():
    """A client that disconnects while it waits (the task cancelled) leaves no turn or place behind."""
    admission = limits.Admission(places=3, turns=1, wait=5)
    async with admission.place():
        waiting = asyncio.ensure_future(admission.place().__aenter__())
        await asyncio.sleep(0.05)
        assert admission.admitted == 2 and len(admission.waiting) == 1
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert len(admission.waiting) == 0
    assert admission.working == 0


class _SlowSteps:
    """slow_step() takes 0.1 s and records how many run at once."""

    def __init__(self):
        self.lock, self.running, self.most = threading.Lock(), 0, 0

    def step(self) -> int:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.1)
        with self.lock:
            self.running -= 1
        return 1


@pytest.fixture
def slow_site(catalog_db):
    """A Datasette with a real plugin (a module, as Datasette lists plugins) that gives slow_step(); a
    5 s time limit, so a request admitted waits up to 10 s for its turn (two limits), however busy the machine."""
    steps, plugin = _SlowSteps(), types.ModuleType("test_slow_steps")
    plugin.prepare_connection = hookimpl(lambda conn: conn.create_function("slow_step", 0, steps.step))
    pm.register(plugin, name="test-slow-steps")
    try:
        yield make_datasette(catalog_db, sql_time_limit_ms=5000), steps
    finally:
        pm.unregister(name="test-slow-steps")


SLOW_SQL = "/catalog.json?sql=" + quote("select slow_step() as n")
#: One of each costly kind, after a slow one that holds the only turn while the others arrive.
COSTLY = [SLOW_SQL, "/search.json?q=" + quote("报销"), "/catalog/risks.json?_where=" + quote("1 = (select slow_step())"),
          "/catalog/risks.json?title_zh__contains=" + quote("报销"), "/catalog/risks.json?_facet=post_zh",
          "/catalog/risks.xlsx?level=high", "/catalog/risks.csv?_size=max", SLOW_SQL,
          # the ninth and later find every place taken
          "/-/register.xlsx", "/search?likelihood=4&impact=4", "/catalog/risks.excelcsv", "/catalog/risks?_search=x"]


async def test_every_costly_request_passes_one_door(slow_site):
    """Twelve costly requests of every kind at once: eight admitted and answered, one at a time; four
    answered 503 at once; meanwhile the home page and a risk's page answer without waiting for a turn."""
    ds, steps = slow_site
    for path in (SLOW_SQL, COSTLY[2], "/search"):  # the first of each starts a worker or reads a schema
        assert (await ds.client.get(path)).status_code == 200
    tasks = [asyncio.ensure_future(ds.client.get(path)) for path in COSTLY]
    await asyncio.sleep(0.02)
    pages = [await ds.client.get(path) for path in ("/", "/catalog/risks/yijia-LAND-01", "/changes")]
    waiting = sum(not task.done() for task in tasks)
    answers = await asyncio.gather(*tasks)
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert waiting >= 4  # the pages were answered while costly requests still waited their turn
    assert [answer.status_code for answer in answers] == [200] * 8 + [503] * 4, [a.text[:200] for a in answers]
    for answer in answers[8:]:
        assert answer.headers["retry-after"] == "10" and "no-store" == answer.headers["cache-control"]
        assert f"<p>{BUSY_ZH}</p>" in answer.text and f'<p lang="en">{BUSY_EN}</p>' in answer.text
    assert answers[0].json()["rows"] == [[1]] and answers[2].json()["rows"]
    assert steps.most == 1  # the slow queries never ran at once


async def test_requests_the_site_makes_to_itself_are_already_admitted(catalog_db):
    """A download reads a table's pages through datasette.client, inside its own turn: with one turn
    it is answered, not refused by the door it already passed."""
    ds = make_datasette(catalog_db, num_sql_threads=3)
    response = await ds.client.get("/catalog/risks.xlsx")
    assert response.status_code == 200 and response.content.startswith(b"PK")
