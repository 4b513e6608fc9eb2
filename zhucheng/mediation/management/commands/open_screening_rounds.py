"""``./zc manage open_screening_rounds [--month 2026-12]``: the month's screening rounds, one per community
or township, with one report per grid for the grid worker to answer.

Idempotent: run it again and nothing is doubled (grids created since the last run are added to
rounds still open). Without Redis there is no Celery beat, so cron runs it on the 1st of each month.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from zhucheng.mediation.errors import MediationError
from zhucheng.mediation.screening import parse_month, rounds_open


class Command(BaseCommand):
    help = _("生成当月的矛盾纠纷排查轮次和各网格的排查报告（可重复运行）。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", default="", help=_("月份，格式 YYYY-MM；默认本月"))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            month = parse_month(options["month"]) if options["month"] else None
        except MediationError as exc:
            raise CommandError(exc.message) from None
        report = rounds_open(month=month)
        self.stdout.write(
            _("%(month)s：新建排查轮次 %(rounds)d 个，网格排查报告 %(reports)d 份。")
            % {"month": report.month.strftime("%Y-%m"), "rounds": report.rounds_created, "reports": report.reports_created}
        )
        if report.grids_without_unit:
            self.stderr.write(_("%(n)d 个网格不在任何社区或乡镇之下，已跳过。") % {"n": report.grids_without_unit})
