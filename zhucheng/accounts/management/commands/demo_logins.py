"""Print the demo logins (one per role) that ``seed_demo`` created."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from zhucheng.accounts.demo import demo_logins, logins_table
from zhucheng.accounts.models import User


class Command(BaseCommand):
    help = "Print the demo logins and their password."

    def handle(self, *args: Any, **options: Any) -> None:
        if not User.objects.filter(username__in=[r["username"] for r in demo_logins()]).exists():
            self.stdout.write("No demo logins yet: run ./zc manage seed_demo")
            return
        for line in logins_table():
            self.stdout.write(line)
