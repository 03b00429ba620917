"""Load one register folder (register.yml, sources.yml, posts.yml, one file per area) and validate it.

Structure is checked per file against the schema; the cross-file rules (ids unique,
links resolve, totals and levels agree, risks stand on steps of declared powers) are checked
here. Every error is collected so a contributor sees all of them in one run.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path

from . import validate
from .errors import CatalogError, CatalogInvalid
from .yamlload import Document, load_file

REGISTER_FILE = "register.yml"
SOURCES_FILE = "sources.yml"
#: The unit's posts (岗位), which exercise its powers and sign its risk cards: optional.
POSTS_FILE = "posts.yml"
#: The schema's definition of each file kind by name (schema.json's $defs); any other file is an area's.
DEFINITIONS = {REGISTER_FILE: "register_file", SOURCES_FILE: "sources_file", POSTS_FILE: "posts_file"}


def definition_of(name: str) -> str:
    """The schema definition a catalogue file of that name is checked against."""
    return DEFINITIONS.get(name, "area_file")
#: The languages of a register that does not say: every Chinese text has its English.
BILINGUAL = ["zh", "en"]


@dataclass
class Area:
    """One area file: its own record, its risks and the measures defined in it."""

    record: dict
    risks: list[dict]
    measures: list[dict]
    doc: Document
    powers: list[dict] = field(default_factory=list)


@dataclass
class Register:
    """One unit's register, validated; entries carry the `file` and `line` they came from."""

    folder: Path
    register: dict
    sources: list[dict]
    doc: Document
    sources_doc: Document | None = None
    areas: list[Area] = field(default_factory=list)
    posts: list[dict] = field(default_factory=list)
    posts_doc: Document | None = None

    @property
    def unit(self) -> dict:
        return self.register["unit"]

    @property
    def languages(self) -> list[str]:
        return self.register.get("languages", BILINGUAL)

    def risks(self):
        return (risk for area in self.areas for risk in area.risks)

    def measures(self):
        return (measure for area in self.areas for measure in area.measures)

    def powers(self):
        return (power for area in self.areas for power in area.powers)

    def summary(self) -> str:
        active = lambda entries: sum(e.get("status", "active") == "active" for e in entries)  # noqa: E731
        return f"{len(self.areas)} areas, {active(self.risks())} risks, {active(self.measures())} measures"


def level_for(score: int, levels: list[dict]) -> str | None:
    """The level whose min_score is the highest one the score reaches."""
    reached = [lvl for lvl in levels if score >= lvl["min_score"]]
    return max(reached, key=lambda lvl: lvl["min_score"])["id"] if reached else None


def display_name(folder: Path, name: str) -> str:
    """A file's name as errors show it: relative to the working directory where possible."""
    path = folder / name
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def stored_folder(folder: Path) -> str:
    """A register folder as the database keeps it: relative to the working directory when it lies
    under it, else only its name; the database is published, the builder's file system is not."""
    path, here = Path(folder).resolve(), Path.cwd().resolve()
    if path != here and path.is_relative_to(here):
        return path.relative_to(here).as_posix()
    return path.name


def load_register(folder: Path) -> Register:
    """Load and validate a register folder; raises CatalogInvalid with every error found."""
    folder = Path(folder)
    errors: list[CatalogError] = []
    register_doc = _load(folder, REGISTER_FILE, "register_file", errors, english=None)
    if register_doc is None:
        raise CatalogInvalid(errors)
    english = _english(register_doc.data)
    # sources.yml is only needed by a register that cites sources: without it, none is known.
    has_sources = os.path.lexists(folder / SOURCES_FILE)
    sources_doc = _load(folder, SOURCES_FILE, "sources_file", errors, english) if has_sources else None
    reg = Register(folder, register_doc.data, sources_doc.data["sources"] if sources_doc else [], register_doc,
                   sources_doc)
    _annotate(reg.sources, sources_doc, "sources")
    has_posts = os.path.lexists(folder / POSTS_FILE)
    reg.posts_doc = _load(folder, POSTS_FILE, "posts_file", errors, english) if has_posts else None
    reg.posts = reg.posts_doc.data["posts"] if reg.posts_doc else []
    _annotate(reg.posts, reg.posts_doc, "posts")
    areas_ok = True
    for index, area_id in enumerate(reg.register["areas"]):
        area = _load_area(folder, area_id, register_doc, index, errors, english)
        if area is None:
            areas_ok = False
        else:
            reg.areas.append(area)
    structure_ok = areas_ok and (sources_doc is not None or not has_sources) and (reg.posts_doc is not None or not has_posts)
    _check_unlisted_files(folder, reg.register["areas"], register_doc, errors)
    # Citations are checked against sources.yml once it loaded, or against none when there is no file.
    _check_links(reg, register_doc, sources_doc, sources_doc is not None or not has_sources, errors)
    _check_citation_dates(reg, errors)
    _check_powers(reg, sources_doc is not None or not has_sources, reg.posts_doc is not None or not has_posts,
                  areas_ok, errors)
    if structure_ok:  # counts are only meaningful when every file loaded
        _check_totals(reg, register_doc, errors)
    if errors:
        raise CatalogInvalid(errors)
    return reg


def _load(folder: Path, name: str, definition: str, errors: list, english: bool | None = True) -> Document | None:
    """Load one file and check its structure; None (with errors added) if unusable.

    english: whether every Chinese text needs its English; None for register.yml, which says so itself.
    """
    shown = display_name(folder, name)
    path = folder / name
    if not os.path.lexists(path):  # anything else there (a link, a FIFO) is refused by load_file, by name
        errors.append(CatalogError(shown, 1, 1, "", f"file is missing — create {shown}"))
        return None
    doc, load_errors = load_file(path, shown)
    if doc is None:
        errors.extend(load_errors)
        return None
    structure_errors = validate.check(doc, definition, _english(doc.data) if english is None else english)
    errors.extend(structure_errors)
    return None if structure_errors else doc


def _english(register: object) -> bool:
    """Whether a register (register.yml's data, valid or not) is kept in English too."""
    languages = register.get("languages") if isinstance(register, dict) else None
    return "en" in languages if isinstance(languages, list) else True


def _load_area(folder: Path, area_id: str, register_doc: Document, index: int, errors: list,
               english: bool) -> Area | None:
    if not os.path.lexists(folder / f"{area_id}.yml"):
        shown = display_name(folder, f"{area_id}.yml")
        errors.append(register_doc.error(("areas", index),
                                         f"area file {shown} is missing — create it or remove {area_id!r} from areas"))
        return None
    doc = _load(folder, f"{area_id}.yml", "area_file", errors, english)
    if doc is None:
        return None
    if doc.data["area"]["id"] != area_id:
        errors.append(doc.error(("area", "id"), f"area id {doc.data['area']['id']!r} does not match the file name — "
                                                f"set it to {area_id!r} or rename the file"))
    area = Area(doc.data["area"], doc.data["risks"], doc.data["measures"], doc, doc.data.get("powers", []))
    _annotate([area.record], doc, "area", single=True)
    _annotate(area.powers, doc, "powers")
    _annotate(area.risks, doc, "risks")
    _annotate(area.measures, doc, "measures")
    return area


def _annotate(entries: list[dict], doc: Document | None, key: str, single: bool = False) -> None:
    """Record where each entry came from, for "edit this entry" links."""
    for index, entry in enumerate(entries):
        entry["file"] = doc.file
        entry["line"] = doc.where((key,) if single else (key, index))[0]


def _check_unlisted_files(folder: Path, area_ids: list[str], register_doc: Document, errors: list) -> None:
    known = {REGISTER_FILE, SOURCES_FILE, POSTS_FILE} | {f"{a}.yml" for a in area_ids}
    for path in sorted(folder.glob("*.yml")):
        if path.name not in known:
            errors.append(CatalogError(display_name(folder, path.name), 1, 1, "",
                                       f"area file not listed in {REGISTER_FILE} — add {path.stem!r} to areas "
                                       f"or remove the file"))


def _check_links(reg: Register, register_doc: Document, sources_doc: Document | None, cited: bool,
                 errors: list) -> None:
    """Ids unique; measures, sources and replacements resolve; levels agree with the matrix."""
    source_ids = _unique_ids([(s, sources_doc, ("sources", i)) for i, s in enumerate(reg.sources)], errors)
    provenance = reg.register.get("provenance", {}).get("source")
    if cited and provenance and provenance not in source_ids:
        errors.append(register_doc.error(("provenance", "source"),
                                         f"unknown source {provenance!r} — add it to sources.yml"))
    entries = [(r, a.doc, ("risks", i)) for a in reg.areas for i, r in enumerate(a.risks)]
    entries += [(m, a.doc, ("measures", i)) for a in reg.areas for i, m in enumerate(a.measures)]
    ids = _unique_ids(entries, errors)
    measures = {m["id"]: m for m in reg.measures()}
    risks = {r["id"]: r for r in reg.risks()}
    linked: set[str] = set()
    levels = reg.register["levels"]
    first_level: dict[str, int] = {}
    for index, level in enumerate(levels):  # unit_levels is keyed by (unit, level)
        first = first_level.setdefault(level["id"], index)
        if first != index:
            errors.append(register_doc.error(("levels", index, "id"), f"level {level['id']!r} is listed twice (first "
                                             f"at line {register_doc.where(('levels', first))[0]}) — keep one"))
    for area in reg.areas:
        for index, risk in enumerate(area.risks):
            path = ("risks", index)
            _check_level(risk, levels, area.doc, path, errors)
            for n, measure_id in enumerate(risk["measures"]):
                measure = measures.get(measure_id)
                if measure is None:
                    hint = "that is a risk id" if measure_id in risks else "define it or fix the id"
                    errors.append(area.doc.error(path + ("measures", n), f"unknown measure {measure_id!r} — {hint}"))
                elif _active(risk) and not _active(measure):
                    errors.append(area.doc.error(path + ("measures", n), f"measure {measure_id!r} is withdrawn — "
                                                 f"link {measure.get('replaced_by') or 'an active measure'} instead"))
                elif _active(risk):
                    linked.add(measure_id)
            _check_replacement(risk, risks, "risk", area.doc, path, errors)
            if cited:
                _check_sources(risk, source_ids, area.doc, path, errors)
        for index, measure in enumerate(area.measures):
            path = ("measures", index)
            _check_replacement(measure, measures, "measure", area.doc, path, errors)
            if cited:
                _check_sources(measure, source_ids, area.doc, path, errors)
            if _active(measure) and measure["id"] not in linked and ids.get(measure["id"]) is measure:
                errors.append(area.doc.error(path + ("id",), f"measure {measure['id']!r} is not linked from any active "
                                                             "risk — add it to a risk's measures or withdraw it"))


def _active(entry: dict) -> bool:
    return entry.get("status", "active") == "active"


def _unique_ids(entries: list[tuple[dict, Document, tuple]], errors: list) -> dict[str, dict]:
    first: dict[str, dict] = {}
    for entry, doc, path in entries:
        previous = first.setdefault(entry["id"], entry)
        if previous is not entry:
            errors.append(doc.error(path + ("id",), f"duplicate id {entry['id']!r} (first defined at "
                                                    f"{previous['file']}:{previous['line']}) — ids are never reused; "
                                                    "give this entry a new id"))
    return first


def _check_level(risk: dict, levels: list[dict], doc: Document, path: tuple, errors: list) -> None:
    """The level agrees with the register's matrix, where the risk is rated (likelihood and impact)."""
    if "likelihood" not in risk:  # a level given by the unit without ratings stands as given
        return
    score = risk["likelihood"] * risk["impact"]
    expected = level_for(score, levels)
    if expected is None:
        errors.append(doc.error(path + ("level",), f"no level in register.yml covers score {score} — "
                                                   "give the lowest level min_score: 1"))
    elif risk["level"] != expected:
        errors.append(doc.error(path + ("level",), f"level {risk['level']!r} does not agree with likelihood "
                                                   f"{risk['likelihood']} × impact {risk['impact']} = {score}, which is "
                                                   f"{expected!r} — set level: {expected} or change the ratings"))


def _check_replacement(entry: dict, same_kind: dict, kind: str, doc: Document, path: tuple, errors: list) -> None:
    replacement = entry.get("replaced_by")
    if replacement is None:
        return
    if _active(entry):
        errors.append(doc.error(path + ("replaced_by",), "replaced_by is only for withdrawn entries — "
                                                         "add status: withdrawn or remove replaced_by"))
    elif replacement not in same_kind or replacement == entry["id"]:
        errors.append(doc.error(path + ("replaced_by",), f"replaced_by {replacement!r} is not another {kind} of "
                                                         "this register — fix the id"))


def _check_sources(entry: dict, source_ids: dict, doc: Document, path: tuple, errors: list) -> None:
    for n, source_id in enumerate(entry.get("sources", [])):
        if source_id not in source_ids:
            errors.append(doc.error(path + ("sources", n), f"unknown source {source_id!r} — add it to sources.yml "
                                                           "or fix the id"))


def _check_citation_dates(reg: Register, errors: list) -> None:
    """No entry cites a source issued after the entry was reviewed: a register speaks as of its reviews.

    A measure was last reviewed with the latest of the active risks that link it.
    """
    sources = {source["id"]: source for source in reg.sources}
    reviewed_with: dict[str, str] = {}
    for risk in filter(_active, reg.risks()):
        for measure_id in risk["measures"]:
            reviewed_with[measure_id] = max(reviewed_with.get(measure_id, ""), risk["reviewed"])
    for area in reg.areas:
        for kind, entries in (("risk", area.risks), ("measure", area.measures)):
            for index, entry in enumerate(entries):
                reviewed = entry.get("reviewed") or reviewed_with.get(entry["id"])
                for n, source_id in enumerate(entry.get("sources", []) if reviewed else []):
                    issued = _issued_after(sources.get(source_id), reviewed)
                    if issued:
                        when = ("this risk was reviewed" if kind == "risk"
                                else "the risks this measure controls were last reviewed")
                        errors.append(area.doc.error((f"{kind}s", index, "sources", n), (
                            f"cites {source_id!r} ({issued}), issued after {when} ({reviewed}) — "
                            "cite the rule in force then, or review the entry again")))


def _issued_after(source: dict | None, reviewed: str) -> str | None:
    """When the source was issued, if that is after the review date: its date, else (none known) its year."""
    if source is None:
        return None
    if source.get("date"):
        return source["date"] if source["date"] > reviewed else None  # ISO dates compare as text
    year = source.get("year")  # a unit's own register may give neither
    return str(year) if year is not None and year > int(reviewed[:4]) else None


# --- powers, steps and posts (职权目录, 权力运行流程图, 岗位廉政风险防控卡) ---------------------------------

def _check_powers(reg: Register, cited: bool, posts_known: bool, all_powers: bool, errors: list) -> None:
    """Ids of posts, powers and steps unique; every post, source, step and branch a power, a risk or a
    measure names exists; a power cites only what was in force when the risks on it were reviewed.

    cited: sources.yml loaded (or absent), so unknown sources can be told; posts_known: likewise posts.yml;
    all_powers: every area file loaded, so a power no file declares is unknown (not in a file with errors).
    """
    post_ids = _unique_ids([(p, reg.posts_doc, ("posts", n)) for n, p in enumerate(reg.posts)], errors)
    powers = _unique_ids([(p, area.doc, ("powers", n)) for area in reg.areas for n, p in enumerate(area.powers)],
                         errors)
    source_ids = {source["id"] for source in reg.sources}
    for area in reg.areas:
        for index, power in enumerate(area.powers):
            path = ("powers", index)
            if posts_known:
                for n, post_id in enumerate(power.get("posts", [])):
                    _check_post(post_id, post_ids, area.doc, path + ("posts", n), errors)
            if cited:
                _check_sources(power, source_ids, area.doc, path, errors)
            _check_steps(power, post_ids if posts_known else None, area.doc, path, errors)
        if not all_powers:
            continue
        for index, risk in enumerate(area.risks):
            if "power" in risk:
                _check_placement(risk, powers, area.doc, ("risks", index), errors)
        for index, measure in enumerate(area.measures):
            for n, reference in enumerate(measure.get("steps", [])):
                power_id, _, step_id = reference.partition("/")
                _check_step_of(power_id, step_id, powers, area.doc, ("measures", index, "steps", n), errors,
                               shown=reference)
    if cited:
        _check_power_dates(reg, errors)


def _check_post(post_id: str, post_ids: dict, doc: Document, path: tuple, errors: list) -> None:
    if post_id not in post_ids:
        where = "declare it in posts.yml" if post_ids else "create posts.yml and declare it there"
        errors.append(doc.error(path, f"unknown post {post_id!r} — {where}, or fix the id"))


def _check_steps(power: dict, post_ids: dict | None, doc: Document, path: tuple, errors: list) -> None:
    """A power's steps: ids unique within it, posts declared, each branch going to another of its steps or ending."""
    first: dict[str, int] = {}
    for n, step in enumerate(power["steps"]):
        earlier = first.setdefault(step["id"], n)
        if earlier != n:
            errors.append(doc.error(path + ("steps", n, "id"), (
                f"step id {step['id']!r} is used twice in {power['id']} (first at line "
                f"{doc.where(path + ('steps', earlier))[0]}) — give each step of a power its own id")))
        if post_ids is not None and "post" in step:
            _check_post(step["post"], post_ids, doc, path + ("steps", n, "post"), errors)
    for n, step in enumerate(power["steps"]):
        for b, branch in enumerate(step.get("branches", [])):
            at = path + ("steps", n, "branches", b)
            if "to" in branch and "end_zh" in branch:
                errors.append(doc.error(at + ("to",), "a branch either goes to a step or ends the flow — "
                                                      "give to or end_zh, not both"))
            elif "to" not in branch and "end_zh" not in branch:
                errors.append(doc.error(at, "a branch needs where it leads — give to (a step of this power) or "
                                            "end_zh (where the flow ends)"))
            elif branch.get("to") == step["id"]:
                errors.append(doc.error(at + ("to",), f"a branch cannot go back to its own step {step['id']!r} — "
                                                      "give another step, or end_zh (e.g. 补齐材料后重新受理)"))
            elif "to" in branch and branch["to"] not in first:
                errors.append(doc.error(at + ("to",), f"unknown step {branch['to']!r} — {_steps_of(power)}"))


def _steps_of(power: dict) -> str:
    """What to do about a step a power does not have: name its steps."""
    return f"give a step of {power['id']}: {', '.join(dict.fromkeys(step['id'] for step in power['steps']))}"


def _check_placement(risk: dict, powers: dict, doc: Document, path: tuple, errors: list) -> None:
    """A risk's power exists and every one of its steps is a step of it."""
    power = powers.get(risk["power"])
    if power is None:
        errors.append(doc.error(path + ("power",), _unknown_power(risk["power"], powers)))
        return
    for n, step_id in enumerate(risk.get("steps", [])):
        _check_step_of(power["id"], step_id, powers, doc, path + ("steps", n), errors)


def _check_step_of(power_id: str, step_id: str, powers: dict, doc: Document, path: tuple, errors: list,
                   shown: str | None = None) -> None:
    """step_id is a step of the power power_id (which a measure's POWER/step may not name rightly either)."""
    power = powers.get(power_id)
    if power is None:
        errors.append(doc.error(path, _unknown_power(power_id, powers, shown)))
    elif step_id not in {step["id"] for step in power["steps"]}:
        what = f"{shown!r} names no step of {power_id}" if shown else f"{step_id!r} is not a step of {power_id}"
        errors.append(doc.error(path, f"{what} — {_steps_of(power)}"))


def _unknown_power(power_id: str, powers: dict, shown: str | None = None) -> str:
    what = f"unknown power {power_id!r}" + (f" in {shown!r}" if shown else "")
    hint = difflib.get_close_matches(power_id, list(powers), n=1)
    return f"{what} — " + (f"did you mean {hint[0]!r}?" if hint else "declare it under powers: in an area file, "
                                                                      "or fix the id")


def _check_power_dates(reg: Register, errors: list) -> None:
    """A power's basis was in force when the risks standing on it were reviewed (the earliest of them), or, with no
    risk on it yet, when its area's risks were."""
    sources = {source["id"]: source for source in reg.sources}
    on_power: dict[str, str] = {}
    for risk in filter(_active, reg.risks()):
        if "power" in risk:
            on_power[risk["power"]] = min(on_power.get(risk["power"], risk["reviewed"]), risk["reviewed"])
    for area in reg.areas:
        area_reviewed = min((risk["reviewed"] for risk in area.risks if _active(risk)), default=None)
        for index, power in enumerate(area.powers):
            reviewed = on_power.get(power["id"], area_reviewed)
            for n, source_id in enumerate(power.get("sources", []) if reviewed else []):
                issued = _issued_after(sources.get(source_id), reviewed)
                if issued:
                    errors.append(area.doc.error(("powers", index, "sources", n), (
                        f"cites {source_id!r} ({issued}), issued after the risks on this power were reviewed "
                        f"({reviewed}) — cite the rule in force then, or review the risks again")))


def _check_totals(reg: Register, register_doc: Document, errors: list) -> None:
    for kind, entries in (("risks", reg.risks()), ("measures", reg.measures())):
        declared = reg.register["totals"][kind]
        actual = sum(map(_active, entries))
        if declared != actual:
            errors.append(register_doc.error(("totals", kind), f"declares {declared} {kind} but the area files "
                                                               f"define {actual} active ones — update totals or the areas"))
