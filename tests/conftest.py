"""Shared fixtures: the shipped catalogue built for real, Datasette in-process, small catalogues."""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml
from datasette.app import Datasette

from riskcatalog import build as builder
from riskcatalog.cli import main
from riskcatalog.site.serve import SETTINGS

#: The checkout: the catalogue and metadata.yml (the site's settings) the site is served with.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
CATALOG = PROJECT_ROOT / "catalog"


@pytest.fixture(scope="session")
def catalog_db(tmp_path_factory) -> Path:
    """The shipped catalogue, built by the real build into a temporary catalog.db."""
    path = tmp_path_factory.mktemp("built") / "catalog.db"
    builder.build([CATALOG], path)
    return path


def make_datasette(db_path: Path, plugin_config: dict | None = None, **settings) -> Datasette:
    """A Datasette configured as `make serve` configures it (plus any settings given, and any
    riskcatalog plugin configuration), for in-process requests. The templates and static files
    come with the plugin, as for any Datasette with the package installed."""
    metadata = yaml.safe_load((PROJECT_ROOT / "metadata.yml").read_text(encoding="utf-8"))
    plugins = metadata.setdefault("plugins", {})
    plugins["riskcatalog"] = {**(plugins.get("riskcatalog") or {}), **(plugin_config or {})}
    return Datasette([str(db_path)], metadata=metadata, settings={**SETTINGS, **settings})


@pytest.fixture(scope="session")
def ds(catalog_db) -> Datasette:
    return make_datasette(catalog_db)


# A small valid register: one area, two risks, three measures. Tests copy it and break it.
MINI = {
    "register.yml": """\
        unit:
          id: mini
          name_zh: 小街道
          name_en: Mini Street
          district_zh: 测试区
          district_en: Test District
          city_zh: 武汉市
          city_en: Wuhan
        provenance:
          source: report
          note_zh: 测试用的小登记。
          note_en: A small register for tests.
        totals:
          risks: 2
          measures: 3
        areas:
          - alpha
        levels:
          - id: high
            min_score: 15
            review_days: 90
          - id: medium
            min_score: 8
            review_days: 180
          - id: low
            min_score: 1
            review_days: 360
        """,
    "sources.yml": """\
        sources:
          - id: report
            kind: report
            title_zh: 测试报道
            title_en: Test report
            issuer_zh: 长江日报
            issuer_en: Changjiang Daily
            year: 2019
            date: "2019-01-29"
          - id: law
            kind: law
            title_zh: 中华人民共和国监察法
            title_en: Supervision Law of the People's Republic of China
            issuer_zh: 全国人民代表大会
            issuer_en: National People's Congress
            year: 2018
        """,
    "alpha.yml": """\
        area:
          id: alpha
          name_zh: 经费报销
          name_en: Expense reimbursement
          description_zh: 报销审核。
          description_en: Checking claims.
        risks:
          - id: AL-01
            title_zh: 虚报冒领差旅费
            title_en: False travel claims
            description_zh: 经办人虚报差旅天数。
            description_en: The claimant inflates the days of travel.
            post_zh: 报销经办人
            post_en: Claimant
            power_zh: 差旅费报销
            power_en: Travel claims
            category: process
            manifestations:
              - zh: 虚增出差天数
                en: Extra days of travel claimed
            likelihood: 4
            impact: 4
            level: high
            responsible_post_zh: 财务会计
            responsible_post_en: Accountant
            responsible_leader_zh: 分管副主任
            responsible_leader_en: Deputy director in charge
            supervisor_zh: 街道纪工委
            supervisor_en: Sub-district discipline committee
            sources: [law]
            measures: [AL-M01, AL-M02]
            reviewed: "2019-01-15"
          - id: AL-02
            title_zh: 信访件转交被反映人
            title_en: Petition passed to the person complained about
            description_zh: 接访人员将举报材料转给被举报人。
            description_en: Reception staff pass the complaint to its subject.
            post_zh: 信访接待员
            post_en: Reception officer
            power_zh: 信访件转办
            power_en: Forwarding petitions
            category: ethics
            manifestations:
              - zh: 泄露举报人信息
                en: The complainant's identity is leaked
            likelihood: 2
            impact: 3
            level: low
            responsible_post_zh: 信访办主任
            responsible_post_en: Head of the petitions office
            responsible_leader_zh: 分管副书记
            responsible_leader_en: Deputy secretary in charge
            supervisor_zh: 派出监察室
            supervisor_en: Supervision office
            sources: [law]
            measures: [AL-M03]
            reviewed: "2019-01-10"
        measures:
          - id: AL-M01
            title_zh: 报销三级签字
            title_en: Three signatures on every claim
            description_zh: 经办人、部门负责人、分管领导依次签字。
            description_en: Claimant, head of section and deputy director sign in turn.
            type: process
            nature: preventive
            owner_zh: 财务室
            owner_en: Finance office
            frequency_zh: 每笔报销
            frequency_en: Each claim
            evidence_zh: 签字单据
            evidence_en: Signed vouchers
            sources: [law]
          - id: AL-M02
            title_zh: 月度对账
            title_en: Monthly reconciliation
            description_zh: 每月核对公务卡流水与报销单。
            description_en: Card statements checked against claims each month.
            type: oversight
            nature: detective
            owner_zh: 财务室
            owner_en: Finance office
            frequency_zh: 每月
            frequency_en: Monthly
            evidence_zh: 对账记录
            evidence_en: Reconciliation record
          - id: AL-M03
            title_zh: 举报人信息隐名处理
            title_en: Complainant details removed
            description_zh: 转办材料删除举报人姓名和电话。
            description_en: Names and phone numbers are removed from forwarded files.
            type: rules
            nature: preventive
            owner_zh: 信访办
            owner_en: Petitions office
            frequency_zh: 每件转办
            frequency_en: Each forwarded file
            evidence_zh: 转办登记簿
            evidence_en: Forwarding log
        """,
}


def write_register(folder: Path, files: dict[str, str]) -> Path:
    """A register folder of the files given (name -> indented YAML text)."""
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


@pytest.fixture
def mini_catalog(tmp_path) -> Path:
    """A small valid register folder in tmp_path; tests edit its files to break it."""
    return write_register(tmp_path / "mini", MINI)


@pytest.fixture
def mini(mini_catalog, monkeypatch) -> Path:
    """The mini register as mini/, the working directory its parent, so errors name files as mini/<name>."""
    monkeypatch.chdir(mini_catalog.parent)
    return Path("mini")


@pytest.fixture
def previous(mini, capsys) -> Path:
    """out/catalog.db built from the mini register: the database a failed build must leave as it was."""
    Path("out").mkdir()
    assert main([str(mini), "-o", "out/catalog.db"]) == 0
    capsys.readouterr()
    return Path("out/catalog.db")


def copy_catalog(destination: Path) -> Path:
    """A copy of the shipped catalogue, for tests that change it.

    The copy starts a history of its own: the baseline commit the shipped register names is a commit
    of this repository, not of a repository the test makes, so it is left out (the baseline is then
    the copy's first commit)."""
    shutil.copytree(CATALOG, destination)
    register = destination / "register.yml"
    register.write_text(re.sub(r"\n  commit: [0-9a-f]+", "", register.read_text(encoding="utf-8")), encoding="utf-8")
    return destination
