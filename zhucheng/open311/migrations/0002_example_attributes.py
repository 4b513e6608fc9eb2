"""Example service definitions (Open311 attributes) for a few default categories; admins edit them afterwards."""

from __future__ import annotations

from typing import Any

from django.db import migrations

# category code -> [(code, datatype, required, variable, 中文说明, English, 填写提示, hint in English, values)]
EXAMPLES: dict[str, list[tuple[Any, ...]]] = {
    "CG01": [  # 路灯照明
        ("lamp_post_no", "string", False, True, "灯杆编号", "Lamp post number",
         "灯杆上喷涂的编号，如 LD-0231；看不到可不填", "The number painted on the post, e.g. LD-0231; leave empty if not visible", []),
        ("fault_type", "singlevaluelist", True, True, "故障情况", "What is wrong", "", "", [
            {"key": "not_lit", "name": "夜间不亮", "name_en": "Not lit at night"},
            {"key": "flickering", "name": "闪烁", "name_en": "Flickering"},
            {"key": "on_by_day", "name": "白天常亮", "name_en": "On during the day"},
            {"key": "damaged", "name": "灯杆损坏或倾斜", "name_en": "Post damaged or leaning"},
        ]),
    ],
    "JT03": [  # 道路破损
        ("damage_type", "singlevaluelist", True, True, "破损类型", "Kind of damage", "", "", [
            {"key": "pothole", "name": "坑槽", "name_en": "Pothole"},
            {"key": "crack", "name": "裂缝", "name_en": "Crack"},
            {"key": "sinking", "name": "沉陷", "name_en": "Sinking"},
            {"key": "manhole", "name": "井盖缺失或破损", "name_en": "Missing or broken manhole cover"},
        ]),
        ("area_m2", "number", False, True, "破损面积（平方米）", "Damaged area (m²)",
         "估计值即可，如 1.5", "An estimate is fine, e.g. 1.5", []),
    ],
    "CG04": [  # 垃圾清运
        ("waste_kinds", "multivaluelist", False, True, "垃圾种类（可多选）", "Kinds of waste (choose any)", "", "", [
            {"key": "household", "name": "生活垃圾", "name_en": "Household waste"},
            {"key": "construction", "name": "建筑垃圾", "name_en": "Construction waste"},
            {"key": "bulky", "name": "大件垃圾", "name_en": "Bulky items"},
            {"key": "hazardous", "name": "有害垃圾", "name_en": "Hazardous waste"},
        ]),
        ("first_seen", "datetime", False, True, "最早发现时间", "When first noticed",
         "如 2026-05-01T08:00:00+08:00", "e.g. 2026-05-01T08:00:00+08:00", []),
    ],
    "HJ01": [  # 噪声扰民
        ("noise_hours", "text", False, True, "噪声出现的时段", "When the noise happens",
         "如：每晚 22 点以后，持续约两小时", "e.g. every night after 22:00, for about two hours", []),
    ],
    "SD03": [  # 燃气安全
        ("safety_notice", "string", False, False,
         "如闻到燃气味，请立即离开、不要开关电器，并拨打燃气抢修电话。",
         "If you smell gas, leave at once, do not switch anything on or off, and call the gas emergency line.", "", "", []),
    ],
}


def load(apps: Any, schema_editor: Any) -> None:
    Category = apps.get_model("appeals", "Category")
    ServiceAttribute = apps.get_model("open311", "ServiceAttribute")
    for category_code, rows in EXAMPLES.items():
        category = Category.objects.filter(code=category_code).first()
        if category is None:
            continue
        for order, (code, datatype, required, variable, desc, desc_en, hint, hint_en, values) in enumerate(rows, start=1):
            ServiceAttribute.objects.get_or_create(
                category=category,
                code=code,
                defaults={
                    "datatype": datatype,
                    "required": required,
                    "variable": variable,
                    "order": order,
                    "description": desc,
                    "description_en": desc_en,
                    "datatype_description": hint,
                    "datatype_description_en": hint_en,
                    "values": values,
                },
            )


class Migration(migrations.Migration):
    dependencies = [("open311", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
