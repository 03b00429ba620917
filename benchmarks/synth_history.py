"""A synthetic catalogue history for benchmarks: a git repository whose register has N commits.

`python -m benchmarks.synth_history --commits 1000 --out DIR [--seed S] [--source catalog]`
makes DIR a new git repository whose first commit is the source catalogue (in DIR/catalog) and
whose later commits are the edits a register sees over the years, made to the YAML text the
way a contributor makes them: re-rating a risk (likelihood, impact and level), a review date,
a reworded title or description, a measure's frequency or evidence, a new measure linked from
a risk, and a risk withdrawn and replaced by another. Every commit leaves a valid register.
The commits are written with one `git fast-import`, not a process per commit.
"""

from __future__ import annotations

import argparse
import datetime
import random
import re
import subprocess
import sys
from pathlib import Path

import yaml

from riskcatalog.catalog import REGISTER_FILE, level_for

#: Commits a day apart, on weekday mornings in Wuhan, from this date on.
START = datetime.datetime(2019, 2, 1, 9, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
#: Each kind of edit and how often it is made.
EDITS = {"rerate": 30, "review": 20, "retitle": 15, "describe": 10, "measure_text": 10, "add_measure": 10,
         "withdraw": 5}
#: Risks withdrawn at most: the register keeps most of its risks.
MAX_WITHDRAWN = 12


class Register:
    """The register's files as text, edited in place; each edit returns its commit message."""

    def __init__(self, folder: Path, rng: random.Random):
        self.files = {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yml"))}
        register = yaml.safe_load(self.files[REGISTER_FILE])
        self.levels = register["levels"]
        self.areas = register["areas"]
        self.rng = rng
        self.withdrawn = 0

    def _items(self, area: str, section: str) -> list[re.Match]:
        """The items of one list of an area file: each match spans the item's text."""
        text = self.files[f"{area}.yml"]
        start = text.index(f"\n{section}:\n")
        following = re.compile(r"\n[a-z_]+:").search(text, start + 1)
        return list(re.compile(r"(?ms)^  - id: (\S+)\n.*?(?=^  - |^\S|\Z)").finditer(
            text, start, following.start() + 1 if following else len(text)))

    def _pick(self, section: str, active: bool = True) -> tuple[str, re.Match]:
        while True:
            area = self.rng.choice(self.areas)
            items = [m for m in self._items(area, section)
                     if not active or "\n    status: withdrawn" not in m.group(0)]
            if items:
                return area, self.rng.choice(items)

    def _replace(self, area: str, item: re.Match, new_text: str) -> None:
        text = self.files[f"{area}.yml"]
        self.files[f"{area}.yml"] = text[:item.start()] + new_text + text[item.end():]

    def _set(self, item_text: str, field: str, value: str) -> str:
        return re.sub(rf"(?m)^    {field}: .*$", lambda _: f"    {field}: {value}", item_text, count=1)

    def edit(self, kind: str, day: datetime.date, n: int) -> str:
        return getattr(self, kind)(day, n)

    def rerate(self, day: datetime.date, n: int) -> str:
        area, item = self._pick("risks")
        likelihood, impact = self.rng.randint(1, 5), self.rng.randint(2, 5)
        level = level_for(likelihood * impact, self.levels)
        text = item.group(0)
        for field, value in (("likelihood", likelihood), ("impact", impact), ("level", level),
                             ("reviewed", f'"{day.isoformat()}"')):
            text = self._set(text, field, str(value))
        self._replace(area, item, text)
        return f"{item.group(1)}: 重新评估，可能性 {likelihood} × 影响 {impact}"

    def review(self, day: datetime.date, n: int) -> str:
        area, item = self._pick("risks")
        self._replace(area, item, self._set(item.group(0), "reviewed", f'"{day.isoformat()}"'))
        return f"{item.group(1)}: 年度评估，维持原等级"

    def _reword(self, section: str, field: str, suffix: str, old_suffix: str) -> str:
        """Give a field of one entry a new ending in place of its last one; the entry's id."""
        area, item = self._pick(section)
        value = re.search(rf"(?m)^    {field}: (.*)$", item.group(0)).group(1)
        value = re.sub(old_suffix + "$", "", value) + suffix
        self._replace(area, item, self._set(item.group(0), field, value))
        return item.group(1)

    def retitle(self, day: datetime.date, n: int) -> str:
        entry = self._reword(self.rng.choice(["risks", "measures"]), "title_zh", f"（第{n}次修订）", r"（第\d+次修订）")
        return f"{entry}: 修改名称"

    def describe(self, day: datetime.date, n: int) -> str:
        entry = self._reword("risks", "description_zh", f"（{day.isoformat()}补充）", r"（\d{4}-\d\d-\d\d补充）")
        return f"{entry}: 补充风险描述"

    def measure_text(self, day: datetime.date, n: int) -> str:
        field = self.rng.choice(["frequency_zh", "evidence_zh"])
        entry = self._reword("measures", field, f"（{n}版）", r"（\d+版）")
        return f"{entry}: 修改{'执行频次' if field == 'frequency_zh' else '留痕资料'}"

    def add_measure(self, day: datetime.date, n: int) -> str:
        area, risk = self._pick("risks")
        template = self._items(area, "measures")[-1].group(0)
        new_id = f"{risk.group(1).split('-')[0]}-M{100 + n}"
        measure = re.sub(r"(?m)^  - id: \S+$", f"  - id: {new_id}", template, count=1)
        measure = re.sub(r"(?m)^    status: .*\n|^    replaced_by: .*\n", "", measure)
        measure = self._set(measure, "title_zh", f"新增防控措施{n}")
        self._replace(area, risk, re.sub(r"(?m)^(    measures: \[.*)\]$", rf"\1, {new_id}]", risk.group(0), count=1))
        text = self.files[f"{area}.yml"]
        self.files[f"{area}.yml"] = text.rstrip("\n") + "\n" + measure.rstrip("\n") + "\n"
        self._count("measures", +1)
        return f"{risk.group(1)}: 增加防控措施 {new_id}"

    def withdraw(self, day: datetime.date, n: int) -> str:
        if self.withdrawn >= MAX_WITHDRAWN:
            return self.review(day, n)
        area, risk = self._pick("risks")
        others = [m for m in self._items(area, "risks")
                  if m.group(1) != risk.group(1) and "\n    status: withdrawn" not in m.group(0)]
        if not others:
            return self.review(day, n)
        replacement = self.rng.choice(others)
        # The replacement takes over the withdrawn risk's measures, so none is left unlinked.
        moved = re.search(r"(?m)^    measures: \[(.*)\]$", risk.group(0)).group(1).split(", ")
        kept = re.search(r"(?m)^    measures: \[(.*)\]$", replacement.group(0)).group(1).split(", ")
        taken = ", ".join(kept + [m for m in moved if m not in kept])
        self._replace(area, replacement, self._set(replacement.group(0), "measures", f"[{taken}]"))
        risk = next(m for m in self._items(area, "risks") if m.group(1) == risk.group(1))
        withdrawn = risk.group(0).rstrip("\n") + f"\n    status: withdrawn\n    replaced_by: {replacement.group(1)}\n"
        self._replace(area, risk, withdrawn)
        self._count("risks", -1)
        self.withdrawn += 1
        return f"{risk.group(1)}: 撤销，由 {replacement.group(1)} 替代"

    def _count(self, kind: str, step: int) -> None:
        text = self.files[REGISTER_FILE]
        self.files[REGISTER_FILE] = re.sub(rf"(?m)^  {kind}: (\d+)$", lambda m: f"  {kind}: {int(m.group(1)) + step}",
                                           text, count=1)


def generate(source: Path, out: Path, commits: int, seed: int = 0) -> Path:
    """Make out a git repository holding source as catalog/ with `commits` commits; the catalog folder."""
    out.mkdir(parents=True, exist_ok=False)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=out, check=True)
    register = Register(source, random.Random(seed))
    # A copy starts a history of its own: a baseline commit of the source's repository is not in it.
    register.files[REGISTER_FILE] = re.sub(r"\n  commit: [0-9a-f]+", "", register.files[REGISTER_FILE])
    kinds, weights = list(EDITS), list(EDITS.values())
    stream: list[bytes] = []
    previous = dict(register.files)
    for n in range(commits):
        when = START + datetime.timedelta(days=n)
        message = "目录初稿 Initial register" if n == 0 else \
            register.edit(register.rng.choices(kinds, weights)[0], when.date(), n)
        changed = {name: text for name, text in register.files.items() if n == 0 or previous.get(name) != text}
        previous = dict(register.files)
        stream.append(_commit(n, when, message, changed))
    subprocess.run(["git", "fast-import", "--quiet"], cwd=out, input=b"".join(stream), check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=out, check=True)
    return out / "catalog"


def _commit(n: int, when: datetime.datetime, message: str, files: dict[str, str]) -> bytes:
    """One commit of the fast-import stream, its files inline."""
    data = message.encode()
    lines = [b"commit refs/heads/main", f"committer 纪工委 <register@example.org> {int(when.timestamp())} +0800".encode(),
             b"data %d" % len(data), data]
    for name, text in files.items():
        body = text.encode()
        lines += [f"M 100644 inline catalog/{name}".encode(), b"data %d" % len(body), body]
    return b"\n".join(lines) + b"\n\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.synth_history", description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--out", type=Path, required=True, help="a folder that does not exist yet")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parent.parent / "catalog")
    args = parser.parse_args(argv)
    print(generate(args.source, args.out, args.commits, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
