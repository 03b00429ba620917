"""docs/使用说明.md, followed as a reader follows it: every command of the guide, in order, from a fresh clone.

The guide marks its blocks for this test by their info string (GitHub shows only the first word):

    ```sh            commands, run in bash in the folder the previous block ended in; they must succeed
    ```sh exit=1     commands that must fail with exit code 1 (the guide shows what they say)
    ```sh serve      the command that serves the site: started and left running, as the reader leaves it,
                     until the next serve command (the guide says to stop it first) or the end of the guide;
                     every http://127.0.0.1:8001/… address the text names while it runs is fetched then
    ```text          right below a command: what it prints; each line must be printed (… stands for any text)
    ```diff FILE     an edit the reader makes in FILE: the lines marked ' ' and '-' are replaced by ' ' and '+'

Commands run exactly as written, with three things said here:
- `git clone` of the project's address clones a repository made from this checkout's files instead
  (the tests run offline, and test the checkout rather than what was pushed);
- the clone's .venv is this test's own environment (make finds it installed and installs nothing);
- port 8001 of serve commands and of the addresses is a free port (the machine is shared).

With GUIDE_SCREENSHOTS=1 the run also takes the guide's screenshots into docs/images/ with Playwright
driving Debian's Chromium, as tests/test_browser.py does; they are documentation, committed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from docx import Document
from openpyxl import load_workbook

from riskcatalog.cli import main
from riskcatalog.site.serve import free_port

from .conftest import CATALOG, PROJECT_ROOT

GUIDE = PROJECT_ROOT / "docs" / "使用说明.md"
IMAGES = PROJECT_ROOT / "docs" / "images"
EXAMPLES = PROJECT_ROOT / "docs" / "examples"
PORT = "8001"
BLOCK = re.compile(r"^(?P<indent> *)```(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.S | re.M)
ADDRESS = re.compile(rf"http://127\.0\.0\.1:{PORT}(/[^\s`）)，。]*)")

#: What the guide says each page it names shows (and nothing of the shipped Yijia register on any).
PAGES = {
    "/": ["幸福街道廉政风险点与防控措施目录", "9 个风险点", "18 条防控措施", "4 个领域", "“三资”管理", "登记表（可打印）"],
    "/xingfu/full_register": ["打印登记表", "违规出租集体资产", "低于评估价出租，收受承租人好处"],
    "/changes": ["2026年度复评：A2-02 截留挪用临时救助资金由二级调为一级（年内审计发现冒领问题）；A2-M05 改为每月公开",
                 "幸福街道纪工委", "二级", "一级", "每季度在社区公开发放对象和金额", "每月在社区公开发放对象和金额，接受群众监督",
                 "2025-03-01", "登记确定"],
    "/xingfu/risks/xingfu-A2-02": ["截留挪用临时救助资金", "2026年度复评", "一级"],
    "/powers": ["职权目录", "集体“三资”管理", "社会救助审核发放", "小型工程项目管理", "民政专干"],
    "/powers/xingfu-A2-P01": ["社会救助审核发放", "入户调查", "资金发放", "一级 A2-02 截留挪用临时救助资金",
                              "每月在社区公开发放对象和金额，接受群众监督"],
    "/cards": ["岗位廉政风险防控卡", "集体资产管理员", "民政专干", "城管办主任"],
}
#: The screenshots the guide shows: page → (file, print media?).
SCREENSHOTS = {"/": ("guide-home.png", False), "/xingfu/full_register": ("guide-print.png", True),
               "/changes": ("guide-changes.png", False), "/powers/xingfu-A2-P01": ("guide-flowchart.png", False)}


@dataclass
class Block:
    info: str
    body: str
    before: str  # the guide's text between the previous block and this one

    @property
    def kind(self) -> str:
        return self.info.split(" ", 1)[0]

    @property
    def mark(self) -> str:
        return self.info.partition(" ")[2].strip()


def blocks(text: str) -> list[Block]:
    found, end = [], 0
    for match in BLOCK.finditer(text):
        indent = len(match["indent"])
        body = "".join(line[indent:] for line in match["body"].splitlines(keepends=True))
        found.append(Block(match["info"].strip(), body, text[end:match.start()]))
        end = match.end()
    return found


def shown(expected: str, printed: str) -> None:
    """Each line the guide shows is a line printed (… standing for any text within the line)."""
    lines = printed.splitlines()
    for line in expected.strip("\n").splitlines():
        pattern = re.compile(".*?".join(map(re.escape, line.split("…"))))
        assert any(pattern.fullmatch(printed_line) for printed_line in lines), \
            f"the guide shows\n{line}\nbut the command printed\n{printed}"


def edit(folder: Path, block: Block) -> None:
    """Make the edit a ```diff FILE block shows: its ' '/'-' lines, found once, become its ' '/'+' lines."""
    path = folder / block.mark
    lines = block.body.splitlines(keepends=True)
    assert all(line[:1] in " -+" for line in lines), block.body
    old = "".join(line[1:] for line in lines if line[0] in " -")
    new = "".join(line[1:] for line in lines if line[0] in " +")
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{block.mark} does not hold, once, the lines the guide shows:\n{old}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def source_repository(root: Path) -> Path:
    """A git repository holding this checkout's files as they are now (tracked and new, not ignored), named
    as the project's, for the guide's `git clone` to clone."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=PROJECT_ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    repo = root / "riskcatalog.git"
    for name in filter(None, listed):
        if (PROJECT_ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT_ROOT / name, repo / name)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=test", "-c", "user.email=test@example.org", "commit", "-qm", "checkout"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    return repo


def share_environment(clone: Path) -> None:
    """The clone's .venv: this test's Python environment, seen from the clone (the same packages), with
    make's stamps made after the clone's pyproject.toml, so that make installs nothing."""
    venv, own = clone / ".venv", Path(sys.prefix)
    (venv / "bin").mkdir(parents=True)
    shutil.copy2(own / "pyvenv.cfg", venv / "pyvenv.cfg")
    (venv / "lib").symlink_to(own / "lib")
    for program in (own / "bin").iterdir():
        (venv / "bin" / program.name).symlink_to(program)
    for stamp in (".installed", ".installed-test"):
        (venv / stamp).touch()


class Reader:
    """Runs the guide's blocks as its reader would, in a temporary folder."""

    def __init__(self, root: Path, repository: Path, port: int):
        self.root, self.repository, self.port = root, repository, port
        self.folder = root
        self.server: subprocess.Popen | None = None
        self.fetched: dict[str, bytes] = {}
        root.mkdir()
        home = root.parent / "home"  # no one's git configuration but what the guide sets
        home.mkdir()
        self.env = {name: value for name, value in os.environ.items()
                    if name not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "VIRTUAL_ENV", "PYTHONPATH"}
                    and not name.startswith("GIT_")}
        self.env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", LANG="C.UTF-8", LC_ALL="C.UTF-8")

    def _script(self, body: str) -> str:
        body = body.replace(f"PORT={PORT}", f"PORT={self.port}")
        url = yaml.safe_load((CATALOG / "register.yml").read_text(encoding="utf-8"))["publication"]["repository"]
        return body.replace(f"git clone {url}.git", f"git clone {self.repository}")

    def run(self, body: str) -> subprocess.CompletedProcess:
        """Run a command block in bash, in the folder the last one ended in; note the folder it ends in."""
        ended = self.root.parent / "pwd"
        script = f'trap \'pwd > "{ended}"\' EXIT\n{self._script(body)}'
        result = subprocess.run(["bash", "-e", "-c", script], cwd=self.folder, env=self.env, capture_output=True,
                                text=True, timeout=120)
        self.folder = Path(ended.read_text().strip())
        if "git clone" in body:
            share_environment(self.folder)
        return result

    def serve(self, body: str, log: Path) -> None:
        self.stop()
        self.log = log
        with open(log, "wb") as out:
            self.server = subprocess.Popen(["bash", "-e", "-c", self._script(body)], cwd=self.folder, env=self.env,
                                           stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            assert self.server.poll() is None, f"the site stopped:\n{log.read_text(errors='replace')}"
            try:
                self.get("/-/versions.json")
                return
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, f"the site did not answer:\n{log.read_text(errors='replace')}"
                time.sleep(0.2)

    def get(self, path: str) -> bytes:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{self.port}{path}", timeout=30) as response:
            assert response.status == 200
            return response.read()

    def stop(self) -> None:
        """Stop the site as the reader does (Ctrl+C): the whole command, make and the server it started."""
        if self.server and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGINT)
            try:
                self.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()
        self.server = None


def test_the_guide_from_a_fresh_clone(tmp_path):
    """Every command of docs/使用说明.md, in order, does what the guide says: the import refused then
    accepted with its readings, check and build, the site under the unit's own name, the printable
    register and workbook, the annual revision on /changes, the export the district imports."""
    guide = blocks(GUIDE.read_text(encoding="utf-8"))
    reader = Reader(tmp_path / "office", source_repository(tmp_path / "origin"), free_port())
    screenshots = os.environ.get("GUIDE_SCREENSHOTS") == "1"
    unchecked: list[Block] = []
    ran: list[str] = []
    try:
        for index, block in enumerate(guide):
            for path in ADDRESS.findall(block.before):
                assert reader.server, f"the guide names {path} where no site is running"
                page = reader.get(path)
                reader.fetched[path] = page
                if screenshots and path in SCREENSHOTS:
                    _screenshot(reader, path, *SCREENSHOTS[path])
            following = guide[index + 1] if index + 1 < len(guide) else None
            output = following.body if following and following.kind == "text" else None
            if block.kind == "sh" and block.mark == "serve":
                reader.serve(block.body, tmp_path / f"serve-{len(ran)}.log")
            elif block.kind == "sh":
                result = reader.run(block.body)
                printed = result.stdout + result.stderr
                expected = 1 if block.mark == "exit=1" else 0
                assert result.returncode == expected, f"{block.body}\nexited {result.returncode}:\n{printed}"
                if output is not None:
                    shown(output, printed)
            elif block.kind == "diff":
                edit(reader.folder, block)
            elif block.kind == "text" and not (index and guide[index - 1].kind == "sh"):
                unchecked.append(block)
            ran.append(block.info)
        reader.stop()
    finally:
        reader.stop()

    office = reader.folder
    assert ran.count("sh serve") == 2 and ran.count("sh exit=1") == 1 and ran.count("diff registers/幸福街道/area-2.yml") == 2
    # The refused import wrote nothing; the second wrote the register; the district's import of the export matches it.
    assert sorted(p.name for p in (office / "registers" / "幸福街道").iterdir()) == \
        ["area-1.yml", "area-2.yml", "area-3.yml", "area-4.yml", "posts.yml", "register.yml", "导入说明.md"]
    with sqlite3.connect(office / "xingfu.db") as conn:
        assert conn.execute("select id, name_zh from units").fetchall() == [("xingfu", "幸福街道")]
        assert conn.execute("select count(*) from risks").fetchone() == (9,)
        assert conn.execute("select count(*) from measures").fetchone() == (18,)
        assert conn.execute("select level from risks where key = 'xingfu-A2-02'").fetchone() == ("high",)
        assert conn.execute("select kind, day, author from commits order by date").fetchall() == [
            ("baseline", "2025-03-01", "幸福街道"), ("revision", time.strftime("%Y-%m-%d", time.gmtime()), "幸福街道纪工委")]
    for path, says in PAGES.items():
        page = " ".join(re.sub(r"<[^>]+>", " ", reader.fetched[path].decode()).split())  # the page's text
        assert all(text in page for text in says), (path, [text for text in says if text not in page])
    assert not [path for path, page in reader.fetched.items() if "易家".encode() in page]
    assert re.search(r"风险等级.{0,200}二级 → 一级", " ".join(re.sub(r"<[^>]+>", " ", reader.fetched["/changes"].decode()).split()))
    workbook = load_workbook(office / "幸福街道廉政风险点登记表.xlsx", read_only=True)
    assert workbook.sheetnames[0] == "登记表" and "幸福街道" in workbook["登记表"]["A1"].value
    downloaded = tmp_path / "register.xlsx"
    downloaded.write_bytes(reader.fetched["/-/register.xlsx"])
    assert "幸福街道" in load_workbook(downloaded, read_only=True)["登记表"]["A1"].value
    cards = Document(office / "幸福街道岗位廉政风险防控卡.docx")
    assert "民政专干" in "".join(cell.text for table in cards.tables for row in table.rows for cell in row.cells)
    handbook = Document(office / "幸福街道廉政风险防控手册.docx")
    assert any("社会救助审核发放" in paragraph.text for paragraph in handbook.paragraphs)
    district = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((office / "区汇总" / "幸福街道").glob("*.yml"))]
    here = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((office / "registers" / "幸福街道").glob("*.yml"))]
    assert district == here

    # The one text block that is not a command's output: the check's error the guide quotes, made for real.
    (mistake,) = unchecked
    copy = tmp_path / "mistake"
    shutil.copytree(office / "registers" / "幸福街道", copy / "registers" / "幸福街道")
    area = copy / "registers" / "幸福街道" / "area-2.yml"
    area.write_text(re.sub(r"(- id: A2-02\n(?:    .*\n)*?    level: )\w+", r"\g<1>一级", area.read_text(encoding="utf-8")),
                    encoding="utf-8")
    result = subprocess.run([office / ".venv/bin/python", office / "build.py", "check", "registers/幸福街道"], cwd=copy,
                            env=reader.env, capture_output=True, text=True)
    assert result.returncode == 1
    shown(mistake.body, result.stdout + result.stderr)


def test_the_guide_shows_each_image_it_names_small():
    """Each screenshot the guide shows is committed under docs/images and small."""
    names = re.findall(r"!\[[^\]]*\]\(images/([^)]+)\)", GUIDE.read_text(encoding="utf-8"))
    assert sorted(names) == sorted(name for name, _ in SCREENSHOTS.values())
    for name in names:
        assert (IMAGES / name).stat().st_size < 150_000, name


def _screenshot(reader: Reader, path: str, name: str, printed: bool) -> None:
    """The page as a reader sees it at 1100 px; a printed page as it comes out of the printer: the first
    page of Chromium's PDF of it, drawn by Debian's pdftoppm (poppler-utils)."""
    from playwright.sync_api import sync_playwright

    from .test_browser import CHROMIUM, CHROMIUM_ARGS

    IMAGES.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1100, "height": 760}, locale="zh-CN")
        page.goto(f"http://127.0.0.1:{reader.port}{path}")
        if printed:
            pdf = reader.root.parent / f"{name}.pdf"
            page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
            subprocess.run(["pdftoppm", "-png", "-r", "72", "-f", "1", "-l", "1", "-singlefile", pdf,
                            IMAGES / Path(name).stem], check=True)
        else:
            page.screenshot(path=str(IMAGES / name))
        browser.close()


def test_the_example_workbook_is_the_one_its_script_writes():
    """docs/examples/示例登记表.xlsx holds the rows and merged cells make_example_register.py says it does."""
    spec = importlib.util.spec_from_file_location("make_example_register", EXAMPLES / "make_example_register.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    rows, merges = script.rows()
    sheet = load_workbook(EXAMPLES / "示例登记表.xlsx")["登记表"]
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == rows
    assert sorted(map(str, sheet.merged_cells.ranges)) == sorted(merges)


def test_fixing_the_workbook_instead_gives_the_same_register(tmp_path, capsys):
    """As the guide says: G9 written 较高 and 完成时限 deleted in Excel imports the register the options gave."""
    workbook = load_workbook(EXAMPLES / "示例登记表.xlsx")
    sheet = workbook["登记表"]
    assert sheet["G9"].value == "高" and sheet["K3"].value == "完成时限"
    sheet["G9"] = "较高"
    spanning = [str(cells) for cells in sheet.merged_cells.ranges if "K" in str(cells)]
    for cells in spanning:
        sheet.unmerge_cells(cells)
    sheet.delete_cols(11)
    for cells in spanning:
        if cells != "K3:K4":
            sheet.merge_cells(cells.replace(":K", ":J"))
    fixed = tmp_path / "示例登记表.xlsx"
    workbook.save(fixed)
    assert main(["import", str(fixed), "--out", str(tmp_path / "fixed" / "幸福街道")]) == 0
    assert main(["import", str(EXAMPLES / "示例登记表.xlsx"), "--out", str(tmp_path / "said" / "幸福街道"),
                 "--column", "完成时限=不导入", "--level", "高=一级"]) == 0
    files = {folder: {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / folder / "幸福街道").glob("*.yml")}
             for folder in ("fixed", "said")}
    assert files["fixed"] == files["said"] and len(files["said"]) == 6
