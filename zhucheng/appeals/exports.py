"""Export of appeal lists (CSV with a UTF-8 BOM, XLSX) within the user's scope, audited.

The rows are the same as the search page's for the same filters (``selectors.appeals_search``);
petitioners' names and contacts are never exported. Rows are read with an iterator so that a
large export does not hold every appeal in memory; CSV is streamed as it is written.
"""

from __future__ import annotations

import csv
import re
import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record

from . import selectors
from .models import OPEN_STATUSES, Appeal

FORMATS = ("csv", "xlsx")
CHUNK = 2000
# Spreadsheet programs run a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters that XML (and so XLSX) cannot hold.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def columns() -> list[tuple[str, str]]:
    return [
        ("code", _("受理编号")),
        ("kind", _("类型")),
        ("channel", _("渠道")),
        ("status", _("状态")),
        ("title", _("标题")),
        ("category", _("分类")),
        ("unit", _("所属区划")),
        ("department", _("主办部门")),
        ("submitted_at", _("提交时间")),
        ("due_at", _("当前期限")),
        ("replied_at", _("答复时间")),
        ("closed_at", _("办结时间")),
        ("overdue", _("是否超期")),
    ]


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def safe_cell(value: Any) -> str:
    """Text a spreadsheet shows as text: a leading formula character is neutralised with an apostrophe."""
    text = _ILLEGAL_XML.sub("", str(value or ""))
    return "'" + text if text.startswith(_FORMULA_START) else text


def unit_name(appeal: Appeal) -> str:
    """A grid's name alone ("第1网格") says little: it is shown with its committee or village."""
    unit = appeal.unit
    if unit.kind == "grid" and unit.parent_id and unit.parent:
        return f"{unit.parent.name} {unit.name}"
    return unit.name


def row_of(appeal: Appeal, now: datetime) -> list[str]:
    overdue = appeal.status in OPEN_STATUSES and appeal.due_at is not None and appeal.due_at < now and appeal.paused_at is None
    values = [
        appeal.code,
        appeal.get_kind_display(),
        appeal.get_channel_display(),
        appeal.get_status_display(),
        appeal.title,
        str(appeal.category) if appeal.category else "",
        unit_name(appeal),
        appeal.department.name if appeal.department else "",
        _when(appeal.submitted_at),
        _when(appeal.due_at),
        _when(appeal.replied_at),
        _when(appeal.closed_at),
        _("是") if overdue else _("否"),
    ]
    return [safe_cell(v) for v in values]


def rows(qs: QuerySet[Appeal]) -> Iterator[list[str]]:
    now = timezone.now()
    for appeal in qs.iterator(chunk_size=CHUNK):
        yield row_of(appeal, now)


class _Echo:
    """A file-like object that hands back what csv.writer writes (for streaming)."""

    def write(self, value: str) -> str:
        return value


def _csv_stream(qs: QuerySet[Appeal]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # BOM: spreadsheet programs then read the Chinese text as UTF-8
    yield writer.writerow([label for _key, label in columns()])
    for row in rows(qs):
        yield writer.writerow(row)


def csv_response(qs: QuerySet[Appeal], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_csv_stream(qs), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(qs: QuerySet[Appeal], filename: str) -> FileResponse:
    from openpyxl import Workbook

    # Write-only mode streams rows to a temporary file instead of building the sheet in memory.
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_("诉求"))
    sheet.append([label for _key, label in columns()])
    for row in rows(qs):
        sheet.append(row)
    out = tempfile.TemporaryFile()  # noqa: SIM115  (FileResponse closes it when the response is sent)
    book.save(out)
    out.seek(0)
    return FileResponse(
        out,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def export_queryset(user: Any, filters: dict[str, Any]) -> QuerySet[Appeal]:
    return selectors.appeals_search(user, **filters).select_related("unit__parent").order_by("submitted_at", "id")


def export_appeals(*, user: Any, filters: dict[str, Any], summary: str, fmt: str) -> HttpResponseBase:
    """The export response; the audit event (filters and row count) is written before any row is sent."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    qs = export_queryset(user, filters)
    count = qs.count()
    audit_record(actor=user, act="appeals.export", reason=f"{fmt}; {summary}; {count} rows")
    filename = "appeals-" + timezone.localtime().strftime("%Y%m%d-%H%M")
    response: HttpResponseBase = csv_response(qs, filename) if fmt == "csv" else xlsx_response(qs, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
