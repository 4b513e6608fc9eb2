"""``./zc manage sweep_deadlines [--now ISO]``: remind handlers of appeals due soon, escalate overdue ones.

Without Redis there is no Celery beat, so cron (or a systemd timer) runs this every 15 minutes;
it is idempotent. ``--now`` pretends the sweep runs at another moment (tests, drills).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.appeals.deadlines import sweep


def _parse_now(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(_("--now 须为 ISO 8601 时间，例如 2026-10-09T09:00+08:00。")) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)  # read in the site's time zone (Asia/Shanghai)
    return moment


class Command(BaseCommand):
    help = _("办理时限巡检：临期提醒承办人，超期自动升级督办（可重复运行）。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", default="", help=_("以此时间巡检（ISO 8601；不带时区按北京时间）"))

    def handle(self, *args: Any, **options: Any) -> None:
        now = _parse_now(options["now"]) if options["now"] else None
        report = sweep(now=now)
        self.stdout.write(
            _("临期提醒 %(reminded)s 件，超期升级督办 %(escalated)s 件。")
            % {"reminded": report.reminded, "escalated": report.escalated}
        )
