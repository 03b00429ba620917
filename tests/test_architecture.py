"""The layout of docs/architecture.md, held: each module imports only from its own layer or below, and the
site only from the foundation and the workbook writer."""

from __future__ import annotations

import ast
from pathlib import Path

from .conftest import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "riskcatalog"

#: The build's layers, lowest first: docs/architecture.md's table.
LAYERS = {
    "foundation": {"fields", "tables", "vocab", "search", "thesaurus", "yamlload", "errors", "files", "git",
                   "formulas"},
    "load": {"validate", "catalog"},
    "stages": {"compile", "history", "diff", "pieces", "words", "db", "excel.layout", "excel.export", "documents",
               "documents.data", "documents.flowchart", "documents.picture", "documents.word"},
    "schedule": {"schedule"},
    "build": {"build"},
    "tools": {"cli", "__main__", "fmt", "excel", "excel.reading", "excel.fields", "excel.published",
              "excel.importer", "excel.commands", "excel.opening", "excel.xlsx", "excel.xls", "excel.word",
              "excel.csvtext", "excel.headings", "excel.levels", "excel.naming", "excel.report", "excel.placement",
              "documents.commands"},
}
#: What the site may read besides itself: the foundation and the workbook writer.
SITE_READS = LAYERS["foundation"] | {"excel", "excel.layout", "excel.export", "documents", "documents.data",
                                     "documents.flowchart", "documents.picture", "documents.word"}


def module_name(path: Path) -> str:
    """riskcatalog/excel/export.py -> excel.export; riskcatalog/site/__init__.py -> site."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The package's modules a file imports, by module_name."""
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            if node.module:
                found.add(".".join(base + [node.module]))
            else:
                found.update(".".join(base + [alias.name]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("riskcatalog"):
            found.add(node.module.removeprefix("riskcatalog").lstrip("."))
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("riskcatalog.") for a in node.names if a.name.startswith("riskcatalog."))
    return {module for module in found if module}


def layer_of(module: str) -> int:
    return next(n for n, modules in enumerate(LAYERS.values()) if module in modules)


def test_every_module_of_the_build_has_its_layer():
    """A new module of the build is placed in a layer (here and in docs/architecture.md) before it lands."""
    modules = {module_name(p) for p in PACKAGE.rglob("*.py") if "site" not in p.relative_to(PACKAGE).parts}
    assert modules - {""} == set().union(*LAYERS.values())


def test_the_build_imports_only_downwards():
    """No module of the build imports from a layer above its own, nor from the site."""
    upwards = []
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        if not name or name.startswith("site"):
            continue
        for imported in imports(path):
            if imported.startswith("site") or layer_of(imported) > layer_of(name):
                upwards.append((name, imported))
    assert upwards == []


def test_the_site_reads_only_the_foundation_and_the_workbook_writer():
    """The site reads the database, the registry and the workbook writer: never the validator, the YAML or git."""
    outside = {(module_name(path), imported) for path in (PACKAGE / "site").rglob("*.py")
               for imported in imports(path) if not imported.startswith("site") and imported not in SITE_READS}
    assert outside == set()


def test_the_documented_layers_are_these():
    """docs/architecture.md names every module of each layer in its table."""
    text = (PROJECT_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(): line.split("|")[2] for line in text.splitlines()
            if line.startswith("| ") and line.split("|")[1].strip() in LAYERS}
    for layer, modules in LAYERS.items():
        documented = {part.strip("` ") for part in rows[layer].split(",")}
        assert documented == modules - {"__main__", "excel", "documents"}, layer


#: The stages a build is made of: none knows another (schedule and build put them together).
STAGES = {"compile", "history", "db", "excel.export"}


def test_the_stages_do_not_know_each_other():
    """compile, history, db and the workbook writer import none of each other: compile does not read git, the
    history does not make rows of the register, and either can change without the other."""
    crossing = {(module_name(path), imported) for path in PACKAGE.rglob("*.py")
                if module_name(path) in STAGES for imported in imports(path) if imported in STAGES}
    assert crossing == set()
