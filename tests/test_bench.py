"""riskcatalog.bench end to end at toy sizes: builds, floor, load test, report, notes kept."""

from __future__ import annotations

import re

from benchmarks import bench, workbooks


def test_bench_writes_a_report_and_keeps_the_notes(tmp_path):
    """Two sizes, a short load test: both tables filled from this run, the hand-written notes kept."""
    report = tmp_path / "benchmarks.md"
    report.write_text("# old figures\n\n## Notes\n\n- why a target was missed\n", encoding="utf-8")
    assert bench.main(["--units", "1,2", "--seconds", "0.3", "--concurrency", "2", "--history-commits", "20",
                       "--out", str(tmp_path / "out"), "--report", str(report)]) == 0
    text = report.read_text(encoding="utf-8")
    assert "# old figures" not in text and text.endswith("\n## Notes\n\n- why a target was missed\n")
    builds = re.findall(r"^\| (\d+) \| ([\d,]+) \| [\d.]+ \| [\d.]+ \| [\d.]+× \|", text, re.M)
    assert [units for units, _ in builds] == ["1", "2"]
    assert 500 < int(builds[0][1]) < int(builds[1][1].replace(",", ""))
    assert "Row counts of build and floor differ" not in text  # the floor wrote the same rows
    pages = re.findall(r"^\| `(/[^`]*)` \| ([\d,]+) \| (\d+) \|", text, re.M)
    largest, readers = [path for path, _, _ in pages[:9]], [path for path, _, _ in pages[9:]]
    assert largest[:5] == ["/", "/catalog/risks", "/search?q=%E6%8A%A5%E9%94%80", "/search?likelihood=4&impact=4",
                           "/search?q=%E4%BD%8E%E4%BF%9D%E5%AE%A1%E6%A0%B8"]  # a word, a list, a phrase
    assert largest[-1] == readers[-1] == bench.TRIVIAL
    assert {"/catalog/full_register", "/catalog/due_for_review"} <= set(readers)
    assert [p.split("/")[2] for p in readers[1:5]] == ["areas", "risks", "measures", "sources"]
    assert all(int(count.replace(",", "")) > 0 and errors == "0" for _, count, errors in pages)
    assert "- build of 2 registers within 1.5× the floor: " in text and "peak memory under 1024 MiB" in text
    assert re.search(r"^- database of 2 registers within 2 GB: 0\.\d\d GB", text, re.M)
    assert re.search(r"^\| `risks` \| [\d.]+ \| \d+% \|$", text, re.M)  # what the database holds
    # Search quality over the judged set, overall and by kind, against its target.
    assert re.search(r"^\| all \| \d{2,} \| [\d.]+% \| \d\.\d{3} \|$", text, re.M)
    assert re.search(r"^\| phrase \| \d+ \| [\d.]+% \|", text, re.M)
    assert re.search(r"^Target: recall@3 at least 95%: [\d.]+% — (met|MISSED)$", text, re.M)
    assert "Targets (each page's p95 under 50 ms):" in text
    excel = re.findall(r"^\| (export|import) \| ([^|]+) \| [\d.]+ \| \d+ \|$", text, re.M)
    assert excel == [("export", "1 register (51 risks), one workbook"), ("export", "2 registers, one workbook"),
                     ("export", "2 registers, one workbook each")]
    # The import: a workbook and a Word table imported, each hostile file refused with the limit it passed.
    imports = re.findall(r"^\| ([^|]+) \| [\d,]+ \| [\d.]+ \| \d+ \| ([^|]+) \|$", text, re.M)
    assert [what for what, _ in imports] == ["a workbook of 500 risk rows", "a Word table of 500 risk rows",
                                             *(what for what, _ in workbooks.BOMBS.values())]
    assert [said.split(",")[0].split(" — ")[0] for _, said in imports] == [
        "imported", "imported", "merged range E3:XFD1048576 reaches row 1", "more than 500", "a text of more than 32"]
    assert len(re.findall(r"^- .*: (met|MISSED) \(", text, re.M)) == 3
    # The powers: every flowchart and card of each size, and one handbook.
    powers = re.findall(r"^\| (\d+) \| (\d+) \| [\d.]+ \| [\d.]+ \| [\d.]+ \| (\d+) \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \|$",
                        text, re.M)
    assert powers == [("1", "23", "32"), ("2", "46", "64")]
    assert len(re.findall(r"^- \d+ units: p95 [\d.]+ ms — (met|MISSED)$", text, re.M)) == 2
    # The door: the home page alone, then beside readers on each costly path, at the largest size here.
    costly = re.findall(r"^\| `(/[^`]*)` \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d,]+ \| (.+) \|$", text, re.M)
    assert len(costly) == 13 and costly[0][0].startswith("/search?q=") and all(answers for _, answers in costly)
    assert "/catalog.json?sql=with c0(x) as (select 1)" in costly[-1][0] and costly[-1][1].startswith("400: ")
    assert re.search(r"^Target: the home page's median under 50 ms beside 10 readers on each path: the worst is "
                     r"[\d.]+ ms — ", text, re.M)
    # The history: the shipped catalogue with 20 commits, built with and without them.
    without = re.search(r"^\| without history \| ([\d.]+) \| \d+ \| [\d.]+ \|$", text, re.M)
    with_history = re.search(r"^\| with history \(20 commits: the baseline and 19 revisions, ([\d,]+) changes\), "
                             r"from nothing \| [\d.]+ \|",
                             text, re.M)
    rebuilt = re.search(r"^\| with history, rebuilt one commit later \| [\d.]+ \|", text, re.M)
    assert without and with_history and rebuilt and int(with_history.group(1)) > 20
    assert len(re.findall(r"^- build with 20 commits of history \(.*\) within 2× the build without: [\d.]+× — ",
                          text, re.M)) == 2
