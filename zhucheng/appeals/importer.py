"""Bulk import of historical appeals (历史诉求导入) from CSV or XLSX, through the intake service.

Every row is checked first and every problem is listed as (spreadsheet row, column, reason);
nothing is written on a dry run. With ``commit=True`` each good row goes in on its own
transaction via ``services.appeal_submit`` (and ``services.appeal_record_history`` when the
file carries the handling outcome), rows with errors are skipped and reported. A row whose
``来源编号`` was already imported on the same channel is skipped, so a file can be re-run.

Columns (Chinese headers or English aliases; order free, unknown columns ignored): see
``COLUMNS``. CSV may be UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030; comma or
tab separated. Without a ``类型`` column, letters and visits are petitions (信访), the rest appeals.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from zhucheng.core.identifiers import validate_mobile, validate_resident_id
from zhucheng.places import geo
from zhucheng.places.models import Department, OrgUnit

from . import services
from .errors import AppealError
from .models import Appeal, AppealKind, Category, Channel, Outcome, Satisfaction, Urgency

__all__ = ["COLUMNS", "ImportReport", "RowError", "import_file", "write_error_report"]

TITLE_MAX = Appeal._meta.get_field("title").max_length or 120
DESCRIPTION_MAX = 4000  # as intake.MAX_DESCRIPTION
SOURCE_REF_MAX = Appeal._meta.get_field("source_ref").max_length or 80
_IN_CHUNK = 900  # stays under SQLite's historical 999-parameter limit
_FUTURE_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Chinese header, used when the column is missing from the file
    aliases: tuple[str, ...]
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("source_ref", "来源编号", ("source_ref", "source", "原编号", "原始编号"), required=True),
    Column("kind", "类型", ("kind", "诉求类型")),
    Column("channel", "渠道", ("channel", "来源渠道", "受理渠道")),
    Column("title", "标题", ("title",)),
    Column("description", "内容", ("description", "诉求内容", "content"), required=True),
    Column("category", "分类编码", ("category", "category_code", "分类")),
    Column("urgency", "紧急程度", ("urgency",)),
    Column("address", "地址", ("address",)),
    Column("lat", "纬度", ("lat", "latitude")),
    Column("lon", "经度", ("lon", "lng", "longitude")),
    Column("unit_code", "区划编码", ("unit_code", "unit")),
    Column("name", "诉求人", ("name", "姓名", "诉求人姓名")),
    Column("phone", "电话", ("phone", "联系电话", "手机", "手机号")),
    Column("id_number", "身份证号", ("id_number", "身份证号码")),
    Column("submitted_at", "提交时间", ("submitted_at", "受理时间", "登记时间"), required=True),
    Column("department_code", "承办部门编码", ("department_code", "department")),
    Column("outcome", "处理结果", ("outcome",)),
    Column("reply", "答复内容", ("reply", "reply_text")),
    Column("replied_at", "答复时间", ("replied_at",)),
    Column("closed_at", "办结时间", ("closed_at",)),
    Column("rating", "满意度", ("rating",)),
)
_HISTORY_KEYS = ("outcome", "reply", "replied_at", "closed_at", "rating")


@dataclass
class RowError:
    row: int  # as the spreadsheet shows it: the header is row 1
    column: str  # the header as written in the file ("" for the whole row)
    reason: str
    source_ref: str = ""


@dataclass
class ImportReport:
    total: int = 0
    imported: int = 0
    skipped_existing: int = 0
    errors: list[RowError] = field(default_factory=list)
    ready: int = 0  # rows that passed every check (imported on commit)
    committed: bool = False
    skipped_rows: list[tuple[int, str]] = field(default_factory=list)  # (row, source_ref) already imported
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def failed_rows(self) -> int:
        return len({e.row for e in self.errors})


# --- reading the file ------------------------------------------------------------------------


def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # What Excel and WPS on a Chinese Windows save "CSV" as.
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise AppealError(_("无法识别文件编码：请另存为 UTF-8 或 GB18030 编码的 CSV，或 XLSX。"), code="bad_file") from None


def _read_csv(path: Path) -> Iterator[tuple[int, list[Any]]]:
    text = _decode(path.read_bytes())
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    # Excel shows a quoted multi-line cell in one row, so the record index is the row number.
    for index, record in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
        yield index, list(record)


def _read_xlsx(path: Path) -> Iterator[tuple[int, list[Any]]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise AppealError(_("无法打开 XLSX 文件：%(why)s") % {"why": exc}, code="bad_file") from None
    try:
        sheet = workbook.worksheets[0]
        for index, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield index, list(values)
    finally:
        workbook.close()


def _read_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise AppealError(_("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV。"), code="bad_file")
    with path.open("rb") as fh:
        is_zip = fh.read(4) == b"PK\x03\x04"
    if suffix in (".xlsx", ".xlsm") or is_zip:
        return _read_xlsx(path)
    return _read_csv(path)


def _header_key(text: Any) -> str:
    s = unicodedata.normalize("NFKC", str(text or "")).strip().lower()
    s = re.sub(r"\(.*?\)|\[.*?\]", "", s)  # "纬度(WGS84)", "来源编号(必填)"
    return re.sub(r"[\s*_\-:]+", "", s)


_ALIASES: dict[str, Column] = {}
for _col in COLUMNS:
    for _name in (_col.key, _col.header, *_col.aliases):
        _ALIASES[_header_key(_name)] = _col


# --- value parsing ----------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 1001 and 13800000000 as floats
    return unicodedata.normalize("NFC", str(value)).strip()


def _with_labels(choices: Any, extra: dict[str, str] | None = None) -> dict[str, str]:
    out = {_header_key(v): v for v in choices.values}
    with translation.override(settings.LANGUAGE_CODE):  # the Chinese labels, whatever language runs the command
        out.update({_header_key(str(label)): v for v, label in choices.choices})
    out.update({_header_key(k): v for k, v in (extra or {}).items()})
    return out


def _lookups() -> dict[str, dict[str, str]]:
    return {
        "kind": _with_labels(AppealKind, {"诉求": "appeal", "民意": "appeal", "信访件": "petition"}),
        "channel": _with_labels(
            Channel,
            {
                "热线": "hotline", "12345": "hotline", "电话": "hotline",
                "网上信访": "portal", "网站": "portal", "网络": "portal", "app": "portal", "微信": "portal",
                "信件": "letter", "来访接待": "visit", "走访": "visit", "网格": "grid", "导入": "import",
            },
        ),
        "urgency": _with_labels(Urgency, {"普通": "normal", "急": "urgent", "特急": "urgent"}),
        "outcome": _with_labels(Outcome),
        "rating": _with_labels(Satisfaction, {"比较满意": "basic"}),
    }


def _local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
    "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M", "%Y.%m.%d",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H时%M分", "%Y年%m月%d日",
    "%Y%m%d",
)  # fmt: skip


def _parse_datetime(value: Any) -> datetime:
    """A local (Asia/Shanghai) or offset-carrying time; raises ValueError."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    else:
        text = unicodedata.normalize("NFKC", _text(value))
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            for fmt in _DATE_FORMATS:
                try:
                    parsed = datetime.strptime(text, fmt)  # noqa: DTZ007 — made aware just below
                    break
                except ValueError:
                    continue
            else:
                raise ValueError(text) from None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=_local_tz())
    return parsed


# --- validation -------------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    raw: dict[str, Any]
    errors: list[RowError] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    history: dict[str, Any] | None = None


class _Context:
    """Everything a row check needs from the database, fetched in a few queries for the whole file."""

    def __init__(self, rows: Sequence[_Row], headers: dict[str, str]) -> None:
        self.headers = headers
        self.choices = _lookups()
        self.categories = self._fetch(Category, {_text(r.raw.get("category")).upper() for r in rows})
        self.units = self._fetch(OrgUnit, {_text(r.raw.get("unit_code")) for r in rows})
        self.departments = self._fetch(Department, {_text(r.raw.get("department_code")) for r in rows})
        self.now = timezone.now()

    @staticmethod
    def _fetch(model: Any, codes: set[str]) -> dict[str, Any]:
        wanted = sorted(c for c in codes if c)
        found: dict[str, Any] = {}
        for start in range(0, len(wanted), _IN_CHUNK):
            for obj in model.objects.filter(code__in=wanted[start : start + _IN_CHUNK]):
                found[obj.code] = obj
        return found

    def header(self, key: str) -> str:
        return self.headers.get(key) or next(c.header for c in COLUMNS if c.key == key)


def _existing_refs(pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    by_channel: dict[str, list[str]] = {}
    for channel, ref in pairs:
        by_channel.setdefault(channel, []).append(ref)
    found: set[tuple[str, str]] = set()
    for channel, refs in by_channel.items():
        refs.sort()
        for start in range(0, len(refs), _IN_CHUNK):
            chunk = refs[start : start + _IN_CHUNK]
            for ref in Appeal.objects.filter(channel=channel, source_ref__in=chunk).values_list("source_ref", flat=True):
                found.add((channel, ref))
    return found


def _check_row(row: _Row, ctx: _Context) -> None:
    """Fill ``row.values`` (the arguments for the services) and ``row.errors``; touches no database."""
    raw, v = row.raw, row.values

    def err(key: str, reason: str) -> None:
        row.errors.append(RowError(row.number, ctx.header(key), reason, v.get("source_ref", "")))

    def choice(key: str, default: str) -> str:
        text = _text(raw.get(key))
        if not text:
            return default
        value = ctx.choices[key].get(_header_key(text))
        if value is None:
            err(key, _("无法识别“%(v)s”。") % {"v": text})
            return default
        return value

    v["source_ref"] = _text(raw.get("source_ref"))
    if not v["source_ref"]:
        err("source_ref", _("来源编号不能为空（用于防止重复导入）。"))
    elif len(v["source_ref"]) > SOURCE_REF_MAX:
        err("source_ref", _("来源编号不能超过 %(n)s 个字符。") % {"n": SOURCE_REF_MAX})
    v["channel"] = choice("channel", Channel.IMPORT)
    default_kind = AppealKind.PETITION if v["channel"] in (Channel.LETTER, Channel.VISIT) else AppealKind.APPEAL
    v["kind"] = choice("kind", default_kind)
    v["urgency"] = choice("urgency", Urgency.NORMAL)

    description = _text(raw.get("description"))
    if not description:
        err("description", _("诉求内容不能为空。"))
    elif len(description) > DESCRIPTION_MAX:
        err("description", _("诉求内容不能超过 %(limit)s 个字（现有 %(n)s 个）。") % {"limit": DESCRIPTION_MAX, "n": len(description)})
    title = _text(raw.get("title"))
    if not title and description:
        # Old ledgers often have no title: the opening words of the description stand in.
        title = re.split(r"[。！？!?\n]", description, maxsplit=1)[0][:30] or description[:30]
    if len(title) > TITLE_MAX:
        err("title", _("标题不能超过 %(limit)s 个字（现有 %(n)s 个）。") % {"limit": TITLE_MAX, "n": len(title)})
    v["title"], v["description"] = title, description
    v["address"] = _text(raw.get("address"))[:200]

    v["category"] = None
    code = _text(raw.get("category")).upper()
    if code:
        category = ctx.categories.get(code)
        if category is None:
            err("category", _("分类编码“%(v)s”不存在。") % {"v": code})
        elif category.parent_id is None:
            err("category", _("“%(v)s”是一级分类，请填写二级分类编码（如 CG01）。") % {"v": code})
        elif not category.is_active:
            err("category", _("分类“%(v)s”已停用。") % {"v": code})
        else:
            v["category"] = category

    _check_location(raw, v, ctx, err)
    _check_petitioner(raw, v, err)
    v["submitted_at"] = _check_time(raw, "submitted_at", ctx, err)
    _check_history(row, ctx, err)


def _check_location(raw: dict[str, Any], v: dict[str, Any], ctx: _Context, err: Any) -> None:
    v["lat"] = v["lon"] = v["unit"] = None
    lat_text, lon_text = _text(raw.get("lat")), _text(raw.get("lon"))
    unit_code = _text(raw.get("unit_code"))
    unit = ctx.units.get(unit_code) if unit_code else None
    if unit_code and unit is None:
        err("unit_code", _("区划编码“%(v)s”不存在。") % {"v": unit_code})
    elif unit is not None and not unit.is_active:
        err("unit_code", _("区划“%(v)s”已停用。") % {"v": unit_code})
        unit = None
    if lat_text or lon_text:
        if not (lat_text and lon_text):
            err("lat" if not lat_text else "lon", _("纬度和经度须同时填写。"))
            return
        try:
            lat, lon = float(lat_text), float(lon_text)
        except ValueError:
            err("lat", _("坐标须为数字：纬度“%(lat)s”，经度“%(lon)s”。") % {"lat": lat_text, "lon": lon_text})
            return
        if not (-90 <= lat <= 90 and -180 <= lon <= 180) or geo.locate_unit_id(lat, lon) is None:
            reason = _("坐标（纬度 %(lat)s，经度 %(lon)s）不在本市任何区划内。") % {"lat": lat_text, "lon": lon_text}
            if -90 <= lon <= 90 and -180 <= lat <= 180 and geo.locate_unit_id(lon, lat) is not None:
                reason += _("纬度和经度是否填反了？")
            err("lat", reason)
            return
        v["lat"], v["lon"] = lat, lon
    elif unit is not None:
        v["unit"] = unit
    elif not unit_code:
        err("lat", _("请填写纬度和经度，或填写区划编码。"))


def _check_petitioner(raw: dict[str, Any], v: dict[str, Any], err: Any) -> None:
    name, phone, id_number = _text(raw.get("name"))[:60], _text(raw.get("phone")), _text(raw.get("id_number"))
    if phone:
        try:
            phone = validate_mobile(phone)
        except ValidationError as exc:
            err("phone", _("手机号“%(v)s”无效：%(why)s") % {"v": phone, "why": " ".join(exc.messages)})
    elif v["channel"] in (Channel.PORTAL, Channel.OPEN311):
        # appeal_submit requires a phone for self-service channels; say so now, not halfway through.
        err("phone", _("网上渠道的诉求须有手机号。"))
    if id_number:
        try:
            id_number = validate_resident_id(id_number)
        except ValidationError as exc:
            reason = " ".join(exc.messages)
            if isinstance(raw.get("id_number"), (int, float)):
                reason += _("（该单元格是数字格式，Excel 会丢失 15 位以后的数字；请把该列设为文本后重新填写。）")
            err("id_number", _("身份证号无效：%(why)s") % {"why": reason})
    v["petitioners"] = (
        [services.PetitionerInput(name=name, phone=phone, id_number=id_number)] if (name or phone or id_number) else []
    )


def _check_time(raw: dict[str, Any], key: str, ctx: _Context, err: Any, *, required: bool = True) -> datetime | None:
    value = raw.get(key)
    if value is None or _text(value) == "":
        if required:
            err(key, _("不能为空。"))
        return None
    try:
        parsed = _parse_datetime(value)
    except ValueError:
        err(key, _("无法识别的时间“%(v)s”，请写成 2025-03-01 14:30 的格式。") % {"v": _text(value)})
        return None
    if parsed > ctx.now + _FUTURE_SLACK:
        err(key, _("时间“%(v)s”晚于现在。") % {"v": _text(value)})
        return None
    return parsed


def _check_history(row: _Row, ctx: _Context, err: Any) -> None:
    raw, v = row.raw, row.values
    present = [k for k in _HISTORY_KEYS if _text(raw.get(k))]
    department_code = _text(raw.get("department_code"))
    if not present:
        if department_code:
            err("department_code", _("填写了承办部门，但没有处理结果、答复内容和答复时间。"))
        return
    department = None
    if department_code:
        department = ctx.departments.get(department_code)
        if department is None:
            err("department_code", _("部门编码“%(v)s”不存在。") % {"v": department_code})
    outcome = _text(raw.get("outcome"))
    outcome_value = ctx.choices["outcome"].get(_header_key(outcome)) if outcome else None
    if not outcome:
        err("outcome", _("有答复信息时须填写处理结果（支持、解释或不予支持）。"))
    elif outcome_value is None:
        err("outcome", _("处理结果“%(v)s”无效，应为支持、解释或不予支持。") % {"v": outcome})
    reply = _text(raw.get("reply"))
    if not reply:
        err("reply", _("有处理结果时须填写答复内容。"))
    elif len(reply) > DESCRIPTION_MAX:
        err("reply", _("答复内容不能超过 %(limit)s 个字。") % {"limit": DESCRIPTION_MAX})
    replied_at = _check_time(raw, "replied_at", ctx, err)
    closed_at = _check_time(raw, "closed_at", ctx, err, required=False)
    submitted_at = v.get("submitted_at")
    if replied_at and submitted_at and replied_at < submitted_at:
        err("replied_at", _("答复时间早于提交时间。"))
    if replied_at and closed_at and closed_at < replied_at:
        err("closed_at", _("办结时间早于答复时间。"))
    rating_text = _text(raw.get("rating"))
    rating = ctx.choices["rating"].get(_header_key(rating_text)) if rating_text else None
    if rating_text and rating is None:
        err("rating", _("满意度“%(v)s”无效，应为满意、基本满意或不满意。") % {"v": rating_text})
    row.history = {
        "department": department,
        "outcome": outcome_value,
        "reply_text": reply,
        "replied_at": replied_at,
        "closed_at": closed_at,
        "rating": rating,
    }


# --- the import -------------------------------------------------------------------------------

# appeal_submit / appeal_record_history field → our column key, to name the column of a late refusal.
_FIELD_COLUMNS = {
    "title": "title",
    "description": "description",
    "category": "category",
    "kind": "kind",
    "channel": "channel",
    "urgency": "urgency",
    "location": "lat",
    "petitioners[0].phone": "phone",
    "petitioners[0].id_number": "id_number",
    "outcome": "outcome",
    "reply": "reply",
    "replied_at": "replied_at",
    "closed_at": "closed_at",
    "rating": "rating",
}


def _map_headers(header_row: list[Any], report: ImportReport) -> tuple[dict[int, str], dict[str, str]]:
    """(cell index → column key, column key → header as written); header problems go to the report."""
    positions: dict[int, str] = {}
    written: dict[str, str] = {}
    for index, cell in enumerate(header_row):
        text = _text(cell)
        if not text:
            continue
        column = _ALIASES.get(_header_key(text))
        if column is None:
            report.ignored_columns.append(text)
            continue
        if column.key in written:
            report.errors.append(RowError(1, text, _("与“%(first)s”是同一列，重复了。") % {"first": written[column.key]}))
            continue
        positions[index] = column.key
        written[column.key] = text
    for column in COLUMNS:
        if column.required and column.key not in written:
            report.errors.append(RowError(1, column.header, _("缺少必需的列“%(name)s”。") % {"name": column.header}))
    if not ({"lat", "lon"} <= set(written) or "unit_code" in written):
        report.errors.append(RowError(1, _("纬度/经度"), _("缺少位置列：需要“纬度”和“经度”两列，或“区划编码”列。")))
    return positions, written


def import_file(path: str | Path, *, actor: Any, commit: bool) -> ImportReport:
    """Check every row of the file; with ``commit`` import the good rows, one transaction each."""
    path = Path(path)
    report = ImportReport(committed=commit)
    rows_iter = _read_rows(path)
    header_row: list[Any] | None = None
    header_number = 1
    for number, values in rows_iter:
        if any(_text(c) for c in values):
            header_row, header_number = values, number
            break
    if header_row is None:
        report.errors.append(RowError(1, "", _("文件是空的：没有表头行。")))
        return report
    positions, written = _map_headers(header_row, report)

    rows: list[_Row] = []
    for number, values in rows_iter:
        raw = {key: values[i] for i, key in positions.items() if i < len(values)}
        if not any(_text(val) for val in raw.values()):
            continue  # blank lines between blocks are common in hand-kept ledgers
        rows.append(_Row(number=number, raw=raw))
    report.total = len(rows)
    if header_number != 1:
        for error in report.errors:
            if error.row == 1:
                error.row = header_number
    if report.errors:
        return report  # without the required columns no row can be checked

    ctx = _Context(rows, written)
    for row in rows:
        _check_row(row, ctx)
    existing = _existing_refs({(r.values["channel"], r.values["source_ref"]) for r in rows if r.values.get("source_ref")})
    seen: dict[tuple[str, str], int] = {}
    todo: list[_Row] = []
    for row in rows:
        key = (row.values["channel"], row.values["source_ref"])
        if row.values["source_ref"] and key in existing:
            report.skipped_existing += 1
            report.skipped_rows.append((row.number, row.values["source_ref"]))
            continue
        if row.values["source_ref"]:
            if key in seen:
                row.errors.append(
                    RowError(
                        row.number,
                        ctx.header("source_ref"),
                        _("来源编号与第 %(n)s 行重复。") % {"n": seen[key]},
                        row.values["source_ref"],
                    )
                )
            else:
                seen[key] = row.number
        if row.errors:
            report.errors.extend(row.errors)
        else:
            todo.append(row)
    report.ready = len(todo)
    if commit:
        for row in todo:
            _commit_row(row, actor, ctx, report)
    return report


def _commit_row(row: _Row, actor: Any, ctx: _Context, report: ImportReport) -> None:
    v = row.values
    try:
        with transaction.atomic():
            result = services.appeal_submit(
                actor=actor,
                channel=v["channel"],
                kind=v["kind"],
                title=v["title"],
                description=v["description"],
                category=v["category"],
                urgency=v["urgency"],
                address=v["address"],
                lat=v["lat"],
                lon=v["lon"],
                unit=v["unit"],
                petitioners=v["petitioners"],
                submitted_at=v["submitted_at"],
                source_ref=v["source_ref"],
            )
            if row.history is not None:
                services.appeal_record_history(actor=actor, appeal=result.appeal, **row.history)
    except AppealError as exc:
        column = _FIELD_COLUMNS.get(exc.field)
        report.errors.append(RowError(row.number, ctx.header(column) if column else "", exc.message, v["source_ref"]))
        return
    except IntegrityError:
        # Imported by a concurrent run between our check and this row: the unique (channel, source_ref) held.
        if Appeal.objects.filter(channel=v["channel"], source_ref=v["source_ref"]).exists():
            report.skipped_existing += 1
            report.skipped_rows.append((row.number, v["source_ref"]))
            return
        raise
    report.imported += 1


def write_error_report(report: ImportReport, path: str | Path) -> None:
    """The errors as a spreadsheet (XLSX when the name ends in .xlsx, else CSV with BOM for Excel)."""
    path = Path(path)
    header = [_("行号"), _("来源编号"), _("列"), _("原因")]
    lines = [[e.row, e.source_ref, e.column, e.reason] for e in sorted(report.errors, key=lambda e: e.row)]
    if path.suffix.lower() == ".xlsx":
        import openpyxl

        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet(_("错误"))
        sheet.append(header)
        for line in lines:
            sheet.append(line)
        workbook.save(path)
        return
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(lines)
