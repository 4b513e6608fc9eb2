"""Print the demo logins (one per role) that ``seed_demo`` created."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from zhucheng.accounts.demo import DEMO_PASSWORD, demo_logins
from zhucheng.accounts.models import User


class Command(BaseCommand):
    help = "Print the demo logins and their password."

    def handle(self, *args: Any, **options: Any) -> None:
        rows = [r for r in demo_logins() if User.objects.filter(username=r["username"]).exists()]
        if not rows:
            self.stdout.write("No demo logins yet: run ./zc manage seed_demo")
            return
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD})")
        for r in rows:
            self.stdout.write(f"  {r['login']:<14} {r['role']:<10} {r['where']}")
