"""``./zc manage load_holidays``: fill the working-day calendar from the ``chinesecalendar`` package."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from zhucheng.core.calendar import load_chinese_calendar


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # translated when asked, not at import
        return _("从 chinesecalendar 软件包载入法定节假日和调休安排(可重复运行)。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, action="append", dest="years", help=_("只载入指定年度(可重复)"))
        parser.add_argument("--overwrite", action="store_true", help=_("也覆盖管理员人工维护的年度(来源不是 chinesecalendar)"))
        parser.add_argument("--dry-run", action="store_true", help=_("只统计将要进行的更改,不写入"))

    def handle(self, *args: Any, **options: Any) -> None:
        report = load_chinese_calendar(overwrite=options["overwrite"], dry_run=options["dry_run"], years=options["years"])
        if report.years_loaded:
            self.stdout.write(
                _("已覆盖年度:%(first)s–%(last)s(共 %(count)s 年)")
                % {"first": report.years_loaded[0], "last": report.years_loaded[-1], "count": len(report.years_loaded)}
            )
        if report.years_skipped:
            self.stdout.write(
                _("跳过人工维护的年度:%(years)s(如需覆盖请加 --overwrite)")
                % {"years": ", ".join(str(y) for y in report.years_skipped)}
            )
        summary = _("新增 %(created)s 天,修改 %(updated)s 天,删除 %(deleted)s 天。") % {
            "created": report.created,
            "updated": report.updated,
            "deleted": report.deleted,
        }
        if options["dry_run"]:
            summary = _("试运行,未写入:") + summary
        self.stdout.write(self.style.SUCCESS(summary))
