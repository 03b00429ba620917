"""The flowchart of a power (权力运行流程图), laid out once and drawn twice: as SVG for the site, as PNG for Word.

layout() places a power's steps down a spine on the left, each as a box; where a step branches, a diamond on
the spine with a dashed box beside it saying on what condition the flow goes where (an end, or another step,
reached by an arrow along the left margin); each risk standing on a step as a card coloured by its level,
with its id, title and measures, beside the step (wide, for a desk and for A4) or under it, right of the spine
(narrow: 336 px, the width a 390 px phone leaves a page's content); a legend at the top. The result is a Drawing: boxes, diamonds, lines and
labels with their text already wrapped, in pixels. svg() writes it as inline SVG (links to the risks and
measures, nothing from another host); riskcatalog.documents.picture paints the same Drawing as a PNG.

Text is wrapped by an estimate of its width (a Chinese character one em, a Latin letter a little over half),
so both renderings break lines at the same places.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Callable

from .data import Level, Power, Risk, Step

#: Sizes in pixels (1 px = 1 CSS px on screen).
STEP_FONT, TEXT_FONT, SMALL_FONT = 13, 12, 11
LINE = 1.4  #: line height, in ems
MARGIN = 6
LANES = 28  #: the left margin where arrows to another step run
SPINE = 24  #: the spine's distance from the steps' left edge
DIAMOND = (15, 11)  #: half its width and half its height
PAD = 7  #: inside a box
GAP = 22  #: between one step's block and the next step
COLUMN_GAP = 28  #: between the steps and the risks beside them (wide)

#: The layouts: the width of the step column and of the risk column beside it (0: risks under the step). Wide for
#: a desk, narrow for a phone, broad for printing a long power on one A4 page (wider is shorter).
LAYOUTS = {"wide": {"steps": 330, "risks": 340}, "narrow": {"steps": 296, "risks": 0},
           "broad": {"steps": 430, "risks": 520}}
#: An A4 page's printable area, in millimetres (portrait, margins of 15 mm).
A4 = (180, 262)

#: Colours of what is not a risk (the risks take their level's colour from the database).
INK, GREY, LIGHT = "#222222", "#5f6368", "#f4f6f8"
STEP_FILL, STEP_LINE = "#eef3fb", "#3c64a0"
BRANCH_FILL, BRANCH_LINE = "#fffdf5", "#8a6d00"
FONT_FAMILY = ("'Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Micro Hei', 'Microsoft YaHei', "
               "'PingFang SC', sans-serif")


# --- what a drawing is made of --------------------------------------------------------------------------------

@dataclass
class Label:
    """Lines of text from (x, top), already wrapped; a link where href is given."""

    x: float
    top: float
    lines: list[str]
    size: int
    colour: str = INK
    bold: bool = False
    href: str | None = None

    @property
    def height(self) -> float:
        return len(self.lines) * self.size * LINE


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float
    fill: str
    stroke: str
    dashed: bool = False
    radius: float = 6
    stripe: str | None = None  #: a band of colour down its left edge (a risk's level)


@dataclass
class Diamond:
    cx: float
    cy: float
    hw: float = DIAMOND[0]  #: half its width
    hh: float = DIAMOND[1]  #: half its height


@dataclass
class Line:
    points: list[tuple[float, float]]
    arrow: bool = True
    dashed: bool = False
    colour: str = GREY


@dataclass
class Drawing:
    """A laid-out flowchart: its size, shapes (in painting order) and the risks it holds (for tests and links)."""

    width: float
    height: float
    shapes: list = field(default_factory=list)
    risks: list[str] = field(default_factory=list)  #: the ids of the risks drawn, each once
    title: str = ""
    breaks: list[float] = field(default_factory=list)  #: where it may be cut across, between one step and the next

    def scale_on(self, page: tuple[float, float] = A4) -> float:
        """Millimetres per pixel when it is fitted on a page (width, height in mm)."""
        return min(page[0] / self.width, page[1] / self.height)


# --- text -----------------------------------------------------------------------------------------------------

#: Characters a line may not start with (Chinese punctuation stays with the text before it).
_NO_START = set("，。、；：？！）」』》〕】,.;:?!)")


def em(char: str) -> float:
    """A character's width in ems: Chinese and full-width characters one, Latin letters and digits a little over half."""
    code = ord(char)
    if code >= 0x2E80 or 0x2010 <= code <= 0x206F:  # Chinese fonts draw quotes and dashes (“”—…) full width too
        return 1.0
    if char == " ":
        return 0.32
    return 0.68 if char.isupper() or char in "MW@%&" else 0.56


def wrap(text: str, width: float, size: int) -> list[str]:
    """text in lines no wider than width pixels at size: Chinese may break anywhere, Latin words at spaces."""
    lines: list[str] = []
    for paragraph in (text or "").split("\n"):
        line, used, space = "", 0.0, -1  # space: where the current line last had a space
        for char in paragraph:
            wide = em(char) * size
            if used + wide > width and line and char not in _NO_START:
                if space > 0 and char != " " and not _cjk(char) and not _cjk(line[-1]):  # carry the Latin word over
                    line, carried = line[:space], line[space + 1:]
                    lines.append(line)
                    line, used = carried, sum(em(c) for c in carried) * size
                else:
                    lines.append(line.rstrip())
                    line, used = "", 0.0
                space = -1
                if char == " ":
                    continue
            if char == " ":
                space = len(line)
            line += char
            used += wide
        lines.append(line.rstrip())
    return [line for line in lines if line] or [""]


def _cjk(char: str) -> bool:
    return ord(char) >= 0x2E80


# --- the layout -----------------------------------------------------------------------------------------------

Href = Callable[[str, str], str | None]  #: (table, key) -> the address of its page, or None for no links


def layout(power: Power, levels: dict[str, Level], mode: str = "wide", href: Href | None = None) -> Drawing:
    """The flowchart of power in one of the LAYOUTS: risks beside the steps (wide, broad), or under them (narrow)."""
    href = href or (lambda table, key: None)
    sizes = LAYOUTS[mode]
    left = MARGIN + LANES
    width = left + sizes["steps"] + (COLUMN_GAP + sizes["risks"] if sizes["risks"] else 0) + MARGIN
    drawing = Drawing(width, 0, title=f"{power.id} {power.title_zh}")
    y = _legend(drawing, levels, width) + 10
    tops: dict[int, float] = {}  # step position -> its box's top, for arrows to it
    pending: list[tuple[float, float, int, float]] = []  # (x, y, target step, lane) of arrows from the diamonds
    lanes = _lanes(power)
    spine_end: float | None = None  # where the spine of the step above ends
    for step in power.steps:
        if spine_end is not None:
            drawing.shapes.append(Line([(left + SPINE, spine_end), (left + SPINE, y)]))
            drawing.breaks.append(y - GAP / 2)
        tops[step.position] = y
        bottom, next_spine = _step_block(drawing, step, left, y, sizes["steps"], lanes, pending)
        risk_x = left + sizes["steps"] + COLUMN_GAP if sizes["risks"] else left + SPINE + 26
        risk_w = sizes["risks"] or sizes["steps"] - SPINE - 26
        risk_top = y if sizes["risks"] else bottom + 10
        risks_bottom = _risk_cards(drawing, power, step, levels, risk_x, risk_top, risk_w, href)
        if sizes["risks"] and step.risks:  # a dashed tie from the step to the risks beside it
            drawing.shapes.append(Line([(left + sizes["steps"], y + 16), (risk_x, y + 16)], arrow=False, dashed=True))
        spine_end = next_spine
        y = max(bottom, risks_bottom) + GAP
    for x, from_y, target, lane in pending:  # arrows along the left margin, to a step above or below
        lane_x = MARGIN + 4 + lane
        target_y = tops[target] + 14
        drawing.shapes.append(Line([(x, from_y), (lane_x, from_y), (lane_x, target_y), (left, target_y)]))
    drawing.height = y - GAP + MARGIN + 4
    return drawing


def for_print(power: Power, levels: dict[str, Level], href: Href | None = None) -> Drawing:
    """The layout that prints power largest on one A4 page: wide, or broad for a long power."""
    return max((layout(power, levels, mode, href) for mode in ("wide", "broad")), key=Drawing.scale_on)


def _lanes(power: Power) -> dict[tuple[int, int], float]:
    """Each arrow to another step its own distance from the margin, so that no two run on one line."""
    arrows = [(step.position, n) for step in power.steps for n, branch in enumerate(step.branches) if branch.to]
    spacing = min(7.0, (LANES - 6) / max(len(arrows), 1))
    return {arrow: (len(arrows) - 1 - n) * spacing for n, arrow in enumerate(arrows)}


def _legend(drawing: Drawing, levels: dict[str, Level], width: float) -> float:
    """The legend across the top, in as many rows as the width needs; the y below it."""
    items = [("step", "办理环节"), ("diamond", "分支：条件成立时按右侧框办理，否则继续向下"), ("end", "分支去向或办结")]
    items += [(f"level {level.id}", f"{level.zh}风险点（{level.en}）") for level in levels.values()]
    x, y, row_height = MARGIN, MARGIN, 18
    for kind, text in items:
        text_width = sum(em(c) for c in text) * SMALL_FONT
        item_width = 22 + text_width + 14
        if x + item_width > width - MARGIN and x > MARGIN:
            x, y = MARGIN, y + row_height
        _legend_key(drawing, kind, levels, x, y)
        drawing.shapes.append(Label(x + 22, y + 1, [text], SMALL_FONT, GREY))
        x += item_width
    return y + row_height


def _legend_key(drawing: Drawing, kind: str, levels: dict[str, Level], x: float, y: float) -> None:
    if kind == "diamond":
        drawing.shapes.append(Diamond(x + 9, y + 8, 9, 7))
    elif kind == "step":
        drawing.shapes.append(Box(x, y + 2, 18, 12, STEP_FILL, STEP_LINE, radius=3))
    elif kind == "end":
        drawing.shapes.append(Box(x, y + 2, 18, 12, BRANCH_FILL, BRANCH_LINE, dashed=True, radius=3))
    else:
        level = levels[kind.split()[1]]
        drawing.shapes.append(Box(x, y + 2, 18, 12, "#ffffff", level.colour, radius=2, stripe=level.colour))


def _step_block(drawing: Drawing, step: Step, left: float, top: float, width: float,
                lanes: dict[tuple[int, int], float], pending: list) -> tuple[float, float]:
    """A step's box and, below it on the spine, a diamond per branch with the branch's box beside it; the
    block's bottom and where its spine ends (the last diamond's foot, or the box's)."""
    inner = width - 2 * PAD
    title = Label(left + PAD, top + PAD, wrap(f"{step.position}. {step.title_zh}", inner, STEP_FONT), STEP_FONT,
                  bold=True)
    details = [f"办理：{step.actor_zh}" if step.actor_zh else "", f"岗位：{step.post_zh}" if step.post_zh else "",
               f"时限：{step.days_zh}" if step.days_zh else ""]
    more = [line for text in details if text for line in wrap(text, inner, SMALL_FONT)]
    notes = Label(left + PAD, title.top + title.height + 2, more, SMALL_FONT, GREY)
    height = PAD * 2 + title.height + (notes.height + 2 if more else 0)
    drawing.shapes += [Box(left, top, width, height, STEP_FILL, STEP_LINE), title]
    if more:
        drawing.shapes.append(notes)
    y = spine_end = top + height
    spine = left + SPINE
    for n, branch in enumerate(step.branches):
        box_x = spine + DIAMOND[0] + 12
        box_w = left + width - box_x
        outcome = branch.end_zh if branch.to is None else f"转至第 {branch.to} 环节"
        text = wrap(f"若{branch.when_zh}：{outcome}", box_w - 2 * PAD, SMALL_FONT)
        box_h = len(text) * SMALL_FONT * LINE + 2 * PAD - 2
        row_h = max(box_h, 2 * DIAMOND[1])
        centre = y + 12 + row_h / 2
        drawing.shapes += [Line([(spine, spine_end), (spine, centre - DIAMOND[1])], arrow=False),
                           Diamond(spine, centre), Line([(spine + DIAMOND[0], centre), (box_x, centre)]),
                           Box(box_x, centre - box_h / 2, box_w, box_h, BRANCH_FILL, BRANCH_LINE, dashed=True, radius=4),
                           Label(box_x + PAD, centre - box_h / 2 + PAD - 1, text, SMALL_FONT)]
        if branch.to is not None:
            pending.append((spine - DIAMOND[0], centre, branch.to, lanes[(step.position, n)]))
        y, spine_end = centre + row_h / 2, centre + DIAMOND[1]
    return y, spine_end


def _risk_cards(drawing: Drawing, power: Power, step: Step, levels: dict[str, Level], x: float, top: float,
                width: float, href: Href) -> float:
    """The cards of the risks standing on a step (a risk on several steps is drawn at its first and named at
    the others); the bottom of the last, or top if there are none."""
    y = top
    for risk in step.risks:
        level = levels[risk.level]
        if risk.steps[0] != step.position:  # drawn at its first step: here only named
            text = wrap(f"另见 {risk.id} {risk.title_zh}（第 {risk.steps[0]} 环节）", width - 2 * PAD - 4, SMALL_FONT)
            height = len(text) * SMALL_FONT * LINE + 2 * PAD - 2
            drawing.shapes += [Box(x, y, width, height, "#ffffff", level.colour, radius=4, stripe=level.colour),
                               Label(x + PAD + 4, y + PAD - 1, text, SMALL_FONT, GREY, href=href("risks", risk.key))]
            y += height + 6
            continue
        y = _risk_card(drawing, risk, level, x, y, width, href) + 6
        drawing.risks.append(risk.id)
    return y - 6 if y > top else top


def _risk_card(drawing: Drawing, risk: Risk, level: Level, x: float, top: float, width: float, href: Href) -> float:
    inner = width - 2 * PAD - 4
    badge_w = sum(em(c) for c in level.zh) * SMALL_FONT + 8
    title = wrap(f"{risk.id} {risk.title_zh}", inner - badge_w - 4, TEXT_FONT)
    shapes: list = [Label(x + PAD + 4 + badge_w + 4, top + PAD, title, TEXT_FONT, bold=True,
                          href=href("risks", risk.key))]
    y = top + PAD + len(title) * TEXT_FONT * LINE
    if len(risk.steps) > 1:
        where = "、".join(str(position) for position in risk.steps)
        shapes.append(Label(x + PAD + 4, y, [f"所在环节：第 {where} 环节"], SMALL_FONT, GREY))
        y += SMALL_FONT * LINE
    if risk.measures:
        shapes.append(Label(x + PAD + 4, y + 1, ["防控措施："], SMALL_FONT, GREY))
        y += SMALL_FONT * LINE + 1
    for measure in risk.measures:
        lines = wrap(f"{measure.id} {measure.title_zh}", inner - 10, SMALL_FONT)
        shapes.append(Label(x + PAD + 14, y, lines, SMALL_FONT, href=href("measures", measure.key)))
        y += len(lines) * SMALL_FONT * LINE
    height = y - top + PAD - 2
    drawing.shapes += [Box(x, top, width, height, "#ffffff", level.colour, radius=4, stripe=level.colour),
                       Box(x + PAD + 4, top + PAD, badge_w, TEXT_FONT * LINE - 2, level.colour, level.colour, radius=3),
                       Label(x + PAD + 8, top + PAD + 1, [level.zh], SMALL_FONT, level.text_colour, bold=True),
                       *shapes]
    return top + height


# --- SVG ------------------------------------------------------------------------------------------------------

def svg(drawing: Drawing, name: str, css_class: str = "flowchart") -> str:
    """The drawing as inline SVG. name makes its marker's id unique on a page (two charts of one power are)."""
    marker = f"arrow-{name}"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" viewBox="0 0 {drawing.width:g} '
             f'{drawing.height:.0f}" width="{drawing.width:g}" height="{drawing.height:.0f}" '
             f'preserveAspectRatio="xMidYMin meet" aria-hidden="true" focusable="false" font-family="{FONT_FAMILY}">',
             f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{GREY}"/></marker></defs>']
    for shape in drawing.shapes:
        parts.append(_svg_shape(shape, marker))
    parts.append("</svg>")
    return "".join(parts)


def _svg_shape(shape, marker: str) -> str:
    if isinstance(shape, Box):
        dash = ' stroke-dasharray="4 3"' if shape.dashed else ""
        out = (f'<rect x="{shape.x:.1f}" y="{shape.y:.1f}" width="{shape.w:.1f}" height="{shape.h:.1f}" '
               f'rx="{shape.radius:g}" fill="{shape.fill}" stroke="{shape.stroke}" stroke-width="1.2"{dash}/>')
        if shape.stripe:
            out += (f'<rect x="{shape.x:.1f}" y="{shape.y:.1f}" width="5" height="{shape.h:.1f}" rx="2" '
                    f'fill="{shape.stripe}"/>')
        return out
    if isinstance(shape, Diamond):
        w, h = shape.hw, shape.hh
        points = f"{shape.cx:.1f},{shape.cy - h:.1f} {shape.cx + w:.1f},{shape.cy:.1f} " \
                 f"{shape.cx:.1f},{shape.cy + h:.1f} {shape.cx - w:.1f},{shape.cy:.1f}"
        return f'<polygon points="{points}" fill="{BRANCH_FILL}" stroke="{BRANCH_LINE}" stroke-width="1.4"/>'
    if isinstance(shape, Line):
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in shape.points)
        dash = ' stroke-dasharray="3 3"' if shape.dashed else ""
        head = f' marker-end="url(#{marker})"' if shape.arrow else ""
        return f'<polyline points="{points}" fill="none" stroke="{shape.colour}" stroke-width="1.3"{dash}{head}/>'
    return _svg_label(shape)


def _svg_label(label: Label) -> str:
    weight = ' font-weight="bold"' if label.bold else ""
    lines = "".join(f'<tspan x="{label.x:.1f}" y="{label.top + label.size * (0.95 + n * LINE):.1f}">{escape(line)}</tspan>'
                    for n, line in enumerate(label.lines))
    text = f'<text font-size="{label.size}" fill="{label.colour}"{weight}>{lines}</text>'
    if label.href:
        return f'<a href="{escape(label.href)}" tabindex="-1">{text}</a>'
    return text
