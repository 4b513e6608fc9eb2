"""``./zc manage mediation_sweep [--now ISO]``: open the fulfilment checks of agreement terms due by today
(a follow-up task and an SMS for the mediator) and remind parties of sessions in the next 24 hours.

Idempotent; cron (or Celery beat) runs it hourly. Recording a check as "not performed" reopens the
dispute (``outcomes.term_check``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.mediation.outcomes import sweep


class Command(BaseCommand):
    help = _("调解协议履行回访和调解提醒巡检（可重复运行）。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", default="", help=_("以此时间巡检（ISO 8601；不带时区按北京时间）"))

    def handle(self, *args: Any, **options: Any) -> None:
        at = None
        if options["now"]:
            try:
                at = datetime.fromisoformat(options["now"])
            except ValueError:
                raise CommandError(_("--now 须为 ISO 8601 时间，例如 2026-12-01T09:00。")) from None
            if timezone.is_naive(at):
                at = timezone.make_aware(at)
        report = sweep(at=at)
        self.stdout.write(
            _("开启履行回访 %(checks)d 项，发送调解提醒 %(reminders)d 次。") % {"checks": report.checks_opened, "reminders": report.reminders_sent}
        )
