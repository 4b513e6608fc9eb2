"""``seed_demo``: load the demo city (every app's ``demo.py``, see ``zhucheng.core.demo``)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from zhucheng.core import demo, notify


class Command(BaseCommand):
    help = "Load the demo city, departments, staff logins and each app's demo data (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", choices=demo.SIZES, default="small", help="small (default), full, or city (6.48 million people; PostgreSQL)")
        parser.add_argument(
            "--if-empty", action="store_true", dest="if_empty", help="seed only when the database has no unit yet"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and apps.get_model("places", "OrgUnit").objects.exists():
            self.stdout.write(_("数据库中已有区划数据,跳过演示数据。"))
            return
        with notify.muted():  # demo petitioners must not be texted
            demo.run(size=options["size"], stdout=self.stdout)
