"""Reference data every city starts with: the category tree and the default deadline policies."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def load(apps: Any, schema_editor: Any) -> None:
    from zhucheng.appeals.data.categories import POLICIES, TREE

    Category = apps.get_model("appeals", "Category")
    DeadlinePolicy = apps.get_model("appeals", "DeadlinePolicy")
    for i, (code, name, en, kids) in enumerate(TREE):
        parent, _ = Category.objects.get_or_create(code=code, defaults={"name": name, "name_en": en, "sort_order": i})
        for j, (kcode, kname, ken, _dept) in enumerate(kids):
            Category.objects.get_or_create(
                code=kcode, defaults={"name": kname, "name_en": ken, "parent": parent, "sort_order": j}
            )
    for policy in POLICIES:
        DeadlinePolicy.objects.get_or_create(kind=policy["kind"], urgency=policy["urgency"], defaults=policy)


class Migration(migrations.Migration):
    dependencies = [("appeals", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
