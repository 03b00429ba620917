"""The package as `pip install` and `datasette publish --install` put it: a wheel, outside the checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from .conftest import PROJECT_ROOT, copy_catalog


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built as pip builds it, from a copy of what the checkout tracks."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    tracked = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=PROJECT_ROOT, check=True, capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, tracked):  # setuptools writes build/ beside the sources: not in the checkout
        if (PROJECT_ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT_ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(source)],
                   check=True, capture_output=True)
    return next(out.glob("riskcatalog-*.whl"))


def test_wheel_holds_the_build_and_site_wings_not_the_benchmarks(wheel):
    """The wheel carries the package, its subpackage and schema.json; no benchmark, test or catalogue file."""
    names = zipfile.ZipFile(wheel).namelist()
    files = {name for name in names if not name.startswith("riskcatalog-")}
    assert "riskcatalog/schema.json" in files and "riskcatalog/site/__init__.py" in files
    assert {name.split("/")[0] for name in files} == {"riskcatalog"}
    assert not [name for name in files if any(word in name for word in ("bench", "synth", "loadtest", "floor"))]


def test_installed_wheel_validates_and_builds_a_catalogue_outside_the_checkout(wheel, tmp_path):
    """In a fresh virtual environment, away from the checkout, the installed package checks and builds."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The dependencies come from the test environment (no download), the package from the wheel only:
    # a .pth line adds the directory, but its own .pth files (the editable install's finder) are not read.
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    str(wheel)], check=True, capture_output=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    copy_catalog(work / "register")
    run = lambda *args: subprocess.run([str(python), *args], cwd=work, capture_output=True, text=True)  # noqa: E731
    where = run("-c", "import riskcatalog; print(riskcatalog.__file__)")
    assert where.stdout.strip().startswith(str(site)), where
    check = run("-m", "riskcatalog", "--check", "register")
    assert (check.returncode, check.stdout) == (0, "8 areas, 51 risks, 78 measures: OK\n"), check.stderr
    build = run("-m", "riskcatalog", "register", "-o", "register.db")
    assert build.returncode == 0, build.stderr
    assert (work / "register.db").stat().st_size > 0
