"""The import report (导入说明): every reading the import made, printed and kept in the register folder.

The import interprets a file: which sheet, which column is which field, whose register it is,
its date, what each level word means. Nothing of that is silent: each reading is said here with
where it came from, Chinese first, and the note is written into the folder beside the YAML (a
file the unit can read, correct and commit). It holds nothing that changes from one run to the
next, so importing the same file twice writes the same note.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..fields import LEVEL

NOTE_FILE = "导入说明.md"

#: Topic -> its heading in the note, in the order the note lists them.
TOPICS = {
    "file": "文件 · File", "sheet": "工作表 · Sheet", "heading": "表头 · Heading", "unit": "单位 · Unit",
    "date": "日期 · Date", "levels": f"{LEVEL.zh} · Levels", "areas": "领域 · Areas",
    "powers": "职权和流程环节 · Powers and steps", "rows": "行 · Rows",
    "result": "结果 · Result",
}


@dataclass
class Report:
    """Readings by topic, each one line (or a table's rows under the heading topic)."""

    source: str
    lines: dict[str, list[str]] = field(default_factory=dict)

    def say(self, topic: str, text: str) -> None:
        self.lines.setdefault(topic, []).append(text)

    def said(self, topic: str) -> list[str]:
        return self.lines.get(topic, [])

    def text(self, refused: bool = False) -> str:
        """The note as Markdown: a heading per topic, its readings as a list (the heading's as a table).

        refused: the file was not imported; the readings made before its problems were found.
        """
        if refused:
            out = ["# 导入说明（未导入） · Import report (not imported)", "",
                   f"`{self.source}` 未导入，问题见下方错误输出。以下是发现问题之前所做的解读。",
                   f"`{self.source}` was not imported: its problems follow. These are the readings made before."]
        else:
            out = ["# 导入说明 · Import report", "",
                   f"由 `{self.source}` 导入。下面列出导入时对文件的每一处解读；如有不对，改正文件或用选项说明（见 "
                   "README「导入」一节），再导入一次。",
                   f"Imported from `{self.source}`. Each reading the import made is listed below; where one is wrong, "
                   "correct the file or say what is meant with an option (README, “Import”), and import again."]
        for topic, title in TOPICS.items():
            lines = self.lines.get(topic)
            if not lines:
                continue
            out += ["", f"## {title}", ""]
            if topic == "heading":
                table = [line for line in lines if line.startswith("|")]
                out += [line for line in lines if not line.startswith("|")]
                if table:
                    out += ([""] if len(out) and out[-1] else []) + [
                        "| 单元格 cell | 表头 heading | 读作 read as | 为何 why |", "|---|---|---|---|", *table]
            else:
                out += [f"- {line}" for line in lines]
        return "\n".join(out) + "\n"
