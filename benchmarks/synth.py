"""Synthetic registers for benchmarks: N valid register folders derived from the real catalogue.

`python -m benchmarks.synth --units N --out DIR [--seed S] [--source catalog]` writes
DIR/<unit-id>/ for N units. Each register keeps the source register's ids (ids are unique
per register only), gets its own unit id and Wuhan street/community name, and varies its
text, ratings, review dates and citations. Output depends only on the seed and the unit's
position, so the first k units of any run are the same k registers.
"""

from __future__ import annotations

import argparse
import datetime
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from riskcatalog.catalog import POSTS_FILE, REGISTER_FILE, SOURCES_FILE, level_for

# The C emitter and parser: the pure-Python ones would make 3,332 registers take many minutes.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Roots of real Wuhan street and community names: (Chinese, pinyin).
ROOTS = [
    ("易家", "Yijia"), ("古田", "Gutian"), ("汉正", "Hanzheng"), ("宝丰", "Baofeng"), ("荣华", "Ronghua"),
    ("长丰", "Changfeng"), ("韩家墩", "Hanjiadun"), ("六角亭", "Liujiaoting"), ("汉水桥", "Hanshuiqiao"),
    ("宗关", "Zongguan"), ("水塔", "Shuita"), ("民族", "Minzu"), ("花桥", "Huaqiao"), ("万松", "Wansong"),
    ("唐家墩", "Tangjiadun"), ("北湖", "Beihu"), ("常青", "Changqing"), ("汉兴", "Hanxing"), ("二七", "Erqi"),
    ("后湖", "Houhu"), ("谌家矶", "Chenjiaji"), ("塔子湖", "Taizihu"), ("四唯", "Siwei"), ("球场", "Qiuchang"),
    ("鹦鹉", "Yingwu"), ("洲头", "Zhoutou"), ("晴川", "Qingchuan"), ("琴断口", "Qinduankou"), ("江堤", "Jiangdi"),
    ("永丰", "Yongfeng"), ("中华路", "Zhonghualu"), ("积玉桥", "Jiyuqiao"), ("杨园", "Yangyuan"),
    ("首义", "Shouyi"), ("水果湖", "Shuiguohu"), ("珞珈山", "Luojiashan"), ("白沙洲", "Baishazhou"),
    ("南湖", "Nanhu"), ("红卫路", "Hongweilu"), ("冶金", "Yejin"), ("钢都", "Gangdu"), ("工人村", "Gongrencun"),
    ("关山", "Guanshan"), ("卓刀泉", "Zhuodaoquan"), ("狮子山", "Shizishan"), ("张家湾", "Zhangjiawan"),
    ("洪山", "Hongshan"), ("青菱", "Qingling"), ("吴家山", "Wujiashan"), ("将军路", "Jiangjunlu"),
    ("纱帽", "Shamao"), ("蔡甸", "Caidian"), ("纸坊", "Zhifang"), ("前川", "Qianchuan"), ("邾城", "Zhucheng"),
    ("徐家棚", "Xujiapeng"), ("中南", "Zhongnan"), ("四新", "Sixin"), ("黄金口", "Huangjinkou"), ("堤角", "Dijiao"),
]

#: What follows the root in a name: (Chinese, English).
FEATURES = [
    ("", ""), ("湖", "Lake"), ("桥", "Bridge"), ("岭", "Ridge"), ("园", "Garden"), ("湾", "Bay"),
    ("港", "Harbour"), ("新村", "New Village"), ("东", "East"), ("西", "West"), ("南", "South"), ("北", "North"),
    ("一路", "First Road"), ("二路", "Second Road"), ("三路", "Third Road"), ("花园", "Gardens"),
    ("里", "Lane"), ("坊", "Quarter"), ("苑", "Court"), ("堤", "Embankment"), ("塘", "Pond"),
    ("巷", "Alley"), ("广场", "Square"), ("滨江", "Riverside"), ("新城", "New Town"), ("公园", "Park"),
    ("山庄", "Hill Estate"), ("家园", "Homes"), ("大道", "Avenue"), ("村", "Village"),
]

#: The kind of unit: (Chinese suffix, English suffix, slug suffix).
KINDS = [("街道", "Street", "jd"), ("社区", "Community", "sq")]

#: Wuhan's districts: (Chinese, English).
DISTRICTS = [
    ("江岸区", "Jiang'an District"), ("江汉区", "Jianghan District"), ("硚口区", "Qiaokou District"),
    ("汉阳区", "Hanyang District"), ("武昌区", "Wuchang District"), ("青山区", "Qingshan District"),
    ("洪山区", "Hongshan District"), ("东西湖区", "Dongxihu District"), ("汉南区", "Hannan District"),
    ("蔡甸区", "Caidian District"), ("江夏区", "Jiangxia District"), ("黄陂区", "Huangpi District"),
    ("新洲区", "Xinzhou District"),
]

# Quantities that appear in both languages, so each is changed the same way in both.
_DAYS_ZH = re.compile(r"(\d+)(?=个工作日|日内|天)")
_DAYS_EN = re.compile(r"(\d+)(?= (?:working )?days?\b)")
_AMOUNT_ZH = re.compile(r"(\d+)(万?)元")
_AMOUNT_EN = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(?= yuan)")
_VARIED = ("description_zh", "description_en", "title_zh", "title_en")


@dataclass(frozen=True)
class Base:
    """The source register's files, parsed once: register, sources and areas in order."""

    register: dict
    sources: list[dict]
    areas: list[tuple[str, dict]]
    posts: dict | None = None  # posts.yml, where the source register has one


def load_base(source: Path) -> Base:
    """Parse the source register folder (already validated by the real build) once."""
    read = lambda name: yaml.load((source / name).read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: E731
    register = read(REGISTER_FILE)
    posts = read(POSTS_FILE) if (source / POSTS_FILE).exists() else None
    return Base(register, read(SOURCES_FILE)["sources"], [(a, read(f"{a}.yml")) for a in register["areas"]], posts)


def names(seed: int) -> list[tuple[str, str, str, str]]:
    """Every (slug, name_zh, name_en, kind) combination, in a seed-fixed order."""
    combos = [(re.sub(r"[^a-z0-9]+", "-", f"{pinyin} {en} {kslug}".lower()), f"{zh}{fzh}{kzh}",
               f"{pinyin} {en} {ken}".replace("  ", " "), kzh)
              for zh, pinyin in ROOTS for fzh, en in FEATURES for kzh, ken, kslug in KINDS]
    random.Random(f"names:{seed}").shuffle(combos)
    return combos


def unit_identity(index: int, seed: int, width: int = 4, combos: list | None = None) -> dict:
    """The unit block for the index-th register (1-based): id, names, district and city."""
    combos = combos or names(seed)
    slug, name_zh, name_en, _ = combos[(index - 1) % len(combos)]
    lap = (index - 1) // len(combos)
    if lap:  # more units than names: number the repeats so names stay distinct
        name_zh, name_en = f"{name_zh}（{lap + 1}）", f"{name_en} ({lap + 1})"
    district_zh, district_en = random.Random(f"district:{seed}:{index}").choice(DISTRICTS)
    return {"id": f"u{index:0{width}d}-{slug}", "name_zh": name_zh, "name_en": name_en,
            "district_zh": district_zh, "district_en": district_en, "city_zh": "武汉市", "city_en": "Wuhan"}


def _vary_quantities(entry: dict, rng: random.Random) -> dict:
    """Shift day counts and scale yuan amounts, identically in the Chinese and English text."""
    shift, factor = rng.choice((-1, 0, 1, 2, 5)), rng.choice((1, 2, 3, 5))
    # "1 day" stays singular: only counts of two or more move, and never below two.
    days = lambda m: m.group(1) if int(m.group(1)) < 2 else str(max(2, int(m.group(1)) + shift))  # noqa: E731
    zh_amount = lambda m: _format_zh(int(m.group(1)) * (10000 if m.group(2) else 1) * factor)  # noqa: E731
    en_amount = lambda m: f"{int(m.group(1).replace(',', '')) * factor:,}"  # noqa: E731
    out = dict(entry)
    for field in _VARIED:
        if field in out:
            text = out[field]
            out[field] = (_AMOUNT_ZH.sub(zh_amount, _DAYS_ZH.sub(days, text)) if field.endswith("_zh")
                          else _AMOUNT_EN.sub(en_amount, _DAYS_EN.sub(days, text)))
    return out


def _format_zh(yuan: int) -> str:
    return f"{yuan // 10000}万元" if yuan >= 10000 and yuan % 10000 == 0 else f"{yuan}元"


def _vary_risk(risk: dict, levels: list[dict], rng: random.Random, used: set[str]) -> dict:
    """Different wording, ratings, level (from the matrix), review date, manifestation order and citations."""
    out = _vary_quantities(risk, rng)
    out["manifestations"] = rng.sample(risk["manifestations"], len(risk["manifestations"]))
    out["likelihood"] = min(5, max(1, risk["likelihood"] + rng.choice((-1, 0, 0, 1))))
    out["impact"] = min(5, max(1, risk["impact"] + rng.choice((-1, 0, 0, 1))))
    out["level"] = level_for(out["likelihood"] * out["impact"], levels)
    reviewed = datetime.date.fromisoformat(risk["reviewed"]) + datetime.timedelta(days=rng.randint(0, 900))
    out["reviewed"] = reviewed.isoformat()
    if len(risk["sources"]) > 1 and rng.random() < 0.3:  # drop one citation; at least one must remain
        dropped = rng.choice(risk["sources"])
        out["sources"] = [s for s in risk["sources"] if s != dropped]
    used.update(out["sources"])
    return out


def _vary_measure(measure: dict, rng: random.Random, used: set[str]) -> dict:
    """Different wording; sometimes without its (optional) citations."""
    out = _vary_quantities(measure, rng)
    if "sources" in out and rng.random() < 0.2:
        del out["sources"]
    used.update(out.get("sources", ()))
    return out


def _levels(base: list[dict], rng: random.Random) -> list[dict]:
    """The matrix with slightly different thresholds per register; the lowest stays at 1."""
    bumps = {"high": (-3, 0, 0, 1), "medium": (-1, 0, 0, 1)}
    return [{**lvl, "min_score": lvl["min_score"] + rng.choice(bumps.get(lvl["id"], (0,)))} for lvl in base]


def synth_register(base: Base, index: int, seed: int, width: int = 4, combos: list | None = None) -> dict[str, dict]:
    """The files of the index-th synthetic register: file name -> data."""
    rng = random.Random(f"register:{seed}:{index}")
    unit = unit_identity(index, seed, width, combos)
    levels = _levels(base.register["levels"], rng)
    used: set[str] = {base.register["provenance"]["source"]}
    areas, risks, measures = {}, 0, 0
    for area_id, data in base.areas:
        area_risks = [_vary_risk(r, levels, rng, used) for r in data["risks"]]
        area_measures = [_vary_measure(m, rng, used) for m in data["measures"]]
        risks += sum(r.get("status", "active") == "active" for r in area_risks)
        measures += sum(m.get("status", "active") == "active" for m in area_measures)
        powers = data.get("powers", [])  # the powers and their steps as the source declares them
        used.update(source for power in powers for source in power.get("sources", ()))
        areas[f"{area_id}.yml"] = {"area": data["area"], **({"powers": powers} if powers else {}),
                                   "risks": area_risks, "measures": area_measures}
    register = {
        "unit": unit,
        "provenance": {**base.register["provenance"],
                       "note_zh": f"合成登记（种子 {seed}，第 {index} 份），由示例目录变换生成，仅用于性能测试，不是{unit['name_zh']}的真实清单。",
                       "note_en": f"Synthetic register (seed {seed}, number {index}) derived from the sample catalogue "
                                  f"for performance tests only; not {unit['name_en']}'s real register."},
        "totals": {"risks": risks, "measures": measures},
        "areas": list(base.register["areas"]),
        "levels": levels,
    }
    # Sources no entry cites any more are dropped, as a unit without those regulations would.
    sources = [s for s in base.sources if s["id"] in used]
    posts = {POSTS_FILE: base.posts} if base.posts else {}
    return {REGISTER_FILE: register, SOURCES_FILE: {"sources": sources}, **posts, **areas}


def dump(data: dict) -> str:
    """YAML as a contributor would write it: unicode, key order kept, no line folding."""
    return yaml.dump(data, Dumper=_DUMPER, allow_unicode=True, sort_keys=False, width=1 << 20)


def generate(source: Path, out: Path, units: int, seed: int = 0) -> list[Path]:
    """Write `units` register folders under out; returns them in order."""
    base, combos = load_base(Path(source)), names(seed)
    width = max(4, len(str(units)))
    folders = []
    for index in range(1, units + 1):
        files = synth_register(base, index, seed, width, combos)
        folder = Path(out) / files[REGISTER_FILE]["unit"]["id"]
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (folder / name).write_text(dump(data), encoding="utf-8")
        folders.append(folder)
    return folders


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.synth", description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, required=True, help="how many registers to write")
    parser.add_argument("--out", type=Path, required=True, help="directory to write DIR/<unit-id>/ into")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same bytes (default 0)")
    parser.add_argument("--source", type=Path, default=Path("catalog"), help="register folder to derive from")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    folders = generate(args.source, args.out, args.units, args.seed)
    print(f"wrote {len(folders)} registers to {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
