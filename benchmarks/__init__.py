"""Benchmarks and their tools: `make bench` (python -m benchmarks.bench).

Not part of the installed package: bench (build, floor and site figures into
docs/benchmarks.md), floor (the parse-and-insert floor a build is compared with), loadtest
(a bounded load over loopback), powers (every flowchart and card of a register and of 150), synth
(synthetic registers derived from the catalogue) and
workbooks (a unit's register workbook of any size, for timing `build.py import`).
"""

from pathlib import Path

#: The project's root: the catalogue, metadata.yml and docs/ live here.
ROOT = Path(__file__).resolve().parent.parent
