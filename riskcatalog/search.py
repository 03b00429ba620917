"""Chinese-aware full-text search: one expansion used by the index and by every query.

SQLite's unicode61 tokenizer treats a run of Chinese characters as one token, so `报销`
never matches `经费报销审核`; the trigram tokenizer cannot match two-character words.
We index a derived text in which each Chinese run is replaced by its overlapping character
pairs and its last character, and expand queries the same way: a longer word matches its pairs
as a phrase, a one-character word matches as a prefix (a pair it begins, or the last character
of a run). Traditional characters are folded to Simplified on both sides; English goes through
the porter stemmer.
"""

from __future__ import annotations

import re

import opencc

#: Tokenizer for every search table: porter stemming over unicode61, accents folded.
TOKENIZE = "porter unicode61 remove_diacritics 2"

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(f"([{_HAN}]+)|([^\\s{_HAN}]+)")
_HAN_RUN = re.compile(f"[{_HAN}]+")
_T2S = opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Fold Traditional characters to Simplified (報銷 -> 报销)."""
    return _T2S.convert(text)


def _pairs(run: str) -> list[str]:
    return list(map(str.__add__, run, run[1:]))


def index_text(*texts: str | None) -> str:
    """The text to index for a record: its other words, then each Chinese run's pairs and last character.

    A whole Chinese run is left out (no query asks for one), and so are its single characters
    but the last: every other character begins a pair, which a one-character query finds by
    prefix. At a city's scale the index is a third smaller, and the build faster, for it.
    """
    text = to_simplified(" ".join(t for t in texts if t))
    runs = _HAN_RUN.findall(text)
    # Pairs of each run stay adjacent in one stream so a phrase of pairs matches a longer word.
    pairs = " ".join(" ".join(_pairs(run)) for run in runs)
    return f"{_HAN_RUN.sub(' ', text)}\n{' '.join(run[-1] for run in runs)}\n{pairs}"


def query_words(query: str) -> list[str]:
    """The words of a search as a result's text holds them (Simplified): what its passage highlights."""
    words = []
    for han, other in _RUNS.findall(to_simplified(query)):
        word = han or other.replace('"', "")
        if han or re.search(r"\w", word):
            words.append(word)
    return words


def fts_query(query: str) -> str:
    """A user's search words as an FTS5 query over index_text: every word must match."""
    terms = []
    for word in query_words(query):
        if _HAN_RUN.fullmatch(word):  # a longer word as the phrase of its pairs; one character as a prefix
            terms.append('"' + " ".join(_pairs(word)) + '"' if len(word) > 1 else f'"{word}" *')
        else:
            terms.append(f'"{word}"')  # quotes removed from the word: FTS syntax stays inert
    return " ".join(terms) or '""'
