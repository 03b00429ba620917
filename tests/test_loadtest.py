"""riskcatalog.loadtest: a short bounded load test against a real datasette process."""

from __future__ import annotations

from urllib.parse import quote

from benchmarks.loadtest import percentile, run_load
from riskcatalog.site.serve import serving

from .conftest import PROJECT_ROOT

PATHS = ["/", "/catalog/risks?_facet=area&_facet=level", "/catalog/risks?_search=" + quote("报销"),
         "/catalog/risks/yijia-LAND-01", "/-/versions.json"]


def test_run_load_reports_every_path_without_errors(catalog_db, tmp_path):
    """About 2 s of load over loopback: every path answered, no errors, p50 and p95 reported."""
    with serving(catalog_db, tmp_path / "datasette.log", PROJECT_ROOT) as base:
        assert base.startswith("http://127.0.0.1:")
        results = run_load(base, PATHS, seconds=0.4, concurrency=2)
    assert list(results) == PATHS
    for path, result in results.items():
        assert result["count"] > 0, path
        assert result["errors"] == 0, path
        assert 0 < result["p50_ms"] <= result["p95_ms"], path


def test_percentile_is_nearest_rank():
    """p50 and p95 pick the nearest-rank values; no values gives None."""
    values = [float(n) for n in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95)) == (50.0, 95.0)
    assert percentile([], 0.5) is None
