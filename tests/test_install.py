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
    """The wheel carries the package, its subpackages, schema.json and the site's templates, styles and
    metadata; no benchmark, test or catalogue file."""
    names = zipfile.ZipFile(wheel).namelist()
    files = {name for name in names if not name.startswith("riskcatalog-")}
    assert "riskcatalog/schema.json" in files and "riskcatalog/site/__init__.py" in files
    site = PROJECT_ROOT / "riskcatalog" / "site"
    shipped = {str(path.relative_to(PROJECT_ROOT)) for folder in ("templates", "static")
               for path in (site / folder).iterdir()}
    assert shipped and shipped | {"riskcatalog/site/catalogue.yml"} <= files
    assert {name.split("/")[0] for name in files} == {"riskcatalog"}
    assert not [name for name in files if any(word in name for word in ("bench", "synth", "loadtest", "floor"))]


def test_installed_wheel_builds_and_serves_a_catalogue_of_any_name_outside_the_checkout(wheel, tmp_path):
    """In a fresh virtual environment, away from the checkout, the installed package checks and builds
    a register into hanzheng.db, and a plain `datasette serve --immutable hanzheng.db` (no metadata,
    templates or static folder) serves the whole site: the catalogue's home page, search, a risk page."""
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
    where = run("-c", "import riskcatalog, riskcatalog.site; print(riskcatalog.__file__)")
    assert where.stdout.strip().startswith(str(site)), where
    check = run("-m", "riskcatalog", "--check", "register")
    assert (check.returncode, check.stdout) == (0, "8 areas, 51 risks, 78 measures: OK\n"), check.stderr
    build = run("-m", "riskcatalog", "register", "-o", "hanzheng.db")
    assert build.returncode == 0, build.stderr
    assert sorted(path.name for path in work.iterdir()) == ["hanzheng.db", "register"]  # no templates, no metadata
    serve = lambda path: run("-m", "datasette", "serve", "--immutable", "hanzheng.db", "--get", path)  # noqa: E731
    home = serve("/")
    assert home.returncode == 0 and "<title>易家街道廉政风险点与防控措施目录" in home.stdout, home.stderr[-2000:]
    assert '<html lang="zh-CN">' in home.stdout and 'href="/hanzheng/full_register"' in home.stdout
    found = serve("/search?q=%E6%8A%A5%E9%94%80")  # 报销
    assert found.returncode == 0 and '<a href="/hanzheng/risks/yijia-REIM-01">' in found.stdout
    risk = serve("/hanzheng/risks/yijia-LAND-01")
    assert risk.returncode == 0 and '<article class="entry risk">' in risk.stdout
    assert "国有土地上房屋征收与补偿条例" in risk.stdout
    css = serve("/-/static-plugins/riskcatalog/catalog.css")
    assert css.returncode == 0 and ".level {" in css.stdout
