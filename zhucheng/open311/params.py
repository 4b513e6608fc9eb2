"""Reading GeoReport parameters: what a client sent, checked and normalised, or a 400 that says why.

The spec's rule for optional arguments applies everywhere: an empty parameter is the same as
an absent one. Dates are W3C ISO 8601 (``2010-01-01T00:00:00Z`` or with an offset); a date
without a time or a time without an offset is read in Asia/Shanghai.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from .errors import Open311Error

MAX_SPAN = timedelta(days=90)
MAX_PAGE_SIZE = 1000
MAX_DESCRIPTION = 4000
MAX_IDS = 1000
STATUSES = ("open", "closed")

# C0 control characters other than tab and line breaks (NUL breaks PostgreSQL text, the rest XML).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAK = re.compile("[\r\n]")
# Anything that looks like a tag, comment or declaration: "no html or code" in the description.
_TAG = re.compile(r"<\s*[A-Za-z!/?][^<>]*>")
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]*)\](\[\])?$")


def value(params: QueryDict, name: str) -> str:
    """The parameter's value, stripped; "" when absent or empty (optional arguments)."""
    raw = params.get(name)
    return raw.strip() if isinstance(raw, str) else ""


def plain(params: QueryDict, name: str, *, limit: int, multiline: bool = False) -> str:
    text = value(params, name)
    check_text(text, name, limit=limit, multiline=multiline)
    return text


def check_text(text: str, name: str, *, limit: int, multiline: bool = False) -> None:
    if len(text) > limit:
        raise Open311Error(400, _("%(name)s 不能超过 %(limit)s 个字符（现有 %(n)s 个）。") % {"name": name, "limit": limit, "n": len(text)})
    if _CONTROL.search(text) or (not multiline and _LINE_BREAK.search(text)):
        raise Open311Error(400, _("%(name)s 含有不允许的控制字符。") % {"name": name})


def comma_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_when(text: str, name: str) -> datetime:
    """A W3C datetime (or a date) as an aware datetime; 400 when it is not one."""
    moment: datetime | None = None
    try:
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            if day is not None:
                moment = datetime.combine(day, time.min)
        if moment is not None and timezone.is_naive(moment):
            moment = timezone.make_aware(moment, timezone.get_default_timezone())
        if moment is not None:
            moment.astimezone(timezone.get_default_timezone())  # a year-1 or year-9999 edge overflows here
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        raise Open311Error(
            400, _("%(name)s 不是有效的 ISO 8601 日期时间（例如 2026-01-01T00:00:00+08:00）：%(v)s") % {"name": name, "v": text[:40]}
        )
    return moment


def window(params: QueryDict, *, now: datetime | None = None) -> tuple[datetime, datetime]:
    """(start, end) from ``start_date`` / ``end_date``: at most 90 days; the most recent 90 days by default.

    The default end is now rounded up to the next whole second, so a request filed a moment ago
    is inside it and one second's identical queries are identical (the list cache's key).
    """
    if now is None:
        now = timezone.now()
        if now.microsecond:
            now = now.replace(microsecond=0) + timedelta(seconds=1)
    start_text, end_text = value(params, "start_date"), value(params, "end_date")
    start = parse_when(start_text, "start_date") if start_text else None
    end = parse_when(end_text, "end_date") if end_text else None
    try:
        if start is None and end is None:
            return now - MAX_SPAN, now
        if start is None and end is not None:
            return end - MAX_SPAN, end
        if end is None and start is not None:
            return start, start + MAX_SPAN
    except OverflowError:
        raise Open311Error(400, _("日期超出可查询的范围。")) from None
    assert start is not None and end is not None
    if start > end:
        raise Open311Error(400, _("start_date 不能晚于 end_date。"))
    if end - start > MAX_SPAN:
        raise Open311Error(400, _("查询的时间跨度不能超过 90 天（start_date 到 end_date）。"))
    return start, end


def _positive(params: QueryDict, name: str, default: int, maximum: int) -> int:
    text = value(params, name)
    if not text:
        return default
    if not text.isascii() or not text.isdigit() or len(text) > 9 or int(text) < 1:
        raise Open311Error(400, _("%(name)s 须为正整数。") % {"name": name})
    number = int(text)
    if number > maximum:
        raise Open311Error(400, _("%(name)s 不能大于 %(max)s。") % {"name": name, "max": maximum})
    return number


def paging(params: QueryDict) -> tuple[int, int]:
    """(page, page_size) of the widely used extension: page from 1, page_size 1–1000 (default 1000)."""
    return _positive(params, "page", 1, 1_000_000), _positive(params, "page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE)


@dataclass
class RequestsQuery:
    ids: list[str]
    service_codes: list[str]
    statuses: list[str]
    start: datetime | None  # None when ``ids`` are given: they override every other argument
    end: datetime | None
    page: int
    page_size: int

    def key(self) -> tuple[object, ...]:
        """Everything the answer depends on, normalised (the list cache's key)."""
        return (
            tuple(self.ids),
            tuple(sorted(set(self.service_codes))),
            tuple(sorted(set(self.statuses))),
            self.start.isoformat() if self.start else "",
            self.end.isoformat() if self.end else "",
            self.page,
            self.page_size,
        )


def requests_query(params: QueryDict) -> RequestsQuery:
    ids = comma_list(plain(params, "service_request_id", limit=30 * MAX_IDS))
    if len(ids) > MAX_IDS:
        raise Open311Error(400, _("一次最多查询 %(n)s 个 service_request_id。") % {"n": MAX_IDS})
    codes = comma_list(plain(params, "service_code", limit=2000))
    statuses = [s.lower() for s in comma_list(plain(params, "status", limit=100))]
    wrong = [s for s in statuses if s not in STATUSES]
    if wrong:
        raise Open311Error(400, _("status 只能是 open 或 closed（可用逗号分隔），不能是：%(v)s") % {"v": ", ".join(wrong)[:60]})
    start, end = window(params) if not ids else (None, None)
    page, page_size = paging(params)
    # Codes are stored upper-case: normalised once here, for the query and the list cache's key alike.
    return RequestsQuery([i.upper() for i in ids], [c.upper() for c in codes], statuses, start, end, page, page_size)


# --- POST Service Request --------------------------------------------------------------------------


@dataclass
class Submission:
    service_code: str
    lat: float | None = None
    lon: float | None = None
    address_string: str = ""
    address_id: str = ""
    email: str = ""
    device_id: str = ""
    account_id: str = ""
    request_id: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    description: str = ""
    media_url: str = ""
    # attribute code -> values, as sent (``attribute[code]`` and ``attribute[code][]``)
    attributes: dict[str, list[str]] = field(default_factory=dict)
    as_list: set[str] = field(default_factory=set)


def _coordinate(text: str, name: str, bound: float) -> float:
    try:
        number = float(text)
    except ValueError:
        raise Open311Error(400, _("%(name)s 须为数字（WGS84 坐标）。") % {"name": name}) from None
    if not math.isfinite(number) or not -bound <= number <= bound:
        raise Open311Error(400, _("%(name)s 超出范围（-%(b)s 到 %(b)s）。") % {"name": name, "b": int(bound)})
    return number


def submission(params: QueryDict) -> Submission:
    """The POST body, each field checked on its own (the service decides about attributes and location)."""
    problems: list[str] = []

    def take(name: str, limit: int, *, multiline: bool = False) -> str:
        try:
            return plain(params, name, limit=limit, multiline=multiline)
        except Open311Error as exc:
            problems.extend(exc.descriptions)
            return ""

    sub = Submission(service_code=take("service_code", 40))
    lat_text, lon_text = take("lat", 40), take("long", 40)
    if bool(lat_text) != bool(lon_text):
        problems.append(_("lat 和 long 须同时提供。"))
    elif lat_text:
        try:
            sub.lat, sub.lon = _coordinate(lat_text, "lat", 90), _coordinate(lon_text, "long", 180)
        except Open311Error as exc:
            problems.extend(exc.descriptions)
    sub.address_string = take("address_string", 200)
    sub.address_id = take("address_id", 40)
    sub.device_id = take("device_id", 100)
    sub.account_id = take("account_id", 100)
    sub.request_id = take("request_id", 100)
    sub.first_name = take("first_name", 30)
    sub.last_name = take("last_name", 30)
    sub.phone = take("phone", 30)
    sub.email = take("email", 254)
    if sub.email:
        try:
            validate_email(sub.email)
        except ValidationError:
            problems.append(_("email 不是有效的电子邮箱地址。"))
    sub.media_url = take("media_url", 500)
    if sub.media_url:
        try:
            URLValidator(schemes=["http", "https"])(sub.media_url)
        except ValidationError:
            problems.append(_("media_url 须为 http 或 https 开头的有效网址。"))
    sub.description = take("description", MAX_DESCRIPTION, multiline=True)
    if _TAG.search(sub.description):
        problems.append(_("description 不能包含 HTML 标记或代码。"))
    for key in params:
        if not key.startswith("attribute"):
            continue
        match = _ATTRIBUTE.match(key)
        if not match or not match.group(1).strip():
            problems.append(_("无法识别的参数 %(key)s：属性应写作 attribute[编码] 或 attribute[编码][]。") % {"key": key[:60]})
            continue
        code = match.group(1).strip()
        if match.group(2):
            sub.as_list.add(code)
        for raw in params.getlist(key):
            text = raw.strip() if isinstance(raw, str) else ""
            try:
                check_text(text, key[:60], limit=MAX_DESCRIPTION, multiline=True)
            except Open311Error as exc:
                problems.extend(exc.descriptions)
                continue
            if text:
                sub.attributes.setdefault(code, []).append(text)
            else:
                sub.attributes.setdefault(code, [])
    if problems:
        raise Open311Error(400, *problems)
    return sub
