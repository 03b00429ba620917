"""The field's vocabulary: how discipline offices and registers say the same thing (riskcatalog/thesaurus.yml).

Kept as data, edited by pull request, checked like the catalogue: every problem is a located
error (file:line:column, the entry, what to do). Searches expand each word with it, one step:
a ring of equivalent terms (`same`) finds every other term of the ring; a one-way entry
(`term` + `also`) finds its `also` terms from the term, not the reverse. The format is in
docs (README, "How search reads a query").

Read by the site (riskcatalog.search) and checked by `build.py check` and every build, so a bad
thesaurus fails the pull request that brings it, with its line, rather than the site at start.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .errors import CatalogError, CatalogInvalid
from .yamlload import Document, load_file

#: The shipped thesaurus, package data beside this module.
SHIPPED = Path(str(resources.files("riskcatalog") / "thesaurus.yml"))

#: What a term may hold: Chinese characters, Latin letters and digits, and (inside) spaces, hyphens,
#: apostrophes and the middle dot. Anything else is most often two terms in one item (集体资金、资产).
_TERM = re.compile(r"[\w\u3400-\u9fff](?:[\w\u3400-\u9fff '·-]*[\w\u3400-\u9fff])?")
_SEPARATORS = re.compile(r"[、，,；;/|（）()]")
#: An entry's fields: which it must have, which it may.
_FIELDS = {"same", "term", "also", "source", "note"}


@dataclass
class Thesaurus:
    """Each term (as search text holds it: Simplified, lower case) and the terms it also finds, in order."""

    expansions: dict[str, list[str]] = field(default_factory=dict)
    #: Every term, in file order: the segmenter keeps each whole, and a search that finds nothing
    #: is shown those near it.
    terms: list[str] = field(default_factory=list)

    def also(self, word: str) -> list[str]:
        """The other terms a search for word finds (empty when the thesaurus has none); an English
        plural finds what its singular does (petitions, petition)."""
        found = self.expansions.get(normal(word))
        if found is None and re.fullmatch(r"[a-z ]+s", normal(word)):
            found = self.expansions.get(normal(word)[:-1])
        return found or []

    def _add(self, term: str, others: list[str]) -> None:
        found = self.expansions.setdefault(normal(term), [])
        found += [o for o in others if o not in found and normal(o) != normal(term)]
        for word in (term, *others):
            if word not in self.terms:
                self.terms.append(word)


def normal(term: str) -> str:
    """A term as searches compare it: English in lower case, spaces collapsed."""
    return " ".join(term.lower().split())


@functools.cache
def shipped() -> Thesaurus:
    """The package's thesaurus, read once per process (CatalogInvalid if it is bad)."""
    return load(SHIPPED, "riskcatalog/thesaurus.yml")


def problems() -> list[CatalogError]:
    """What is wrong with the shipped thesaurus (nothing, usually): `build.py check` and every build say it."""
    try:
        load(SHIPPED, "riskcatalog/thesaurus.yml")
    except CatalogInvalid as exc:
        return exc.errors
    return []


def load(path: Path, shown: str | None = None) -> Thesaurus:
    """Read and check a thesaurus file; CatalogInvalid with every problem, located."""
    doc, errors = load_file(path, shown or str(path))
    errors = errors or check(doc)
    if errors:
        raise CatalogInvalid(errors)
    thesaurus = Thesaurus()
    for entry in doc.data["entries"]:
        if "same" in entry:
            for term in entry["same"]:
                thesaurus._add(term, entry["same"])
        else:
            thesaurus._add(entry["term"], entry["also"])
    return thesaurus


def check(doc: Document) -> list[CatalogError]:
    """Every problem of a loaded thesaurus file, each at its line."""
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list) or set(data) != {"entries"}:
        extra = sorted(set(data) - {"entries"}) if isinstance(data, dict) else []
        return [doc.error((extra[0], "__key__") if extra else (), "a thesaurus holds one field, `entries:`, a list "
                          "of entries (each `same: [...]`, or `term:` with `also: [...]`, and `source:`)")]
    errors: list[CatalogError] = []
    rings: dict[str, int] = {}  # term -> line of the ring it is in
    one_way: dict[str, int] = {}  # term -> line of its one-way entry
    for n, entry in enumerate(data["entries"]):
        errors += _check_entry(doc, n, entry, rings, one_way)
    return errors


def _check_entry(doc: Document, n: int, entry, rings: dict[str, int], one_way: dict[str, int]) -> list[CatalogError]:
    at = ("entries", n)
    if not isinstance(entry, dict):
        return [doc.error(at, "an entry is a mapping: `same: [...]`, or `term:` with `also: [...]`, and `source:`")]
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        return [doc.error(at + (unknown[0], "__key__"), f"unknown field {unknown[0]!r} — an entry has `same`, or "
                          "`term` and `also`; then `source` and, if needed, `note`")]
    errors = []
    if not isinstance(entry.get("source"), str) or not entry["source"].strip():
        errors.append(doc.error(at, "`source:` is missing — say where this usage comes from (a regulation's title, "
                                    "a published register, a discipline-inspection report or website)"))
    if "note" in entry and not isinstance(entry["note"], str):
        errors.append(doc.error(at + ("note",), "`note:` is text — quote it"))
    if ("same" in entry) == ("term" in entry or "also" in entry):
        return errors + [doc.error(at, "give either `same: [...]` (terms that find each other) or `term:` with "
                                       "`also: [...]` (a term that also finds others), not both or neither")]
    if "same" in entry:
        terms = _terms(doc, at + ("same",), entry["same"], 2, errors)
        for term in terms:
            line = rings.setdefault(normal(term), doc.where(at)[0])
            if line != doc.where(at)[0]:
                errors.append(doc.error(at + ("same",), f"{term!r} is also in the ring at line {line} — merge the "
                                                        "two entries into one `same` list"))
        return errors
    if "term" not in entry or "also" not in entry:
        missing = "also" if "term" in entry else "term"
        return errors + [doc.error(at, f"`{missing}:` is missing — a one-way entry has `term:` and `also: [...]`")]
    term = _terms(doc, at + ("term",), [entry["term"]], 1, errors, single=True)
    also = _terms(doc, at + ("also",), entry["also"], 1, errors)
    if term:
        line = one_way.setdefault(normal(term[0]), doc.where(at)[0])
        if line != doc.where(at)[0]:
            errors.append(doc.error(at + ("term",), f"{term[0]!r} already has a one-way entry at line {line} — add "
                                                    "these terms to its `also` list"))
        if normal(term[0]) in map(normal, also):
            errors.append(doc.error(at + ("also",), f"{term[0]!r} is its own `also` — remove it from the list"))
    return errors


def _terms(doc: Document, at: tuple, value, least: int, errors: list, single: bool = False) -> list[str]:
    """The valid terms of a list (or of a single term), adding an error for each bad one."""
    if not single and (not isinstance(value, list) or len(value) < least):
        errors.append(doc.error(at, f"a list of at least {least} term{'s' if least > 1 else ''} — write "
                                    "[term, term, …]"))
        return []
    good, seen = [], set()
    for i, term in enumerate(value):
        where = at if single else at + (i,)
        problem = _term_problem(term)
        if problem is None and normal(term) in seen:
            problem = f"{term!r} is listed twice — keep one"
        if problem:
            errors.append(doc.error(where, problem))
            continue
        seen.add(normal(term))
        good.append(term)
    return good


def _term_problem(term) -> str | None:
    """Why a term cannot be searched for as written, or None."""
    if not isinstance(term, str):
        return "a term is text — quote it"
    if _SEPARATORS.search(term):
        return f"{term!r} holds {_SEPARATORS.search(term)[0]!r} — give one term per item (split it into several)"
    if not _TERM.fullmatch(term):
        return f"{term!r} is not a term — use Chinese characters, letters and digits (spaces and hyphens inside)"
    from .search import to_simplified  # opencc: loaded only when a thesaurus is read

    simplified = to_simplified(term)
    if simplified != term:
        return f"{term!r} has Traditional characters — write {simplified!r}: searches fold Traditional to Simplified"
    return None
