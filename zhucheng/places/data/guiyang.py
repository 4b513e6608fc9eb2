"""Names and layout of the demo city, a model of Guiyang as the 2014 reference article describes it.

The reference counts 10 districts/counties, 93 communities, 75 townships, 532 residents'
committees and 913 villages, and 28 city departments gathered in the citizens' service
centre. Communities and townships are (mostly real) Guiyang names listed per district;
residents' committees and villages are generated from the word lists below, except the
few the article names (金东居委会, 三合村, 石草村), which keep their place.

These are data, not interface text: they are stored in the database as unit names, so
they are not marked for translation.
"""

from __future__ import annotations

from typing import NamedTuple

CITY_CODE = "5201"
CITY_NAME = "贵阳市"
# Bounding box of the demo city (lon0, lat0, lon1, lat1); the real centre is 26.58°N 106.71°E.
CITY_BOX = (106.2, 26.2, 107.2, 27.2)
CITY_CENTRE = (106.71, 26.58)

# The reference's counts: the demo city must reproduce them exactly.
EXPECTED = {
    "district": 10,
    "community": 93,
    "township": 75,
    "residents_committee": 532,
    "village": 913,
    "department": 28,
}


class District(NamedTuple):
    code: str
    name: str
    # Rectangle (lon0, lat0, lon1, lat1); the ten rectangles tile CITY_BOX, urban districts
    # small and central, counties large and outside, roughly where they really lie.
    box: tuple[float, float, float, float]
    # Urban core: communities here have residents' committees only; elsewhere some have villages.
    urban_core: bool
    communities: tuple[str, ...]
    townships: tuple[str, ...]


DISTRICTS: tuple[District, ...] = (
    District(
        "520102",
        "南明区",
        (106.64, 26.5, 106.78, 26.62),
        True,
        (
            "新华社区", "中南社区", "兴关社区", "遵义社区", "西湖社区", "花果园社区", "沙冲社区", "湘雅社区",
            "二戈社区", "太慈社区", "龙洞堡社区", "油榨社区", "水口寺社区", "市府社区", "望城社区", "沙南社区",
            "电建社区", "南厂社区", "河滨社区", "宝山社区", "五里冲社区", "青山社区",
        ),
        ("后巢乡", "云关乡", "小碧布依族苗族乡"),
    ),
    District(
        "520103",
        "云岩区",
        (106.64, 26.62, 106.78, 26.78),
        True,
        (
            "中华社区", "威清社区", "黔东社区", "北京路社区", "延中社区", "中环社区", "东山社区", "普陀社区",
            "头桥社区", "金鸭社区", "蔡关社区", "圣泉社区", "水东社区", "宅吉社区", "市西社区", "金关社区",
            "三桥社区", "盐务街社区", "黔灵东路社区", "大营坡社区", "贵乌社区", "松山社区", "八角岩社区", "荷塘社区",
        ),
        ("黔灵镇",),
    ),
    District(
        "520111",
        "花溪区",
        (106.52, 26.2, 107.2, 26.5),
        False,
        ("阳光社区", "清溪社区", "溪北社区", "贵筑社区", "黄河社区", "小河社区", "金竹社区", "平桥社区", "明珠社区", "兴隆社区"),
        ("青岩镇", "石板镇", "孟关苗族布依族乡", "党武乡", "麦坪乡", "久安乡", "燕楼乡", "高坡苗族乡", "黔陶布依族苗族乡"),
    ),
    District(
        "520112",
        "乌当区",
        (106.78, 26.5, 107.2, 26.78),
        False,
        ("新天社区", "高新社区", "顺新社区", "振华社区", "新添社区", "新创社区", "云锦社区"),
        ("东风镇", "水田镇", "羊昌镇", "下坝镇", "百宜镇", "新场镇", "新堡布依族乡", "偏坡布依族乡"),
    ),
    District(
        "520113",
        "白云区",
        (106.58, 26.78, 106.88, 26.93),
        False,
        ("铝兴社区", "大山洞社区", "艳山红社区", "泉湖社区", "都溪社区", "红云社区", "云城社区", "龙井社区"),
        ("麦架镇", "沙文镇", "都拉布依族乡", "牛场布依族乡"),
    ),
    District(
        "520115",
        "观山湖区",
        (106.52, 26.5, 106.64, 26.78),
        True,
        (
            "碧海社区", "金阳社区", "世纪城社区", "会展城社区", "观山社区", "宾阳社区", "长岭社区", "金华园社区",
            "林城社区", "阳关社区", "湖畔社区", "云潭社区",
        ),
        ("金华镇", "朱昌镇", "百花湖乡", "野鸭乡"),
    ),
    District(
        "520121",
        "开阳县",
        (106.88, 26.78, 107.2, 27.2),
        False,
        ("紫兴社区", "云开社区"),
        (
            "城关镇", "双流镇", "金中镇", "冯三镇", "楠木渡镇", "龙岗镇", "永温镇", "花梨镇",
            "宅吉乡", "龙水乡", "米坪乡", "禾丰布依族苗族乡", "南江布依族苗族乡", "高寨苗族布依族乡", "毛云乡", "南龙乡",
        ),
    ),
    District(
        "520122",
        "息烽县",
        (106.58, 26.93, 106.88, 27.2),
        False,
        ("永阳社区", "文化社区"),
        ("永靖镇", "温泉镇", "九庄镇", "小寨坝镇", "西山镇", "养龙司镇", "石硐镇", "鹿窝镇", "流长镇", "青山苗族乡"),
    ),
    District(
        "520123",
        "修文县",
        (106.2, 26.78, 106.58, 27.2),
        False,
        ("阳明社区", "景阳社区"),
        ("龙场镇", "扎佐镇", "久长镇", "六屯镇", "洒坪镇", "六桶镇", "六广镇", "谷堡镇", "小箐镇", "大石布依族乡"),
    ),
    District(
        "520181",
        "清镇市",
        (106.2, 26.2, 106.52, 26.78),
        False,
        ("红塔社区", "青龙社区", "巢凤社区", "百花社区"),
        ("红枫湖镇", "站街镇", "卫城镇", "新店镇", "暗流镇", "犁倭镇", "麦格苗族布依族乡", "王庄布依族苗族乡", "流长苗族乡", "茶店乡"),
    ),
)

# Units the article names, placed first among their parent's children: (district, parent) → names.
NAMED_RESIDENTS_COMMITTEES: dict[tuple[str, str], tuple[str, ...]] = {
    ("白云区", "铝兴社区"): ("金东居委会",),
    ("观山湖区", "碧海社区"): ("碧海居委会",),
    ("云岩区", "威清社区"): ("威清门居委会",),
}
NAMED_VILLAGES: dict[tuple[str, str], tuple[str, ...]] = {
    ("开阳县", "南江布依族苗族乡"): ("三合村",),
    ("观山湖区", "百花湖乡"): ("石草村",),
}

# Word lists for generated names: "<prefix><suffix>居委会" and "<prefix><suffix>村".
RC_PREFIXES = (
    "金", "银", "新", "东", "西", "南", "北", "中", "华", "兴", "和", "平", "安", "阳", "明", "光",
    "富", "云", "花", "桂", "松", "竹", "湖", "龙", "凤", "宝", "瑞", "福", "康", "春", "丰", "青",
    "翠", "碧", "黔", "筑", "德", "文",
)
RC_SUFFIXES = (
    "东", "西", "南", "北", "山", "湖", "桥", "园", "苑", "路", "街", "坪", "岗", "湾", "井", "关",
    "城", "庄", "门", "巷", "林", "溪",
)
VILLAGE_PREFIXES = (
    "大", "小", "上", "下", "新", "老", "高", "石", "马", "龙", "黄", "杨", "王", "李", "三", "五",
    "六", "白", "红", "青", "水", "花", "竹", "松", "桃", "梨", "茶", "麦", "谷", "金", "狮", "凤",
    "安", "平",
)
VILLAGE_SUFFIXES = (
    "坝", "寨", "冲", "堡", "哨", "屯", "场", "坡", "田", "沟", "岩", "关", "庄", "林", "湾", "院",
    "山", "河", "溪", "塘", "桥", "井", "合", "丰",
)

# The 28 city departments gathered in the citizens' service centre (群众工作中心):
# (code, name, short name, is the dispatching centre).
DEPARTMENTS: tuple[tuple[str, str, str, bool], ...] = (
    ("D01", "市群众工作中心", "群工中心", True),
    ("D02", "市公安局", "公安局", False),
    ("D03", "市住房和城乡建设局", "住建局", False),
    ("D04", "市人力资源和社会保障局", "人社局", False),
    ("D05", "市卫生健康委员会", "卫健委", False),
    ("D06", "市民政局", "民政局", False),
    ("D07", "市城市管理局", "城管局", False),
    ("D08", "市自然资源和规划局", "自然资源局", False),
    ("D09", "市生态环境局", "生态环境局", False),
    ("D10", "市交通运输局", "交通局", False),
    ("D11", "市教育局", "教育局", False),
    ("D12", "市市场监督管理局", "市场监管局", False),
    ("D13", "市司法局", "司法局", False),
    ("D14", "市信访局", "信访局", False),
    ("D15", "市国资委", "国资委", False),
    ("D16", "市水务管理局", "水务局", False),
    ("D17", "市农业农村局", "农业农村局", False),
    ("D18", "市应急管理局", "应急局", False),
    ("D19", "市医疗保障局", "医保局", False),
    ("D20", "市财政局", "财政局", False),
    ("D21", "市商务局", "商务局", False),
    ("D22", "市文化和旅游局", "文旅局", False),
    ("D23", "市退役军人事务局", "退役军人局", False),
    ("D24", "市残疾人联合会", "残联", False),
    ("D25", "市妇女联合会", "妇联", False),
    ("D26", "市总工会", "总工会", False),
    ("D27", "市消防救援支队", "消防支队", False),
    ("D28", "市供电局", "供电局", False),
)
