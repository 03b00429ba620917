"""A unit's name as its register writes it, and a unit id from a name as offices write them.

填报单位：汉正街道纪工委（盖章） is the register of 汉正街道: the stamp note is not a name, and
the discipline office that filled the form in is the sub-district's, not a unit of its own. What
is taken off is said in the report. A Chinese name gives a readable id in pinyin (汉正街道 →
hanzheng), the same every time.
"""

from __future__ import annotations

import re

#: Offices within a unit that fill in its register: the register is the unit's.
_OFFICES = ("机关纪委", "纪工委", "纪委", "纪检监察工委", "纪检监察组", "纪检组", "纪检监察室", "党工委", "党委",
            "党组", "监察室")
#: A name's kind that its id leaves out (汉正街道 → hanzheng); other kinds stay in the id.
_ID_SUFFIXES = ("街道办事处", "街道办", "街道")
_LABEL = re.compile(r"(?:填报单位|单位名称|填表单位|报送单位|单位|部门)\s*[:：]\s*([^\s　:：]+(?:[（(][^）)]*[）)])?)")
_TITLE_REST = re.compile(r"(?:\d{4}\s*年度?)?(?:岗位|重点)?(?:廉政|廉洁|党风廉政)(?:建设)?风险|(?:\d{4}\s*年度?)?(?:岗位)?"
                         r"风险(?:点|防控|排查|等级|登记|清单)|权力运行|防控(?:登记|清单|措施)|(?:登记表|一览表|清单)")


def clean_unit(text: str) -> tuple[str, list[str]]:
    """The unit's name in a text naming it, and each piece taken off, in order."""
    removed = []
    name = text.strip()
    for note in re.findall(r"[（(][^）)]*[）)]", name):  # （盖章） （公章）
        removed.append(note)
        name = name.replace(note, "")
    year = re.match(r"^\s*\d{4}\s*年度?", name)
    if year:
        removed.append(year.group(0).strip())
        name = name[year.end():]
    changed = True
    while changed:
        changed = False
        for office in _OFFICES:
            if name.endswith(office) and len(name) - len(office) >= 2:
                removed.append(office)
                name = name[: -len(office)]
                changed = True
    if name.endswith("街道办事处"):
        removed.append("办事处")
        name = name[: -len("办事处")]
    return name.strip(), removed


def unit_in(text: str) -> tuple[str, str, list[str]] | None:
    """(name, how it was found, pieces taken off) from a title or label text, if it names a unit."""
    label = _LABEL.search(text)
    if label:
        name, removed = clean_unit(label.group(1))
        if name:
            return name, "label", removed
    title = re.sub(r"\s", "", text)
    match = _TITLE_REST.search(title)
    if match and match.start() > 0:
        name, removed = clean_unit(title[: match.start()])
        if len(name) >= 2:
            return name, "title", [*removed, title[match.start():]]
    return None


def unit_id(name: str) -> str:
    """A unit id from a name: Chinese in pinyin, the 街道 of a sub-district left out, other text as it is.

    汉正街道 -> hanzheng, 易家村 -> yijiacun, Gutian_2019 -> gutian-2019; "" if nothing is left.
    """
    from pypinyin import lazy_pinyin  # on demand: only names need it

    base = name.strip()
    for suffix in _ID_SUFFIXES:
        if base.endswith(suffix) and len(base) > len(suffix):
            base = base[: -len(suffix)]
            break
    pieces = []
    for chunk in re.findall(r"[\u3400-\u9fff]+|[A-Za-z0-9]+", base):
        if chunk.isascii():
            pieces.append(chunk.lower())
        else:
            pieces.append("".join(lazy_pinyin(chunk)))
    slug = "-".join(pieces)
    if slug and not slug[0].isalpha():
        slug = f"unit-{slug}"
    return slug if re.fullmatch(r"[a-z][a-z0-9-]*", slug) else ""
