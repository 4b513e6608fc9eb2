"""``load_registry FILE``: load persons from CSV or Parquet (``--dry-run``: check only, write nothing).

Columns (header names in English or the Chinese names in brackets; unknown columns are ignored):

    name (姓名) *; doc_type (证件类型): resident_id (default) | passport | hk_macao | taiwan;
    id_number (公民身份号码) * for resident_id; doc_number (证件号码) * for other documents;
    nationality (国籍) * for passports; phone (联系电话); sex (性别) and birth_date (出生日期),
    taken from the ID number when empty; ethnicity (民族); hukou_place (户籍地); education (文化程度);
    employment_status (就业状况); grid_code (网格编码) * unless a door plate is given;
    door_plate (门牌) + unit_number (室号) of a registered housing unit, with residence_kind
    (人口类别: permanent | migrant) * and from_date (入住日期) *; employer (工作单位) + occupation (职业),
    employment_from (就业开始日期). Dates are YYYY-MM-DD; codes or their Chinese labels are accepted.

Rows breaking the collection standard, repeating an earlier row's identifier, or naming an unknown
grid or housing unit go to the reject file (row, field, code, reason in Chinese and English; CSV
rows are numbered as a spreadsheet shows them, the header being row 1). A person whose ID number
(or document) is already registered is skipped, so loading the same file twice adds nothing.

The load is one transaction: all accepted rows are written, or (on an error) none. ``--dry-run``
checks and resolves every row, writes the reject file and rolls back. ``--commit`` is accepted for
scripts written when a dry run was the default.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from zhucheng.registry.errors import RegistryError
from zhucheng.registry.loader import CHUNK_ROWS, load_file


class Command(BaseCommand):
    help = "Load persons (with residence and employment) from CSV or Parquet through the collection standard."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV (UTF-8 or GB18030) or Parquet file")
        parser.add_argument("--dry-run", action="store_true", help="check every row and write the reject file, but nothing to the database")
        parser.add_argument("--commit", action="store_true", help=argparse.SUPPRESS)  # the default now; kept for old scripts
        parser.add_argument("--rejects", default="", help="reject file (default: FILE.rejects.csv)")
        parser.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS, help="rows per chunk")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("找不到文件:%(path)s") % {"path": path})
        try:
            report = load_file(
                path,
                commit=not options["dry_run"],
                reject_path=options["rejects"] or None,
                chunk_rows=options["chunk_rows"],
                progress=not options["no_progress"],
            )
        except RegistryError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            _("共 %(rows)d 行:新增 %(inserted)d 人(居住登记 %(res)d 条、就业 %(jobs)d 条),已登记跳过 %(existing)d 人,退回 %(rejected)d 行。")
            % {
                "rows": report.rows,
                "inserted": report.inserted,
                "res": report.residences,
                "jobs": report.employments,
                "existing": report.existing,
                "rejected": report.rejected_rows,
            }
        )
        self.stdout.write(_("退回原因见:%(path)s") % {"path": report.reject_path})
        self.stdout.write(_("用时 %(s).1f 秒(%(rate).0f 行/秒)。") % {"s": report.seconds, "rate": report.rows / max(report.seconds, 1e-9)})
        if not report.committed:
            self.stdout.write(self.style.WARNING(_("这是试运行,未写入数据库;确认无误后去掉 --dry-run 再运行。")))
