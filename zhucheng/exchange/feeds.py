"""Reading a department's file and checking every row against the collection standard (采集规范).

``read_file`` decodes CSV, XLSX or JSON lines in the feed's encoding (UTF-8 or GB18030) and
refuses a file in the wrong encoding or without the mapped columns (``ExchangeError``: the whole
file is refused, with the line at fault). ``validate`` maps each row's columns onto the standard's
fields (``Feed.mapping``), cleans it with ``registry.standard.clean_person`` — the same rules and
Chinese reasons as the registry's forms and bulk import — and sorts rows into good ones (with a
row key) and issues (row number, field, source column, reason). It writes nothing.

Rows number from 1 after the header, as in the registry's bulk import. A missing ID number does
not refuse a row: the record is still linked on name, birth date, phone and address (a new person,
though, needs an identifier, so an unmatched row without one is held).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.places.models import OrgUnit, OrgUnitKind
from zhucheng.registry import standard
from zhucheng.registry.standard_batch import HEADER_ALIASES, IMPORT_COLUMNS

from .errors import ExchangeError
from .models import Encoding, Feed, FileFormat

# Fields a feed may map columns onto: the registry import columns, a free-text address and the
# department's own record id.
EXTRA_FIELDS: dict[str, str] = {"address": "地址(用于比对)", "source_key": "部门记录编号"}
STANDARD_FIELDS: tuple[str, ...] = (*IMPORT_COLUMNS, *EXTRA_FIELDS)
# Cleaned person fields kept on a source record (and compared for provenance).
PERSON_KEYS: tuple[str, ...] = (
    "name", "doc_type", "id_number", "doc_number", "nationality", "phone", "sex", "birth_date", "ethnicity",
    "hukou_place", "education", "employment_status",
)  # fmt: skip
EXTRA_KEYS: tuple[str, ...] = ("grid_code", "address", "source_key")

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class Issue:
    """One reason a row (0: the file itself) was refused."""

    row: int
    field: str
    code: str
    message: str
    column: str = ""
    raw: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class GoodRow:
    row: int
    raw: dict[str, Any]
    cleaned: dict[str, Any]
    key: str


@dataclass
class FileContent:
    header: list[str]
    rows: list[tuple[int, dict[str, Any] | None, str]]  # (row, source column → value | None, reading error)


@dataclass
class Validation:
    received: int = 0
    good: list[GoodRow] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def rejected_rows(self) -> int:
        return len({i.row for i in self.issues if i.row})


# --- mapping --------------------------------------------------------------------------------------


def check_mapping(mapping: Mapping[str, str]) -> list[str]:
    """Reasons the mapping is unusable (unknown target fields, no name column, no identifying column)."""
    problems: list[str] = []
    if not isinstance(mapping, Mapping) or not mapping:
        return [_("字段映射不能为空:请写成 {\"源列名\": \"规范字段\"}。")]
    targets = list(mapping.values())
    for column, target in mapping.items():
        if target not in STANDARD_FIELDS:
            problems.append(_("源列“%(column)s”映射到未知字段“%(target)s”。") % {"column": column, "target": target})
    if len(set(targets)) != len(targets):
        problems.append(_("同一规范字段不能映射两个源列。"))
    if "name" not in targets:
        problems.append(_("必须映射姓名(name)。"))
    if not {"id_number", "doc_number", "birth_date"} & set(targets):
        problems.append(_("至少映射公民身份号码、证件号码或出生日期之一。"))
    return problems


def suggest_mapping(header: list[str]) -> dict[str, str]:
    """A mapping from the standard's accepted header spellings (姓名, 身份证号码, 联系电话…)."""
    out: dict[str, str] = {}
    for column in header:
        target = HEADER_ALIASES.get(column.strip())
        if target is None and column.strip() in ("地址", "住址", "现住址", "居住地址"):
            target = "address"
        if target and target not in out.values():
            out[column] = target
    return out


# --- reading --------------------------------------------------------------------------------------


def _line_of(data: bytes, offset: int) -> int:
    return data[:offset].count(b"\n") + 1


def decode(data: bytes, encoding: str) -> str:
    """The file's text in the feed's encoding; ``ExchangeError(code="encoding")`` naming the row at fault."""
    if data.startswith(b"\xef\xbb\xbf"):
        data_utf8 = data[3:]
        if encoding != Encoding.UTF8:
            raise ExchangeError(
                _("文件带 UTF-8 标记(BOM),与接口约定的 %(enc)s 编码不符。") % {"enc": Encoding(encoding).label},
                code="encoding",
                field="file",
                row=0,
            )
        data = data_utf8
    if encoding == Encoding.UTF8:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = _line_of(data, exc.start)
            raise ExchangeError(
                _("第 %(row)s 行不是有效的 UTF-8 编码(可能是 GB18030/GBK 文件),整个文件未导入。") % {"row": max(line - 1, 0)},
                code="encoding",
                field="file",
                row=max(line - 1, 0),
            ) from exc
    # GB18030 can decode almost any bytes: a UTF-8 file would come out garbled, so refuse it by its shape.
    try:
        data.decode("utf-8")
        is_utf8 = any(b > 0x7F for b in data)
    except UnicodeDecodeError:
        is_utf8 = False
    if is_utf8:
        raise ExchangeError(
            _("文件是 UTF-8 编码,与接口约定的 GB18030 编码不符,整个文件未导入。"), code="encoding", field="file", row=0
        )
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        raise ExchangeError(
            _("第 %(row)s 行不是有效的 GB18030 编码,整个文件未导入。") % {"row": max(line - 1, 0)},
            code="encoding",
            field="file",
            row=max(line - 1, 0),
        ) from exc


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return str(value).strip()


def _blank(values: Mapping[str, Any]) -> bool:
    return all(v in (None, "") for v in values.values())


def read_file(feed: Feed, data: bytes) -> FileContent:
    """The header and rows of a file in the feed's format; the file is refused as a whole when unreadable."""
    rows: list[tuple[int, dict[str, Any] | None, str]] = []
    header: list[str] = []
    if feed.file_format == FileFormat.XLSX:
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook is one refusal
            raise ExchangeError(_("不是有效的 Excel(XLSX)文件,整个文件未导入。"), code="format", field="file", row=0) from exc
        sheet = book.worksheets[0]
        it = sheet.iter_rows(values_only=True)
        first = next(it, None)
        header = [_cell(v) for v in (first or ())]
        for n, values in enumerate(it, start=1):
            record = {h: _cell(v) for h, v in zip(header, values, strict=False) if h}
            if not _blank(record):
                rows.append((n, record, ""))
        book.close()
    elif feed.file_format == FileFormat.JSONL:
        text = decode(data, feed.encoding)
        seen: dict[str, None] = {}
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                rows.append((n, None, _("第 %(row)s 行不是有效的 JSON。") % {"row": n}))
                continue
            if not isinstance(obj, dict):
                rows.append((n, None, _("第 %(row)s 行不是 JSON 对象。") % {"row": n}))
                continue
            record = {str(k): _cell(v) for k, v in obj.items()}
            seen.update(dict.fromkeys(record))
            rows.append((n, record, ""))
        header = list(seen)
    else:
        text = decode(data, feed.encoding)
        reader = csv.reader(io.StringIO(text, newline=""))
        first_row = next(reader, None)
        header = [h.strip() for h in (first_row or [])]
        for n, values in enumerate(reader, start=1):
            record = {h: v.strip() for h, v in zip(header, values, strict=False) if h}
            if not _blank(record):
                rows.append((n, record, ""))
    if feed.file_format != FileFormat.JSONL:
        missing = [(column, target) for column, target in feed.mapping.items() if column not in header]
        if missing:
            names = "、".join(f"“{c}”" for c, _t in missing)
            raise ExchangeError(
                _("文件缺少接口约定的列 %(columns)s,整个文件未导入。") % {"columns": names},
                code="missing_column",
                field=missing[0][1],
                row=0,
                extra=missing,
            )
    return FileContent(header=header, rows=rows)


# --- validating -----------------------------------------------------------------------------------


def row_key(cleaned: Mapping[str, Any]) -> str:
    """A keyed digest of a row's cleaned values: the same record sent twice has the same key."""
    canonical = json.dumps({k: cleaned.get(k) for k in (*PERSON_KEYS, *EXTRA_KEYS)}, sort_keys=True, default=str, ensure_ascii=False)
    return hmac.new(settings.ZHUCHENG_HASH_KEY.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def _grid_codes(codes: set[str]) -> set[str]:
    if not codes:
        return set()
    return set(OrgUnit.objects.filter(code__in=codes, kind=OrgUnitKind.GRID).values_list("code", flat=True))


def clean_row(mapped: Mapping[str, Any], *, row: int, today: date, grids: set[str]) -> tuple[dict[str, Any], list[standard.Violation]]:
    """One row's standard fields, cleaned, and the violations that refuse it."""
    cleaned, errors = standard.clean_person(mapped, row=row, today=today)
    no_id = any(v.code == "required" and v.field in ("id_number", "doc_number") for v in errors)
    # A missing identifier does not stop linking on the other fields (the row is held if unmatched).
    errors = [v for v in errors if not (v.code == "required" and v.field in ("id_number", "doc_number"))]
    if no_id and not cleaned.get("birth_date") and not any(v.field == "birth_date" for v in errors):
        errors.append(standard.violation("birth_date", "required", row=row))
    text = standard.text
    cleaned["grid_code"] = text(mapped.get("grid_code"))
    if cleaned["grid_code"] and cleaned["grid_code"] not in grids:
        errors.append(standard.violation("grid_code", "unknown_grid", row=row, value=cleaned["grid_code"]))
    door = " ".join(p for p in (text(mapped.get("door_plate")), text(mapped.get("unit_number"))) if p)
    cleaned["address"] = text(mapped.get("address")) or door
    cleaned["source_key"] = text(mapped.get("source_key"))[:80]
    if cleaned.get("birth_date"):
        cleaned["birth_date"] = cleaned["birth_date"].isoformat()
    return cleaned, errors


def _fast_cleaned(mapped_rows: list[dict[str, Any]], today: date) -> tuple[dict[int, dict[str, Any]], dict[int, list[standard.Violation]]]:
    """Person fields of the rows the registry's vectorised check accepts (``clean_import_batch``), by index.

    The vectorised twin gives exactly what ``clean_person`` would for these rows, hundreds of times
    faster; every other row (a fault, a missing ID, an unusual spelling) goes through ``clean_row``.
    Location and employment columns are not the feed's business here, so they are left out (the
    grid code, when mapped, is checked by ``clean_row``'s rule against the places tree).
    """
    import pyarrow as pa

    from zhucheng.registry.standard_batch import clean_import_batch

    if not mapped_rows:
        return {}, {}
    columns = ("name", "doc_type", "id_number", "doc_number", "nationality", "phone", "sex", "birth_date", "ethnicity", "hukou_place", "education", "employment_status")
    data = {c: [str(r.get(c) or "") for r in mapped_rows] for c in columns}
    data["grid_code"] = ["-"] * len(mapped_rows)  # stands for "located": the feed row's grid is checked apart
    result = clean_import_batch(pa.table(data), first_row=0, today=today)
    out: dict[int, dict[str, Any]] = {}
    for rec in result.table.select(["row", *PERSON_KEYS]).to_pylist():
        index = int(rec.pop("row"))
        rec["birth_date"] = rec["birth_date"].isoformat() if rec["birth_date"] else None
        out[index] = rec
    rejects: dict[int, list[standard.Violation]] = {}
    for v in result.rejects:
        rejects.setdefault(int(v.row or 0), []).append(v)
    return out, rejects


def validate(feed: Feed, content: FileContent, *, today: date | None = None, progress: ProgressFn | None = None) -> Validation:
    """Sort the file's rows into good rows and issues (nothing is written)."""
    today = today or timezone.localdate()
    out = Validation(received=len(content.rows))
    by_target = {target: column for column, target in feed.mapping.items()}
    grids = _grid_codes(
        {str(raw.get(by_target["grid_code"], "")).strip() for _n, raw, _e in content.rows if raw} if "grid_code" in by_target else set()
    )
    readable = [(n, raw) for n, raw, _e in content.rows if raw is not None]
    mapped_rows = [{target: raw.get(column, "") for column, target in feed.mapping.items()} for _n, raw in readable]
    fast, refused = _fast_cleaned(mapped_rows, today)
    for n, raw, reading_error in content.rows:
        if raw is None:
            out.issues.append(Issue(n, "", "format", reading_error))
    seen_keys: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    total = len(readable)
    text = standard.text
    for i, ((n, raw), mapped) in enumerate(zip(readable, mapped_rows, strict=True)):
        if progress is not None and ((i + 1) % 2000 == 0 or i + 1 == total):
            progress(i + 1, total)
        accepted = fast.get(i)
        grid = text(mapped.get("grid_code"))
        cleaned: dict[str, Any]
        if accepted is not None and (not grid or grid in grids):
            door = " ".join(p for p in (text(mapped.get("door_plate")), text(mapped.get("unit_number"))) if p)
            cleaned = {**accepted, "grid_code": grid, "address": text(mapped.get("address")) or door, "source_key": text(mapped.get("source_key"))[:80]}
        else:
            errors = refused.get(i, [])
            if not errors or any(v.code == "required" and v.field in ("id_number", "doc_number") for v in errors):
                # Accepted but with a grid to check, or missing an ID (allowed here): the scalar rule decides.
                cleaned, errors = clean_row(mapped, row=n, today=today, grids=grids)
            else:
                errors = [v.at_row(n) for v in errors]
                if grid and grid not in grids:
                    errors.append(standard.violation("grid_code", "unknown_grid", row=n, value=grid))
            if errors:
                for v in errors:
                    out.issues.append(Issue(n, v.field, v.code, v.message_zh, by_target.get(v.field, ""), raw))
                continue
        key = row_key(cleaned)
        ident = cleaned.get("id_number") or (cleaned.get("doc_number") and f"{cleaned['doc_type']}:{cleaned['doc_number']}") or ""
        first = seen_keys.get(key) or (seen_ids.get(ident) if ident else None)
        if first is not None:
            v = standard.violation("id_number" if ident else "name", "duplicate_in_file", row=n, other_value=str(first))
            out.issues.append(Issue(n, v.field, v.code, v.message_zh, by_target.get(v.field, ""), raw))
            continue
        seen_keys[key] = n
        if ident:
            seen_ids[ident] = n
        out.good.append(GoodRow(n, dict(raw), cleaned, key))
    out.issues.sort(key=lambda issue: issue.row)
    return out


def issues_xlsx(issues: list[Issue] | list[Any], *, title: str) -> bytes:
    """The error report (错误报告) as an XLSX workbook: row, field, column, reason, raw values."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("隔离行")
    sheet.append([title])
    sheet["A1"].font = Font(bold=True)
    sheet.append([_("行号(表头后第几行,0 为整个文件)"), _("字段"), _("源列名"), _("原因代码"), _("原因"), _("原始内容")])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for issue in issues:
        raw = issue.raw
        raw_text = raw if isinstance(raw, str) else (json.dumps(dict(raw), ensure_ascii=False) if raw else "")
        label = standard.FIELD_LABELS.get(issue.field, (issue.field, issue.field))[0] if issue.field else ""
        sheet.append([issue.row, label, issue.column, issue.code, issue.message, raw_text])
    for col, width in zip("ABCDEF", (14, 14, 16, 18, 60, 80), strict=True):
        sheet.column_dimensions[col].width = width
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
