"""``./zc manage import_appeals FILE [--commit]``: import historical appeals from CSV or XLSX.

A dry run unless ``--commit``: every row is checked and every error listed (row, column,
reason); with ``--commit`` the good rows are imported one transaction each and the bad ones
skipped. Rows already imported (same channel and 来源编号) are skipped, so re-running is safe.
Exits non-zero when any row failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from zhucheng.appeals.errors import AppealError
from zhucheng.appeals.importer import COLUMNS, ImportReport, import_file, write_error_report

_PRINT_LIMIT = 500  # the full list goes to --errors-out


class Command(BaseCommand):
    help = _("从 CSV 或 XLSX 导入历史诉求（默认试运行；加 --commit 才写入，有错误的行跳过）。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=_("CSV（UTF-8 或 GB18030）或 XLSX 文件"))
        parser.add_argument("--commit", action="store_true", help=_("写入数据库；不加则只检查"))
        parser.add_argument("--errors-out", dest="errors_out", default="", help=_("把错误清单写入此文件（.xlsx 或 .csv）"))
        parser.add_argument("--user", default="", help=_("记在审计日志里的操作人用户名（默认：系统）"))

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("找不到文件 %(path)s。") % {"path": path})
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(_("用户 %(u)s 不存在。") % {"u": options["user"]})
        try:
            report = import_file(path, actor=actor, commit=options["commit"])
        except AppealError as exc:
            raise CommandError(exc.message) from None
        self._print(report)
        if options["errors_out"] and report.errors:
            write_error_report(report, options["errors_out"])
            self.stdout.write(_("错误清单已写入 %(path)s。") % {"path": options["errors_out"]})
        if report.errors:
            raise CommandError(_("%(n)s 行有错误。") % {"n": report.failed_rows}, returncode=1)

    def _print(self, report: ImportReport) -> None:
        if report.ignored_columns:
            known = "、".join(c.header for c in COLUMNS)
            self.stdout.write(
                _("忽略了无法识别的列：%(cols)s（可用的列：%(known)s）") % {"cols": "、".join(report.ignored_columns), "known": known}
            )
        for row, ref in report.skipped_rows[:_PRINT_LIMIT]:
            self.stdout.write(_("第 %(row)s 行：来源编号 %(ref)s 已导入过，跳过。") % {"row": row, "ref": ref})
        for error in report.errors[:_PRINT_LIMIT]:
            where = f"[{error.column}]" if error.column else ""
            self.stderr.write(_("第 %(row)s 行%(where)s：%(reason)s") % {"row": error.row, "where": where, "reason": error.reason})
        hidden = max(0, len(report.errors) - _PRINT_LIMIT)
        if hidden:
            self.stderr.write(_("……另有 %(n)s 条错误未显示，请用 --errors-out 导出完整清单。") % {"n": hidden})
        counts = {
            "total": report.total,
            "ready": report.ready,
            "imported": report.imported,
            "existing": report.skipped_existing,
            "failed": report.failed_rows,
        }
        if report.committed:
            message = _("共 %(total)s 行：导入 %(imported)s 行，已导入过而跳过 %(existing)s 行，有错误而跳过 %(failed)s 行。") % counts
            self.stdout.write(self.style.SUCCESS(message) if not report.errors else message)
        else:
            self.stdout.write(
                _("试运行，未写入任何数据。共 %(total)s 行：可导入 %(ready)s 行，已导入过 %(existing)s 行，有错误 %(failed)s 行。")
                % counts
            )
            if report.ready:
                self.stdout.write(_("确认无误后加 --commit 写入（有错误的行会被跳过）。"))
