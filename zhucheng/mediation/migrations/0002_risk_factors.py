"""Default risk factors (weights sum to 100); administrators change them in the admin."""

from django.db import migrations

DEFAULTS = [
    ("parties", 15, 6, "6 名及以上当事人计满分"),
    ("amount", 20, 200000, "争议金额 20 万元及以上计满分"),
    ("repeat_appeals", 20, 3, "同一事项此前反映 3 次及以上计满分"),
    ("missed_deadlines", 15, 2, "逾期未履行或逾期未跟进 2 次及以上计满分"),
    ("threats", 30, 1, "工作人员记录了危害自身或他人的风险即计满分"),
]


def load(apps, schema_editor):
    RiskFactor = apps.get_model("mediation", "RiskFactor")
    for code, weight, saturation, note in DEFAULTS:
        RiskFactor.objects.get_or_create(code=code, defaults={"weight": weight, "saturation": saturation, "note": note})


def unload(apps, schema_editor):
    apps.get_model("mediation", "RiskFactor").objects.filter(code__in=[d[0] for d in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("mediation", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
