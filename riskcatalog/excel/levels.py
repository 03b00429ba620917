"""Level words read by the scale they belong to: 较高/一般/较低, A/B/C, ★★★/★★/★ and the rest.

A word's level depends on the words beside it: 一般 is the middle of 较高/一般/较低 but the
bottom of 重大/较大/一般. So the words a register uses are read together, against every
three-level scale that holds them all; a word whose level those scales disagree on, or a register
with more than three levels, is an error at its cell asking the unit to say (--level 一般=二级),
never a guess. Each word and the level it became goes into the import report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LEVELS = ("high", "medium", "low")
LEVEL_ZH = {"high": "一级（高）", "medium": "二级（中）", "low": "三级（低）"}
#: Three-level scales as registers write them, high first, each word as normal() leaves it.
SCALES: tuple[tuple[str, str, str], ...] = (
    ("高", "中", "低"), ("一", "二", "三"), ("1", "2", "3"), ("Ⅰ", "Ⅱ", "Ⅲ"), ("I", "II", "III"), ("A", "B", "C"),
    ("甲", "乙", "丙"), ("较高", "一般", "较低"), ("★★★", "★★", "★"), ("☆☆☆", "☆☆", "☆"), ("重大", "较大", "一般"),
    ("红", "黄", "蓝"), ("红", "黄", "绿"), ("红", "橙", "黄"), ("high", "medium", "low"), ("H", "M", "L"),
)
#: Marks that tick one of several level columns (高 | 中 | 低 under the level's heading).
MARKS = ("√", "✓", "✔", "●", "○", "★", "☆", "是", "有", "1", "Y", "V", "X", "×", "✗", "■", "▲")


def normal(word: str) -> str:
    """A level word without spaces, brackets' notes and the suffixes that do not change it."""
    text = re.sub(r"\s", "", word)
    bare = re.sub(r"[（(][^）)]*[）)]", "", text)
    text = bare or re.sub(r"[（()）]", "", text)
    while (shorter := re.sub(r"(风险等级|风险|等级|级别|级|色|类|等)$", "", text)) not in ("", text):
        text = shorter  # 一级风险 -> 一级 -> 一
    if not text.isascii():
        return text  # Ⅰ (U+2160) must not become ⅰ
    return text.lower() if text.lower() in ("high", "medium", "low") else text.upper()


@dataclass(frozen=True)
class Verdict:
    """How one level word was read: its level, or why it could not be (then level is None)."""

    word: str
    level: str | None
    how: str


def read_levels(words: list[str], told: dict[str, str]) -> dict[str, Verdict]:
    """Each distinct word's verdict, read against the scales that hold every word used.

    told: word -> level the user gave with --level, taken before any scale.
    """
    verdicts: dict[str, Verdict] = {}
    rest = []
    for word in dict.fromkeys(words):
        if word in told or normal(word) in told:
            verdicts[word] = Verdict(word, told.get(word) or told[normal(word)], "由 --level 指定 · given by --level")
        else:
            rest.append(word)
    normals = {normal(w) for w in rest}
    known = {n for n in normals if any(n in scale for scale in SCALES)}
    fitting = [scale for scale in SCALES if known <= set(scale)]
    for word in rest:
        n = normal(word)
        holding = [s for s in (fitting or SCALES) if n in s]
        if not any(n in s for s in SCALES):
            counts = re.fullmatch(r"(?:\d+\s*[^\d\s]{1,3}\s*[、,，]?\s*){2,}", word)
            verdicts[word] = Verdict(word, None, "counts" if counts else "not a level")
            continue
        levels = {LEVELS[s.index(n)] for s in holding}
        if len(levels) == 1:
            scale = "/".join(holding[0])
            verdicts[word] = Verdict(word, levels.pop(), f"按「{scale}」三级读 · read on the scale {scale}")
        else:
            readings = "; ".join(f"{LEVEL_ZH[LEVELS[s.index(n)]]} in {'/'.join(s)}" for s in holding)
            verdicts[word] = Verdict(word, None, f"ambiguous: {readings}")
    if not fitting:  # no one scale holds them all: two words on one level would merge two of the unit's levels
        by_level: dict[str, set[str]] = {}
        for word in rest:
            if verdicts[word].level:
                by_level.setdefault(verdicts[word].level, set()).add(normal(word))
        merged = sorted(w for words_ in by_level.values() if len(words_) > 1 for w in words_)
        for word in rest:
            if normal(word) in merged:
                verdicts[word] = Verdict(word, None, "mixed: the level words " + "、".join(merged) +
                                         " belong to no one three-level scale")
    return verdicts


def level_named(text: str) -> str | None:
    """A level from what a user calls it in --level: 一级/二级/三级, 高/中/低 or high/medium/low."""
    n = normal(text)
    for scale in (("高", "中", "低"), ("一", "二", "三"), ("1", "2", "3"), ("high", "medium", "low")):
        if n in scale:
            return LEVELS[scale.index(n)]
    return None


def is_mark(text: str) -> bool:
    return text.strip().upper() in MARKS
