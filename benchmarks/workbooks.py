"""A unit's register workbook of any size, laid out as units publish theirs, for timing `build.py import`.

`python -m benchmarks.workbooks --risks 500 --out unit.xlsx`: two title rows, 科室 merged over
every ten risks, 高/中/低, 表现形式 and 防控措施 numbered in their cells, some measures shared.
The same arguments always give the same workbook.
"""

from __future__ import annotations

import argparse
import datetime
import random
from pathlib import Path

from openpyxl import Workbook

HEADING = ["序号", "科室", "风险类别", "廉政风险点", "廉政风险主要内容及表现形式", "风险等级", "防控措施", "部门负责人", "责任领导"]
DEPARTMENTS = ["办公室", "财务科", "工程科", "审批科", "执法大队", "社区事务办", "党建办", "民政科", "城管科", "综治办"]
CATEGORIES = ["思想道德风险", "岗位职责风险", "制度机制风险", "业务流程风险", "外部环境风险"]
ACTS = ["虚报冒领", "违规审批", "收受礼金", "泄露信息", "优亲厚友", "截留挪用", "拆分项目", "降低标准", "吃拿卡要", "推诿拖延"]
MATTERS = ["专项资金", "工程款", "补贴发放", "资格审核", "执法检查", "采购合同", "公务接待", "印章使用", "档案管理", "信访件"]
SHARED = ["落实集体研究制度", "每月公示办理结果", "签订廉洁承诺书", "纪工委定期抽查"]
#: Risks per 科室: its cells are merged over them.
PER_DEPARTMENT = 10


def write(path: Path, risks: int, seed: int = 0) -> Path:
    """A workbook of `risks` risk rows in the bureau layout (tests/test_import.py's BUREAU, scaled up)."""
    rng = random.Random(seed)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "登记表"
    sheet.append(["合成街道廉政风险点登记表"] + [None] * 8)
    sheet.append(["填报单位：合成街道　　　填报日期：2019年1月15日"] + [None] * 8)
    sheet.append(HEADING)
    for n in range(1, risks + 1):
        act, matter = rng.choice(ACTS), rng.choice(MATTERS)
        department = DEPARTMENTS[(n - 1) // PER_DEPARTMENT % len(DEPARTMENTS)]
        first = (n - 1) % PER_DEPARTMENT == 0
        measures = [f"{matter}{act}事项第{n}项专项整治", f"{department}{matter}台账第{n}号月度核对", rng.choice(SHARED)]
        sheet.append([n, department if first else None, rng.choice(CATEGORIES), f"{matter}{act}（第{n}项）",
                      "；".join(f"{k}、{matter}环节{act}情形{k}" for k in range(1, 4)), rng.choice("高中低"),
                      "；".join(f"{k}、{text}" for k, text in enumerate(measures, 1)), f"{department}负责人",
                      "分管副主任"])
    for start in range(4, 4 + risks, PER_DEPARTMENT):
        end = min(start + PER_DEPARTMENT - 1, 3 + risks)
        if end > start:
            sheet.merge_cells(start_row=start, start_column=2, end_row=end, end_column=2)
    workbook.properties.created = datetime.datetime(2019, 1, 15)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workbooks", description=__doc__.splitlines()[0])
    parser.add_argument("--risks", type=int, default=500)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args(argv)
    print(write(options.out, options.risks, options.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
