"""Write docs/examples/示例登记表.xlsx: the register docs/使用说明.md walks through.

A street's own register as such offices lay it out, and not one the tests make: two title rows
(the unit with its seal, the date), a heading over two rows (防控责任 over 直接责任人 and 责任领导),
heading rows between the areas (一、…), 岗位 merged over its risks, numbered lists inside cells,
levels written 较高/一般/较低, a 完成时限 column the import does not know, and a signature line
below. 幸福街道 is made up; its entries are modelled on common practice, not any unit's text.

    .venv/bin/python docs/examples/make_example_register.py
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

HERE = Path(__file__).resolve().parent
OUT = HERE / "示例登记表.xlsx"

TITLE = "幸福街道廉政风险点登记表"
FILLED = "填报单位：幸福街道纪工委（盖章）　　　　　　　　　　　　填报日期：2025年3月"
HEADING = [["序号", "岗位", "职权事项", "流程环节", "风险点", "表现形式", "风险等级", "防控措施", "防控责任", None, "完成时限"],
           [None, None, None, None, None, None, None, None, "直接责任人", "责任领导", None]]
SIGNED = "填表人：　　　　　　　　审核人（签字）：　　　　　　　　　　纪工委书记（签字）："

#: (area heading, [(post, power, step, risk, manifestations, level, measures, responsible, leader, when)]);
#: a post of None shares the one above (merged in the sheet).
AREAS = [
    ("一、“三资”管理", [
        ("集体资产管理员", "集体“三资”管理", "资产出租", "违规出租集体资产",
         "1.未经集体研究或未公开招租，私自确定承租人\n2.低于评估价出租，收受承租人好处", "较高",
         "1.重大事项一律经“三重一大”集体决策\n2.通过公共资源交易平台公开招租\n3.租赁合同报街道“三资”中心备案",
         "集体资产管理员", "分管副主任", "长期坚持"),
        (None, "集体“三资”管理", "收支入账", "集体资金收支不入账",
         "1.租金、补偿款收入不入账，设立“小金库”\n2.白条抵账、坐收坐支", "较高",
         "1.集体资金统一纳入街道“三资”监管平台\n2.每季度公开集体资金收支明细",
         "报账员", "分管副主任", "每季度"),
    ]),
    ("二、惠民资金", [
        ("民政专干", "社会救助审核发放", "入户调查", "违规审核最低生活保障对象",
         "1.优亲厚友，为不符合条件的亲友办理低保\n2.入户调查走过场，未核实家庭收入和财产", "高",
         "1.低保申请逐户入户调查，两人以上共同参加\n2.审核结果在社区公示7天\n3.民政专干近亲属申请低保单独登记备案",
         "民政专干", "分管副主任", "长期坚持"),
        (None, "社会救助审核发放", "资金发放", "截留挪用临时救助资金",
         "1.救助资金未足额发放\n2.虚报救助对象套取资金", "一般",
         "1.临时救助资金通过“一卡通”直接发放到户\n2.每季度在社区公开发放对象和金额",
         "民政专干", "分管副主任", "每季度"),
        ("残联专干", "残疾人补贴发放", "动态复核", "违规发放残疾人补贴",
         "1.对死亡、迁出人员未及时停发补贴\n2.重复发放补贴", "一般",
         "1.每月与公安、卫健部门比对死亡和户籍变动信息\n2.每季度在社区公开发放对象和金额",
         "残联专干", "分管副主任", "每月"),
    ]),
    ("三、工程项目", [
        ("城管办主任", "小型工程项目管理", "项目发包", "规避招标拆分小型工程",
         "1.将达到招标限额的工程拆分发包\n2.指定施工单位", "较高",
         "1.重大事项一律经“三重一大”集体决策\n2.小型工程项目入街道项目库统一管理，按限额公开比选",
         "城管办主任", "分管副主任", "长期坚持"),
        (None, "小型工程项目管理", "竣工验收", "工程验收把关不严",
         "1.未按设计图纸验收，虚增工程量\n2.收受施工单位礼品礼金", "一般",
         "1.工程验收邀请审计、纪工委人员参加\n2.工程款凭审计结果支付",
         "城管办主任", "分管副主任", "项目验收时"),
    ]),
    ("四、作风纪律", [
        ("党政办主任", "公务接待", "接待审批", "超标准公务接待",
         "1.无公函接待\n2.超标准、超人数陪餐\n3.在接待中安排高档菜肴和酒水", "较低",
         "1.执行公务接待审批单制度\n2.每月公开公务接待费用",
         "党政办主任", "党工委副书记", "每月"),
        (None, "公务用车管理", "车辆使用", "公车私用",
         "节假日私用公车，公车不入库停放", "较低",
         "1.公车统一调度，使用登记\n2.节假日公车定点封存",
         "党政办主任", "党工委副书记", "节假日前"),
    ]),
]


def rows() -> tuple[list[list], list[str]]:
    """The sheet's rows and the cells to merge."""
    out = [[TITLE] + [None] * 10, [FILLED] + [None] * 10, *HEADING]
    merges = ["A1:K1", "A2:K2", *(f"{column}3:{column}4" for column in "ABCDEFGHK"), "I3:J3"]
    number = 0
    for area, risks in AREAS:
        out.append([area] + [None] * 10)
        merges.append(f"A{len(out)}:K{len(out)}")
        post_row = None
        for post, *rest in risks:
            number += 1
            out.append([number, post, *rest])
            if post is None and post_row:
                merges = [m for m in merges if not m.startswith(f"B{post_row}:")] + [f"B{post_row}:B{len(out)}"]
            else:
                post_row = len(out)
    out.append([SIGNED] + [None] * 10)
    merges.append(f"A{len(out)}:K{len(out)}")
    return out, merges


def write(path: Path = OUT) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "登记表"
    data, merges = rows()
    thin = Side(style="thin")
    for row in data:
        sheet.append(row)
    for number, row in enumerate(sheet.iter_rows(), start=1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            if 3 <= number < len(data):
                cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
    sheet["A1"].font = Font(size=16, bold=True)
    sheet["A1"].alignment = Alignment(horizontal="center")
    for merged in merges:
        sheet.merge_cells(merged)
    for column, width in zip("ABCDEFGHIJK", (6, 12, 14, 10, 20, 36, 9, 40, 12, 12, 10)):
        sheet.column_dimensions[column].width = width
    sheet.page_setup.orientation = "landscape"
    workbook.save(path)
    return path


if __name__ == "__main__":
    print(write())
