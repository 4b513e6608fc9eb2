"""The default two-level category tree (诉求分类) and the department each leaf usually goes to.

Loaded by migration ``0002_reference_data``; admins edit it afterwards. ``DEFAULT_DEPARTMENT``
maps a leaf code to a department code of the demo city (``places/data/guiyang.py``) and is
what the demo seeder turns into city-wide routing rules.
"""

from __future__ import annotations

# (code, 中文, English, [(leaf code, 中文, English, default department code), ...])
TREE: list[tuple[str, str, str, list[tuple[str, str, str, str]]]] = [
    ("CG", "城市管理", "City management", [
        ("CG01", "路灯照明", "Street lighting", "D07"),
        ("CG02", "占道经营", "Street vending", "D07"),
        ("CG03", "违法建设", "Illegal construction", "D07"),
        ("CG04", "垃圾清运", "Rubbish collection", "D07"),
        ("CG05", "市容环境", "Street cleanliness", "D07"),
    ]),
    ("JT", "交通出行", "Transport", [
        ("JT01", "公交线路", "Bus routes", "D10"),
        ("JT02", "出租车与网约车", "Taxis and ride-hailing", "D10"),
        ("JT03", "道路破损", "Damaged roads", "D10"),
        ("JT04", "交通信号与停车", "Traffic signals and parking", "D02"),
    ]),
    ("ZF", "住房建设", "Housing and construction", [
        ("ZF01", "物业管理", "Property management", "D03"),
        ("ZF02", "房屋质量", "Building quality", "D03"),
        ("ZF03", "施工噪音", "Construction noise", "D09"),
        ("ZF04", "老旧小区改造", "Old estate renovation", "D03"),
        ("ZF05", "房屋征收", "Housing expropriation", "D08"),
    ]),
    ("HJ", "生态环境", "Environment", [
        ("HJ01", "噪声扰民", "Noise nuisance", "D09"),
        ("HJ02", "大气污染", "Air pollution", "D09"),
        ("HJ03", "水污染", "Water pollution", "D09"),
        ("HJ04", "餐饮油烟", "Restaurant fumes", "D09"),
    ]),
    ("SD", "水电气", "Utilities", [
        ("SD01", "供水停水", "Water supply", "D16"),
        ("SD02", "供电故障", "Power supply", "D28"),
        ("SD03", "燃气安全", "Gas safety", "D18"),
        ("SD04", "排水与内涝", "Drainage and flooding", "D16"),
    ]),
    ("LD", "劳动社保", "Labour and social insurance", [
        ("LD01", "拖欠工资", "Unpaid wages", "D04"),
        ("LD02", "社会保险", "Social insurance", "D04"),
        ("LD03", "就业服务", "Employment services", "D04"),
        ("LD04", "医保报销", "Medical insurance claims", "D19"),
    ]),
    ("JY", "教育", "Education", [
        ("JY01", "入学招生", "School admission", "D11"),
        ("JY02", "校外培训", "Private tutoring", "D11"),
        ("JY03", "校园安全", "School safety", "D11"),
    ]),
    ("WS", "卫生健康", "Health", [
        ("WS01", "医疗服务", "Medical services", "D05"),
        ("WS02", "公共卫生", "Public health", "D05"),
        ("WS03", "养老服务", "Elderly care", "D06"),
    ]),
    ("SC", "市场监管", "Market regulation", [
        ("SC01", "食品安全", "Food safety", "D12"),
        ("SC02", "消费维权", "Consumer complaints", "D12"),
        ("SC03", "价格投诉", "Price complaints", "D12"),
    ]),
    ("MZ", "民政救助", "Civil affairs and relief", [
        ("MZ01", "低保救助", "Minimum living allowance", "D06"),
        ("MZ02", "残疾人帮扶", "Support for disabled people", "D24"),
        ("MZ03", "退役军人服务", "Veterans' services", "D23"),
        ("MZ04", "妇女儿童权益", "Women's and children's rights", "D25"),
    ]),
    ("NY", "农业农村", "Agriculture and rural affairs", [
        ("NY01", "土地承包", "Land contracts", "D17"),
        ("NY02", "农村人居环境", "Rural living environment", "D17"),
    ]),
    ("ZA", "治安消防", "Public security and fire safety", [
        ("ZA01", "治安问题", "Public order", "D02"),
        ("ZA02", "消防隐患", "Fire hazards", "D27"),
        ("ZA03", "邻里纠纷", "Neighbour disputes", "D13"),
    ]),
]


def leaves() -> list[tuple[str, str, str, str, str]]:
    """(leaf code, 中文, English, parent code, default department code) for every leaf."""
    return [(code, name, en, parent, dept) for parent, _, _, kids in TREE for code, name, en, dept in kids]


DEFAULT_DEPARTMENT: dict[str, str] = {code: dept for code, _, _, _, dept in leaves()}

# Default deadline policies: 信访工作条例 (2022) for petitions; the 12345 hotline's rules for appeals.
POLICIES: list[dict[str, object]] = [
    {
        "kind": "petition", "urgency": "", "name": "信访事项（信访工作条例）",
        "register_amount": 15, "register_unit": "calendar",
        "reply_amount": 60, "reply_unit": "calendar",
        "extension_max": 30, "extension_unit": "calendar", "max_extensions": 1,
        "objection_working_days": 5, "review_request_days": 30, "review_decide_days": 30,
        "due_soon_hours": 72, "unsatisfied_goes_to_review": True,
    },
    {
        "kind": "appeal", "urgency": "urgent", "name": "紧急民意诉求（24小时）",
        "register_amount": 2, "register_unit": "hours",
        "reply_amount": 24, "reply_unit": "hours",
        "extension_max": 24, "extension_unit": "hours", "max_extensions": 1,
        "objection_working_days": 1, "review_request_days": 30, "review_decide_days": 15,
        "due_soon_hours": 4, "unsatisfied_goes_to_review": False,
    },
    {
        "kind": "appeal", "urgency": "", "name": "一般民意诉求（5个工作日）",
        "register_amount": 1, "register_unit": "working",
        "reply_amount": 5, "reply_unit": "working",
        "extension_max": 5, "extension_unit": "working", "max_extensions": 1,
        "objection_working_days": 5, "review_request_days": 30, "review_decide_days": 15,
        "due_soon_hours": 24, "unsatisfied_goes_to_review": False,
    },
]
