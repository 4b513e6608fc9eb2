"""Demo texts for the mediation seeder: committees, names, and dispute stories per field.

These are data stored as records (not interface text), so they are not marked for translation.
"""

from __future__ import annotations

from .models import DisputeField

COMMITTEES: tuple[tuple[str, str, str], ...] = (
    ("GY-LD", "贵阳市劳动争议人民调解委员会", DisputeField.LABOUR),
    ("GY-YL", "贵阳市医疗纠纷人民调解委员会", DisputeField.MEDICAL),
    ("GY-JT", "贵阳市道路交通事故人民调解委员会", DisputeField.TRAFFIC),
    ("GY-WY", "贵阳市物业及邻里纠纷人民调解委员会", DisputeField.NEIGHBOURS),
    ("GY-HY", "贵阳市婚姻家庭纠纷人民调解委员会", DisputeField.FAMILY),
    ("GY-ZC", "贵阳市土地征收与房屋拆迁纠纷人民调解委员会", DisputeField.LAND),
    ("GY-XF", "贵阳市消费纠纷人民调解委员会", DisputeField.CONSUMER),
    ("GY-QY", "贵阳市企业改制纠纷人民调解委员会", DisputeField.ENTERPRISE),
)

# Community rooms take these committees in turn; township rooms belong to the land committee.
COMMUNITY_ROOM_FIELDS = (
    DisputeField.NEIGHBOURS,
    DisputeField.FAMILY,
    DisputeField.NEIGHBOURS,
    DisputeField.LABOUR,
    DisputeField.CONSUMER,
    DisputeField.TRAFFIC,
    DisputeField.NEIGHBOURS,
    DisputeField.FAMILY,
    DisputeField.MEDICAL,
    DisputeField.ENTERPRISE,
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红建国志春梅海燕文辉鹏飞琴云莉婷雪慧晓东斌凯"
COMPANIES = ("筑城建筑劳务有限公司", "黔南物业服务有限公司", "花溪家装工程有限公司", "观山湖商贸有限公司", "南明运输有限公司", "乌当食品厂", "白云机械厂")
LANGUAGES = ("普通话", "普通话、贵州方言", "普通话、苗语", "普通话、布依语", "普通话、侗语")

# field → (weight, amount range in yuan or None, [(title, facts)])
STORIES: dict[str, tuple[int, tuple[int, int] | None, tuple[tuple[str, str], ...]]] = {
    DisputeField.NEIGHBOURS: (
        30,
        (0, 20_000),
        (
            ("楼上漏水纠纷", "申请人家天花板因楼上卫生间防水层破损长期渗水，墙面发霉，要求对方维修并赔偿损失。"),
            ("噪音扰民纠纷", "被申请人家中夜间经营麻将室，噪音持续到凌晨，影响邻居休息，多次协商未果。"),
            ("相邻通行纠纷", "双方因院坝通道被堆放杂物堵塞发生争执，申请人要求恢复通行。"),
            ("物业费纠纷", "业主以电梯长期故障为由拒交物业费，物业公司要求补缴欠费。"),
        ),
    ),
    DisputeField.FAMILY: (
        18,
        (10_000, 300_000),
        (
            ("赡养老人纠纷", "老人有三名子女，因赡养费分担和轮流照料问题发生争执，老人生活无着。"),
            ("离婚财产分割纠纷", "双方协议离婚，对共同购买的住房和存款如何分割存在分歧。"),
            ("继承房屋纠纷", "父母去世后留下老房一套，兄妹之间对继承份额意见不一。"),
        ),
    ),
    DisputeField.LABOUR: (
        15,
        (3_000, 80_000),
        (
            ("拖欠工资纠纷", "申请人在工地务工数月，用工方以工程款未结算为由拖欠工资。"),
            ("工伤赔偿纠纷", "申请人在工作中受伤住院，与用人单位就工伤待遇和误工费协商不成。"),
            ("解除劳动合同补偿纠纷", "用人单位单方解除劳动合同，双方对经济补偿金数额存在争议。"),
        ),
    ),
    DisputeField.TRAFFIC: (
        10,
        (5_000, 200_000),
        (
            ("交通事故赔偿纠纷", "双方车辆在路口发生碰撞，交警已认定责任，双方就医疗费和车辆维修费赔偿协商不成。"),
            ("电动车碰撞纠纷", "电动车与行人相撞致行人骨折，双方对赔偿数额争议较大。"),
        ),
    ),
    DisputeField.CONSUMER: (
        8,
        (500, 30_000),
        (
            ("装修质量纠纷", "装修完工后出现墙面开裂、地砖空鼓，业主要求返工并扣减尾款。"),
            ("预付卡退费纠纷", "健身房停业，会员要求退还预付卡余额。"),
            ("租房押金纠纷", "租期届满后房东以房屋损坏为由拒退押金。"),
        ),
    ),
    DisputeField.LAND: (
        7,
        (50_000, 2_000_000),
        (
            ("征收补偿纠纷", "村民对房屋征收补偿面积认定有异议，拒绝签订补偿协议。"),
            ("土地承包经营权纠纷", "两户村民对承包地边界存在争议，影响春耕。"),
        ),
    ),
    DisputeField.MEDICAL: (
        5,
        (20_000, 500_000),
        (("医疗损害赔偿纠纷", "患者术后出现并发症，家属认为医院存在过错，要求赔偿。"),),
    ),
    DisputeField.ENTERPRISE: (
        3,
        (100_000, 3_000_000),
        (("企业改制职工安置纠纷", "企业改制中部分老职工对身份置换补偿标准有异议，集体反映。"),),
    ),
    DisputeField.OTHER: (
        4,
        None,
        (("邻里口角纠纷", "双方因琐事发生口角并有推搡，要求对方赔礼道歉。"),),
    ),
}

MINUTES = (
    "调解员分别听取了双方陈述，释明了相关法律规定，双方同意在调解员主持下继续协商。",
    "双方当事人均到场。经背对背调解，双方就主要事项初步达成一致，约定下次会谈确认具体数额。",
    "被申请人对申请人提出的数额有异议，调解员组织双方核对了票据和证据，调解继续。",
)
FOUND_NOTES = ("发现邻里漏水纠纷一起，已上门了解情况。", "发现拖欠工资苗头一起，已告知社区调解室。", "发现家庭矛盾一起，已请网格长跟进。")
