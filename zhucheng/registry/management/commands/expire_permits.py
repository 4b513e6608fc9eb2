"""``expire_permits``: the daily sweep marking residence permits past their validity as expired."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from zhucheng.registry.services import permits_expire_due


class Command(BaseCommand):
    help = "Mark issued residence permits whose validity has ended as expired (run daily)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = permits_expire_due(actor=None)
        self.stdout.write(_("已将 %(count)d 张过期居住证标记为已过期。") % {"count": count})
