"""The collection standard for bulk imports: the row format of ``load_registry`` and its vectorised check.

``clean_import_row`` is the rule for one import row (``standard.clean_person`` plus location,
residence and employment columns). ``clean_import_batch`` checks a whole Arrow batch with
vectorised operations and takes the *fast path* only for rows whose every value is already in
canonical form and passes every rule; all other rows go through ``clean_import_row``, so a
reject always carries the same reasons a form would show. Tests hold the two paths equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from stdnum import numdb

from .models import Sex

if TYPE_CHECKING:
    import pyarrow as pa

    from .standard import Violation

# Import columns: name → (what it holds, accepted header spellings besides the name).
IMPORT_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "name": ("姓名(必填)", ("姓名",)),
    "doc_type": ("证件类型:resident_id/居民身份证(默认)、passport/外国护照、hk_macao、taiwan", ("证件类型",)),
    "id_number": ("公民身份号码(居民身份证必填)", ("公民身份号码", "身份证号码", "身份证号")),
    "doc_number": ("其他证件号码(非居民身份证必填)", ("证件号码",)),
    "nationality": ("国籍/地区(护照必填)", ("国籍", "国籍/地区")),
    "phone": ("联系电话:手机或带区号固话", ("联系电话", "手机号码", "电话")),
    "sex": ("性别:M/F/男/女(可空,取自身份证号码)", ("性别",)),
    "birth_date": ("出生日期 YYYY-MM-DD(可空,取自身份证号码)", ("出生日期",)),
    "ethnicity": ("民族", ("民族",)),
    "hukou_place": ("户籍地", ("户籍地", "户籍地址")),
    "education": ("文化程度(代码或中文)", ("文化程度", "学历")),
    "employment_status": ("就业状况(代码或中文)", ("就业状况",)),
    "grid_code": ("网格编码(无门牌时必填)", ("网格编码",)),
    "door_plate": ("门牌(与室号一起定位房屋单元,须已登记)", ("门牌", "门牌号")),
    "unit_number": ("室号", ("室号", "房号")),
    "residence_kind": ("人口类别:permanent/户籍人口、migrant/流动人口(有门牌时必填)", ("人口类别",)),
    "from_date": ("入住日期 YYYY-MM-DD(有门牌时必填)", ("入住日期", "居住起始日期")),
    "employer": ("工作单位(与职业同填)", ("工作单位", "就业单位")),
    "occupation": ("职业", ("职业",)),
    "employment_from": ("就业开始日期 YYYY-MM-DD", ("就业开始日期",)),
}
HEADER_ALIASES: dict[str, str] = {alias: name for name, (_, aliases) in IMPORT_COLUMNS.items() for alias in (name, *aliases)}

# Output columns of a cleaned import row (in this order) and their Arrow types.
CLEAN_COLUMNS: tuple[str, ...] = (
    "row", "name", "doc_type", "id_number", "doc_number", "nationality", "phone", "sex", "birth_date", "ethnicity",
    "hukou_place", "education", "employment_status", "grid_code", "door_plate", "unit_number", "residence_kind",
    "from_date", "employer", "occupation", "employment_from",
)  # fmt: skip
_DATE_COLUMNS = ("birth_date", "from_date", "employment_from")

_WEIGHTS = np.array([2 ** (17 - i) % 11 for i in range(17)], dtype=np.int64)
_CHECK_CHARS = np.frombuffer(b"10X98765432", dtype=np.uint8)
_CJK_NAME = r"^[\x{3400}-\x{4dbf}\x{4e00}-\x{9fff}]{1,60}$"
_NO_SPACE = r"^\S*$"
_PLAIN_TEXT = r"^(\S+( \S+)*)?$"  # what text() leaves unchanged
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"


def _std() -> Any:
    from . import standard

    return standard


def clean_import_row(
    data: Mapping[str, Any], *, row: int | None = None, today: date | None = None
) -> tuple[dict[str, Any], list[Violation]]:
    """One import row: the person, then where they live (grid, or door plate + unit with a residence), then work."""
    std = _std()
    from django.utils import timezone

    today = today or timezone.localdate()
    out, errors = std.clean_person(data, row=row, today=today)
    text = std.text
    for key in ("grid_code", "door_plate", "unit_number", "employer", "occupation"):
        out[key] = text(data.get(key))
    out["residence_kind"], out["from_date"], out["employment_from"] = "", None, None
    if out["door_plate"] or out["unit_number"]:
        for key in ("door_plate", "unit_number"):
            if not out[key]:
                errors.append(std.violation(key, "required", row=row))
        if not text(data.get("residence_kind")):
            errors.append(std.violation("residence_kind", "required", row=row))
        else:
            std._choice(out, errors, data, "residence_kind", std.RESIDENCE_KIND_SPELLINGS, row)
        std._date_field(out, errors, data, "from_date", row, today, required=True)
    elif not out["grid_code"]:
        errors.append(std.violation("grid_code", "location_missing", row=row))
    if out["employer"] or out["occupation"]:
        for key, limit in (("employer", 200), ("occupation", 100)):
            if not out[key]:
                errors.append(std.violation(key, "required", row=row))
            std._max_len(out, errors, key, limit, row)
        std._date_field(out, errors, data, "employment_from", row, today, required=False)
    for key, limit in (("grid_code", 40), ("door_plate", 120), ("unit_number", 40)):
        std._max_len(out, errors, key, limit, row)
    out["row"] = row
    return out, errors


@dataclass
class BatchResult:
    """Cleaned good rows (Arrow table with ``CLEAN_COLUMNS``) and the violations of the rejected rows."""

    table: pa.Table
    rejects: list[Violation] = field(default_factory=list)
    fast_rows: int = 0


@lru_cache(maxsize=8192)
def _region_known(prefix: str) -> bool:
    """``core.identifiers``' rule: the six digits are one entry of ``cn/loc`` that has names."""
    parts = numdb.get("cn/loc").info(prefix)
    return len(parts) == 1 and parts[0][0] == prefix and bool(parts[0][1])


@lru_cache(maxsize=1)
def _known_regions() -> pa.Array | None:
    """Every six-digit code ``_region_known`` accepts, as an Arrow array for ``is_in``, or None when
    the table has a shape (ranges, other lengths, nesting) this shortcut does not cover."""
    import pyarrow as pa

    codes: list[str] = []
    for length, low, high, props, children in numdb.get("cn/loc").prefixes:
        if length != 6 or low != high or children or not (len(low) == 6 and low.isdigit()):
            return None
        if props:
            codes.append(low)
    return pa.array(sorted(set(codes)), type=pa.string())


def _strings(table: pa.Table, name: str) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    if name not in table.column_names:
        return pa.array([""] * table.num_rows, type=pa.string())
    col = table.column(name).combine_chunks()
    if not pa.types.is_string(col.type):
        col = pc.cast(col, pa.string())
    return pc.fill_null(col, "") if col.null_count else col


def _iso_dates(values: pa.Array, today: date) -> tuple[pa.Array, np.ndarray]:
    """(date32 array, mask of real dates from 1900 to today) for ISO-formatted text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    shaped = pc.match_substring_regex(values, _ISO_DATE)
    stamps = pc.strptime(pc.if_else(shaped, values, pa.scalar("1900-01-01")), format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 2023-02-30 over to March: only a date that prints back the same is real.
    dates = stamps.cast(pa.date32())
    # A date32 prints as YYYY-MM-DD (what strftime gives, ten times faster) for every year the
    # range check below lets through.
    real = pc.and_(shaped, pc.equal(dates.cast(pa.string()), values))
    in_range = pc.and_(pc.greater_equal(dates, pa.scalar(date(1900, 1, 1))), pc.less_equal(dates, pa.scalar(today)))
    ok = pc.fill_null(pc.and_(real, in_range), False)
    return dates, ok.to_numpy(zero_copy_only=False)


def _lookup(values: pa.Array, spellings: Mapping[str, str]) -> tuple[pa.Array, np.ndarray]:
    """(codes, mask of values spelled exactly as a key) through a dictionary of accepted spellings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    keys = list(spellings)
    index = pc.index_in(values, value_set=pa.array(keys, type=pa.string()))
    codes = pc.take(pa.array([spellings[k] for k in keys], type=pa.string()), index)
    ok = pc.is_valid(index).to_numpy(zero_copy_only=False)
    return pc.fill_null(codes, ""), ok


def _id_numbers_ok(ids: pa.Array, today: date) -> tuple[np.ndarray, pa.Array, np.ndarray]:
    """(mask of valid canonical ID numbers, their birth dates, their sex codes) for 18-character text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(ids)
    shaped = pc.match_substring_regex(ids, r"^\d{17}[\dX]$").to_numpy(zero_copy_only=False)
    ok = shaped.copy()
    sexes = np.full(n, "", dtype=object)
    if shaped.any():
        raw = _ascii_matrix(pc.filter(ids, pa.array(shaped)), 18)
        sums = ((raw[:, :17].astype(np.int64) - 48) @ _WEIGHTS) % 11
        checksum_ok = _CHECK_CHARS[sums] == raw[:, 17]
        idx = np.flatnonzero(shaped)
        ok[idx] &= checksum_ok
        sexes[idx] = np.where((raw[:, 16] - 48) % 2 == 1, Sex.MALE, Sex.FEMALE)
    born_text = pc.if_else(
        pa.array(shaped),
        pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(ids, 6, 10), pc.utf8_slice_codeunits(ids, 10, 12), pc.utf8_slice_codeunits(ids, 12, 14), "-"
        ),
        pa.scalar("x"),
    )
    births, births_ok = _iso_dates(born_text, today)
    ok &= births_ok
    if ok.any():
        prefixes = pc.utf8_slice_codeunits(pc.filter(ids, pa.array(ok)), 0, 6)
        regions = _known_regions()
        if regions is not None:
            known = pc.is_in(prefixes, value_set=regions).to_numpy(zero_copy_only=False)
        else:  # pragma: no cover - only if python-stdnum changes its table's shape
            unique, inverse = np.unique(prefixes.to_numpy(zero_copy_only=False), return_inverse=True)
            known = np.array([_region_known(str(p)) for p in unique], dtype=bool)[inverse]
        ok[np.flatnonzero(ok)] = known
    return ok, births, sexes


def _ascii_matrix(values: pa.Array, width: int) -> np.ndarray:
    """Rows × ``width`` bytes of a string array whose every value is ``width`` ASCII characters."""
    import pyarrow as pa

    values = values.cast(pa.string())
    if values.null_count:
        raise ValueError("no nulls expected")
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[values.offset : values.offset + len(values) + 1]
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(-1, width)


def _in(values: pa.Array, allowed: list[str]) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.fill_null(pc.is_in(values, value_set=pa.array(allowed, type=pa.string())), False).to_numpy(zero_copy_only=False)


def clean_import_batch(table: pa.Table, *, first_row: int, today: date | None = None) -> BatchResult:
    """Check an Arrow table of import rows (string columns named as ``IMPORT_COLUMNS``).

    ``first_row`` is the row number of the table's first row (rows number from 1 after the header).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    from django.utils import timezone

    std = _std()
    today = today or timezone.localdate()
    n = table.num_rows
    col = {name: _strings(table, name) for name in IMPORT_COLUMNS}

    def matches(name: str, pattern: str) -> np.ndarray:
        return pc.match_substring_regex(col[name], pattern).to_numpy(zero_copy_only=False)

    def empty(name: str) -> np.ndarray:
        return pc.equal(col[name], "").to_numpy(zero_copy_only=False)

    fast = matches("name", _CJK_NAME)
    doc_codes, doc_ok = _lookup(col["doc_type"], std.DOC_TYPE_SPELLINGS)
    fast &= doc_ok & (doc_codes.to_numpy(zero_copy_only=False) == "resident_id")
    ids_ok, births, id_sexes = _id_numbers_ok(col["id_number"], today)
    fast &= ids_ok & empty("doc_number")
    fast &= _in(col["nationality"], ["", "中国"])
    sex_codes, sex_ok = _lookup(col["sex"], std.SEX_SPELLINGS)
    sex_np = sex_codes.to_numpy(zero_copy_only=False)
    fast &= empty("sex") | (sex_ok & (sex_np == id_sexes))
    births_text = births.cast(pa.string()).to_numpy(zero_copy_only=False)
    fast &= empty("birth_date") | (col["birth_date"].to_numpy(zero_copy_only=False) == births_text)
    fast &= empty("phone") | matches("phone", r"^1[3-9]\d{9}$") | matches("phone", r"^0[1-9]\d{8,10}$")
    fast &= empty("ethnicity") | _in(col["ethnicity"], list(std.ETHNICITIES))
    fast &= matches("hukou_place", r"^\S{0,120}$")
    edu_codes, edu_ok = _lookup(col["education"], std.EDUCATION_SPELLINGS)
    emp_codes, emp_ok = _lookup(col["employment_status"], std.EMPLOYMENT_SPELLINGS)
    fast &= (empty("education") | edu_ok) & (empty("employment_status") | emp_ok)

    fast &= matches("grid_code", r"^\S{0,40}$") & matches("door_plate", r"^\S{0,120}$") & matches("unit_number", r"^\S{0,40}$")
    has_plate, has_unit = ~empty("door_plate"), ~empty("unit_number")
    fast &= has_plate == has_unit
    fast &= has_plate | ~empty("grid_code")
    kind_codes, kind_ok = _lookup(col["residence_kind"], std.RESIDENCE_KIND_SPELLINGS)
    from_dates, from_ok = _iso_dates(col["from_date"], today)
    fast &= ~has_plate | (kind_ok & from_ok)
    has_job = ~empty("employer") | ~empty("occupation")
    job_text_ok = matches("employer", _PLAIN_TEXT) & matches("occupation", _PLAIN_TEXT)
    job_len_ok = (pc.utf8_length(col["employer"]).to_numpy(zero_copy_only=False) <= 200) & (
        pc.utf8_length(col["occupation"]).to_numpy(zero_copy_only=False) <= 100
    )
    job_from, job_from_ok = _iso_dates(col["employment_from"], today)
    fast &= ~has_job | (
        ~empty("employer") & ~empty("occupation") & job_text_ok & job_len_ok & (empty("employment_from") | job_from_ok)
    )

    rows = np.arange(first_row, first_row + n, dtype=np.int64)
    mask = pa.array(fast)
    null_date = pa.nulls(n, type=pa.date32())
    plate_mask = pa.array(has_plate)
    job_mask = pa.array(has_job)
    cleaned = {
        "row": pa.array(rows),
        "name": col["name"],
        "doc_type": pa.repeat(pa.scalar("resident_id", pa.string()), n),
        "id_number": col["id_number"],
        "doc_number": col["doc_number"],
        "nationality": pa.repeat(pa.scalar("中国", pa.string()), n),
        "phone": col["phone"],
        "sex": pa.array(id_sexes, type=pa.string()),
        "birth_date": births,
        "ethnicity": col["ethnicity"],
        "hukou_place": col["hukou_place"],
        "education": edu_codes,
        "employment_status": emp_codes,
        "grid_code": col["grid_code"],
        "door_plate": col["door_plate"],
        "unit_number": col["unit_number"],
        "residence_kind": pc.if_else(plate_mask, kind_codes, pa.scalar("")),
        "from_date": pc.if_else(plate_mask, from_dates, null_date),
        "employer": col["employer"],
        "occupation": col["occupation"],
        "employment_from": pc.if_else(pc.and_(job_mask, pa.array(~empty("employment_from"))), job_from, null_date),
    }
    fast_table = pa.table({name: cleaned[name] for name in CLEAN_COLUMNS}).filter(mask)

    rejects: list[Violation] = []
    slow_rows: list[dict[str, Any]] = []
    slow_idx = np.flatnonzero(~fast)
    if len(slow_idx):
        raw_rows = table.take(pa.array(slow_idx)).to_pylist()
        for i, raw in zip(slow_idx.tolist(), raw_rows, strict=True):
            out, errors = clean_import_row(raw, row=int(rows[i]), today=today)
            if errors:
                rejects.extend(errors)
            else:
                slow_rows.append({name: out[name] for name in CLEAN_COLUMNS})
    if slow_rows:
        slow_table = pa.Table.from_pylist(slow_rows, schema=fast_table.schema)
        good = pa.concat_tables([fast_table, slow_table]).sort_by("row")
    else:
        good = fast_table
    return BatchResult(table=good, rejects=rejects, fast_rows=fast_table.num_rows)
