"""The changed words of a long text: what a revision changed in a description, not the paragraph twice.

Chinese is written without spaces, so a run of Chinese is compared character by character, and
Latin words and numbers whole: 虚报差旅天数 → 虚报住宿天数 shows 差旅 → 住宿, and an English
sentence shows the words that changed. The unchanged text around each change is cut to a few
characters of context, so a reader sees where the change is without reading the paragraph twice.
"""

from __future__ import annotations

import difflib
import re

#: A Latin word or number (with its inner dots, hyphens and apostrophes), a run of spaces, or one character.
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[.'’-][A-Za-z0-9]+)*|\s+|.", re.S)
#: Characters of unchanged text kept on each side of a change.
CONTEXT = 12
#: Tokens compared at most (after the common start and end are set aside): beyond, the middle is one change.
MAX_TOKENS = 4000
#: A text longer than this (either side) is shown by its changed words; a shorter one whole, old → new.
LONG = 30
#: Changes named in a one-line summary, and the characters of each side shown there.
SUMMARY_CHANGES, SUMMARY_CHARS = 3, 30

#: One piece of the comparison: "=" unchanged, "-" taken out, "+" put in; and its text.
Segment = tuple[str, str]


def is_long(old: str | None, new: str | None) -> bool:
    """Whether a change of text is shown by its changed words rather than whole."""
    return isinstance(old, str) and isinstance(new, str) and max(len(old), len(new)) > LONG


def segments(old: str, new: str) -> list[Segment]:
    """The comparison of two texts as unchanged, removed and added runs; unchanged runs cut to CONTEXT
    characters beside each change, with … where text was left out."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    middle_a, middle_b = a[start:len(a) - end], b[start:len(b) - end]
    found: list[Segment] = [("=", "".join(a[:start]))]
    if len(middle_a) + len(middle_b) <= MAX_TOKENS:
        matcher = difflib.SequenceMatcher(None, middle_a, middle_b, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                found.append(("=", "".join(middle_a[i1:i2])))
            else:
                found += [("-", "".join(middle_a[i1:i2])), ("+", "".join(middle_b[j1:j2]))]
    else:
        found += [("-", "".join(middle_a)), ("+", "".join(middle_b))]
    found.append(("=", "".join(a[len(a) - end:])))
    return _trim(_merge(_absorb(found)))


def _absorb(found: list[Segment]) -> list[Segment]:
    """An unchanged run of one character between two changes goes into both: 改为「甲乙丙」 reads
    better than three changes around two single characters."""
    result: list[Segment] = []
    for n, (op, text) in enumerate(found):
        between = 0 < n < len(found) - 1 and found[n - 1][0] != "=" and found[n + 1][0] != "="
        if op == "=" and between and len(text.strip()) <= 1:
            result += [("-", text), ("+", text)]
        else:
            result.append((op, text))
    return result


def _merge(found: list[Segment]) -> list[Segment]:
    """Adjacent runs of one kind as one; within a change, what was taken out before what was put in."""
    result: list[Segment] = []
    for op, text in found:
        if not text:
            continue
        if op == "=" or not result or result[-1][0] == "=":
            if result and result[-1][0] == op:
                result[-1] = (op, result[-1][1] + text)
            else:
                result.append((op, text))
            continue
        # within a change: gather its removed and added text, removed first
        change = [result.pop()]
        while result and result[-1][0] != "=":
            change.insert(0, result.pop())
        removed = "".join(t for o, t in change if o == "-") + (text if op == "-" else "")
        added = "".join(t for o, t in change if o == "+") + (text if op == "+" else "")
        result += [segment for segment in (("-", removed), ("+", added)) if segment[1]]
    return result


def _trim(found: list[Segment]) -> list[Segment]:
    """Unchanged runs cut to CONTEXT characters beside the changes."""
    result = []
    for n, (op, text) in enumerate(found):
        if op == "=":
            first, last = n == 0, n == len(found) - 1
            if first and len(text) > CONTEXT:
                text = "…" + text[-CONTEXT:]
            elif last and len(text) > CONTEXT:
                text = text[:CONTEXT] + "…"
            elif not first and not last and len(text) > 2 * CONTEXT:
                text = text[:CONTEXT] + "…" + text[-CONTEXT:]
        result.append((op, text))
    return result


def hunks(found: list[Segment]) -> list[tuple[str, str]]:
    """Each change of a comparison as (removed, added); either may be empty."""
    result: list[tuple[str, str]] = []
    open_change = False
    for op, text in found:
        if op == "=":
            open_change = False
            continue
        if not open_change:
            result.append(("", ""))
            open_change = True
        removed, added = result[-1]
        result[-1] = (removed + text, added) if op == "-" else (removed, added + text)
    return result


def summary(found: list[Segment]) -> str:
    """The changes of a comparison in a line of Chinese: 「差旅」改为「住宿」；增加「…」; at most
    SUMMARY_CHANGES of them, then how many more."""
    parts = []
    changes = hunks(found)
    for removed, added in changes[:SUMMARY_CHANGES]:
        if removed.strip() and added.strip():
            parts.append(f"「{_short(removed)}」改为「{_short(added)}」")
        elif added.strip():
            parts.append(f"增加「{_short(added)}」")
        elif removed.strip():
            parts.append(f"删去「{_short(removed)}」")
        else:
            parts.append("空白调整")
    if len(changes) > SUMMARY_CHANGES:
        parts.append(f"等 {len(changes)} 处")
    return "；".join(parts)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS - 1] + "…"
