"""A register served as its own: its unit's name, title, licence and source, from register.yml; the shipped
register's notice that its text is modelled, on every page where readers land; nothing of Yijia Street on
the pages of another unit's register; a deployment's metadata.yml setting what it chooses to."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from datasette.app import Datasette

from riskcatalog import build as builder
from riskcatalog.site.serve import SETTINGS

from .test_import import BUREAU, BUREAU_MERGES, make_workbook, run_import

#: What of the shipped register must not reach another unit's pages.
YIJIA = ("易家", "Yijia", "长江日报", "Changjiang", "integrity-register", "模拟文本")


@pytest.fixture(scope="module")
def bureau_db(tmp_path_factory) -> Path:
    """A bureau's own register, imported from its workbook and built into bozhou.db: no publication, no
    provenance kind, no repository."""
    where = tmp_path_factory.mktemp("bureau")
    make_workbook(where / "book.xlsx", BUREAU, BUREAU_MERGES)
    assert run_import(where / "book.xlsx", where / "bozhou") == 0
    builder.build([where / "bozhou"], where / "bozhou.db")
    return where / "bozhou.db"


def plain(path: Path) -> Datasette:
    """Datasette as `datasette serve --immutable bozhou.db` starts it."""
    return Datasette(immutables=[str(path)], settings=SETTINGS)


@pytest.mark.parametrize("path", ["/", "/search?q=接待", "/bozhou/risks/bozhou-A1-01", "/bozhou/measures/bozhou-A1-M01",
                                  "/bozhou/areas/bozhou-area-1", "/changes", "/bozhou/risks", "/bozhou/full_register"])
async def test_another_units_register_shows_nothing_of_yijia_street(bureau_db, path):
    """Every page of the bureau's register is the bureau's: no other unit's name, report, repository or notice."""
    response = await plain(bureau_db).client.get(path)
    assert response.status_code == 200, path
    assert [word for word in YIJIA if word in response.text] == []


async def test_another_units_register_is_titled_by_its_unit_and_has_no_edit_links(bureau_db):
    """No publication in register.yml: the title is the unit's name; no licence line; no repository, so no edit link."""
    client = plain(bureau_db).client
    home = (await client.get("/")).text
    assert "<title>亳州市住房和城乡建设局廉政风险点与防控措施目录 · Integrity-risk register</title>" in home
    assert "数据许可" not in home
    risk = (await client.get("/bozhou/risks/bozhou-A1-01")).text
    assert "编辑此" not in risk and "/blob/" not in risk


async def test_the_shipped_register_says_on_every_entry_page_that_its_text_is_modelled(ds):
    """provenance kind: modelled — the notice stands at the top of each entry page, open (not folded), and the
    print stylesheet puts it in every sheet's margin."""
    for path in ("/catalog/risks/yijia-LAND-01", "/catalog/measures/yijia-LAND-M01", "/catalog/areas/yijia-land",
                 "/", "/search?q=报销"):
        html = (await ds.client.get(path)).text
        notice = re.search(r'<p class="modelled-notice" role="note">(.*?)</p>', html, re.S)
        assert notice, path
        assert "模拟文本，非官方" in notice.group(1) and "不是易家街道的官方文本" in notice.group(1)
        assert html.index("modelled-notice") < html.index('<section class="content">'), "above the content"
        assert '@bottom-left { content: "模拟文本，非官方 · modelled text, not official"' in html


async def test_the_shipped_registers_identity_comes_from_its_register(ds):
    """Title, licence and source are register.yml's (publication, provenance), the source linked to its page."""
    home = (await ds.client.get("/")).text
    assert "<h1>易家街道廉政风险点与防控措施目录</h1>" in home
    assert '<a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>' in home
    assert ('<a href="/catalog/sources/yijia-changjiang-2019">《给“小微权力”套上紧箍咒 将监督视线延长到基层（长江日报融媒体1月29日讯）》'
            '，长江日报，2019-01-29</a>') in home
    risk = (await ds.client.get("/catalog/risks/yijia-LAND-01")).text
    assert 'href="https://github.com/integrity-register/riskcatalog/blob/main/catalog/land.yml#L' in risk


async def test_a_deployment_sets_its_own_title_and_repository(catalog_db):
    """metadata.yml's title and plugins.riskcatalog.repository win over the register's."""
    ds = Datasette([str(catalog_db)], settings=SETTINGS, metadata={
        "title": "区纪委监委廉政风险目录 · District register",
        "plugins": {"riskcatalog": {"repository": "https://git.example.org/office/register", "branch": "2024"}}})
    home = (await ds.client.get("/")).text
    assert "<h1>区纪委监委廉政风险目录</h1>" in home and '<p class="subtitle" lang="en">District register</p>' in home
    risk = (await ds.client.get("/catalog/risks/yijia-LAND-01")).text
    assert 'href="https://git.example.org/office/register/blob/2024/catalog/land.yml#L' in risk
