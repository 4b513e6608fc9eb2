"""Every read the Open311 interface makes, and the GeoReport documents built from them.

What is public (anyone may GET it, no key): the services and their definitions, and for each
*service request* only the fields the spec lists. A service request is an appeal of kind
``appeal`` (民意诉求) that has a category; petitions (信访) are never listed. Reporter names,
phones and e-mail are never read here, and phone numbers, ID numbers and e-mail addresses
typed into public text are masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import translation
from django.utils.translation import gettext as _

from zhucheng.appeals import deadlines
from zhucheng.appeals.errors import AppealError
from zhucheng.appeals.models import (
    CONCLUDED_STATUSES,
    Appeal,
    AppealEvent,
    AppealKind,
    Category,
    DayCount,
    DeadlinePolicy,
)
from zhucheng.appeals.services import act_name
from zhucheng.core.masking import mask_id_number, mask_phone

from .models import LIST_DATATYPES, RequestAttributeValue, ServiceAttribute
from .params import STATUSES, RequestsQuery
from .render import Items, w3

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"

_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
_RESIDENT_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}")


def english() -> bool:
    return (translation.get_language() or "").lower().startswith("en")


def public_text(text: str | None) -> str:
    """Free text as the public may see it: phone numbers, ID numbers and e-mail addresses masked."""
    if not text:
        return ""
    text = _RESIDENT_ID.sub(lambda m: mask_id_number(m.group(0)), text)
    text = _MOBILE.sub(lambda m: mask_phone(m.group(0)), text)
    return _EMAIL.sub(lambda m: "***@" + m.group(0).split("@", 1)[1], text)


# --- services ----------------------------------------------------------------------------------


def services() -> QuerySet[Category]:
    """The services: active leaf categories under an active group, with ``has_attributes``."""
    active_attributes = ServiceAttribute.objects.filter(category=OuterRef("pk"), is_active=True)
    return (
        Category.objects.filter(parent__isnull=False, is_active=True, parent__is_active=True)
        .select_related("parent")
        .annotate(has_attributes=Exists(active_attributes))
        .order_by("parent__sort_order", "parent__code", "sort_order", "code")
    )


# Every POST and definition looks its service up: one plain statement (no ORM compile per request).
_SERVICE_SQL = (
    f"SELECT c.*, EXISTS (SELECT 1 FROM {ServiceAttribute._meta.db_table} a WHERE a.category_id = c.id AND a.is_active)"  # noqa: S608
    f" AS has_attributes FROM {Category._meta.db_table} c JOIN {Category._meta.db_table} p ON p.id = c.parent_id"
    " WHERE c.code = %s AND c.is_active AND p.is_active"
)


def service_get(code: str) -> Category | None:
    """One service by its code (active, under an active group), with ``has_attributes``, or None."""
    if not code or len(code) > 20:
        return None
    found = list(Category.objects.raw(_SERVICE_SQL, [code.strip().upper()]))
    return found[0] if found else None


def attributes_of(category: Category) -> list[ServiceAttribute]:
    known = getattr(category, "has_attributes", None)  # read with the category (0/1 on SQLite)
    if known is not None and not known:
        return []
    return list(ServiceAttribute.objects.filter(category=category, is_active=True).order_by("order", "id"))


def _name(category: Category | None) -> str:
    return _service_name(category.name, category.name_en) if category is not None else ""


def _service_name(name: str | None, name_en: str | None) -> str:
    """A category's name in the request's language (the Chinese name where it has no English one)."""
    return ((name_en or name) if english() else name) or ""


def _keywords(category: Category) -> str:
    words: list[str] = []
    parent = category.parent
    for word in (category.name, category.name_en, parent.name if parent else "", parent.name_en if parent else ""):
        if word and word not in words:
            words.append(word)
    return ", ".join(words)


def service_document(category: Category) -> dict[str, Any]:
    has_attributes = getattr(category, "has_attributes", None)
    if has_attributes is None:
        has_attributes = ServiceAttribute.objects.filter(category=category, is_active=True).exists()
    return {
        "service_code": category.code,
        "service_name": _name(category),
        "description": category.description,
        "metadata": bool(has_attributes),
        "type": "realtime",
        "keywords": _keywords(category),
        "group": _name(category.parent),
    }


def services_document(categories: Iterable[Category]) -> Items:
    return Items("service", [service_document(c) for c in categories])


def definition_document(category: Category, attributes: Iterable[ServiceAttribute]) -> dict[str, Any]:
    en = english()
    items = []
    for a in attributes:
        values = None
        if a.datatype in LIST_DATATYPES:
            values = Items(
                "value",
                [
                    {"key": str(v.get("key", "")), "name": str((v.get("name_en") if en else None) or v.get("name", ""))}
                    for v in a.values or []
                    if isinstance(v, dict)
                ],
            )
        item: dict[str, Any] = {
            "variable": a.variable,
            "code": a.code,
            "datatype": a.datatype,
            "required": a.required,
            "datatype_description": (a.datatype_description_en if en else "") or a.datatype_description,
            "order": a.order,
            "description": (a.description_en if en else "") or a.description,
        }
        if values is not None:
            item["values"] = values
        items.append(item)
    return {"service_code": category.code, "attributes": Items("attribute", items)}


def changeset() -> str:
    """When services or their definitions last changed (the discovery ``changeset``)."""
    stamps = [
        Category.objects.order_by("-updated_at").values_list("updated_at", flat=True).first(),
        ServiceAttribute.objects.order_by("-updated_at").values_list("updated_at", flat=True).first(),
    ]
    latest = max((s for s in stamps if s is not None), default=None)
    return w3(latest) or "1970-01-01T08:00:00+08:00"


def discovery_document(endpoint_url: str) -> dict[str, Any]:
    stamp = changeset()
    contact = getattr(settings, "ZHUCHENG_OPEN311_CONTACT", "") or _("如需帮助，请联系市群众工作中心（12345 热线）。")
    key_service = getattr(settings, "ZHUCHENG_OPEN311_KEY_SERVICE", "") or _(
        "提交诉求需要 API 密钥：请向市群众工作中心申请，由管理员签发。查询无需密钥。"
    )
    return {
        "changeset": stamp,
        "contact": contact,
        "key_service": key_service,
        "endpoints": Items(
            "endpoint",
            [
                {
                    "specification": SPECIFICATION,
                    "url": endpoint_url,
                    "changeset": stamp,
                    "type": "test" if settings.DEBUG else "production",
                    "formats": Items("format", ["text/xml", "application/json"]),
                }
            ],
        ),
    }


# --- service requests ----------------------------------------------------------------------------


def open311_status(appeal_status: str) -> str:
    """closed = concluded (办结, 不予受理, 合并为重复件); everything else, replied-awaiting-rating included, is open."""
    return "closed" if appeal_status in CONCLUDED_STATUSES else "open"


def statuses_for(open311: str) -> list[str]:
    from zhucheng.appeals.models import Status

    concluded = [str(s) for s in CONCLUDED_STATUSES]
    return concluded if open311 == "closed" else [s for s in Status.values if s not in concluded]


def _latest_public_event() -> Subquery:
    return Subquery(
        AppealEvent.objects.filter(appeal=OuterRef("pk"), is_public=True)
        .exclude(act="submit")
        .order_by("-at", "-id")
        .values("id")[:1]
    )


# The columns a request document reads (``request_documents``), and nothing else: a page of
# requests then skips the long text, timestamps and polygons it never shows.
_DOCUMENT_FIELDS = (
    "code",
    "kind",
    "urgency",
    "status",
    "description",
    "address",
    "lat",
    "lon",
    "submitted_at",
    "updated_at",
    "closed_at",
    "due_at",
    "category__code",
    "category__name",
    "category__name_en",
    "department__name",
    "unit__code",
    "open311__media_url",
)


_ROW_FIELDS = (*_DOCUMENT_FIELDS, "latest_event_id")


def public_requests() -> QuerySet[Appeal, dict[str, Any]]:
    """Appeals the public may see through Open311, newest first, as rows of what a request document
    shows (``values``: a page of 1,000 builds no model instances), in one query."""
    return (
        Appeal.objects.filter(kind=AppealKind.APPEAL, category__isnull=False)
        .annotate(latest_event_id=_latest_public_event())
        .order_by("-submitted_at", "-id")
        .values(*_ROW_FIELDS)
    )


def request_page(query: RequestsQuery) -> QuerySet[Appeal, dict[str, Any]]:
    """One page of ``GET requests``: ids override every other filter; newest first."""
    qs = public_requests()
    if query.ids:
        qs = qs.filter(code__in=query.ids)
    else:
        if query.service_codes:
            qs = qs.filter(category__code__in=query.service_codes)
        if query.statuses and set(query.statuses) != set(STATUSES):
            qs = qs.filter(status__in=statuses_for(query.statuses[0]))
        qs = qs.filter(submitted_at__gte=query.start, submitted_at__lte=query.end)
    offset = (query.page - 1) * query.page_size
    return qs[offset : offset + query.page_size]


def request_get(service_request_id: str) -> dict[str, Any] | None:
    """One public request's row (for ``request_documents``), or None."""
    code = (service_request_id or "").strip().upper()
    if not code or len(code) > 20:
        return None
    return public_requests().filter(code=code).first()


def step_text(act: str, note: str) -> str:
    """A timeline step as the public reads it: the act's name, then its (masked) note."""
    note = public_text(note)
    return f"{act_name(act)}：{note}" if note else str(act_name(act))


def event_text(event: AppealEvent) -> str:
    return step_text(event.act, event.note)


def _duration(amount: int, unit: str) -> str:
    if unit == DayCount.HOURS:
        return _("%(n)s 小时") % {"n": amount}
    if unit == DayCount.WORKING:
        return _("%(n)s 个工作日") % {"n": amount}
    return _("%(n)s 日") % {"n": amount}


def notice_for_policy(policy: DeadlinePolicy) -> str:
    return _("法定时限：%(register)s内决定是否受理，受理后 %(reply)s内办理并答复。") % {
        "register": _duration(policy.register_amount, policy.register_unit),
        "reply": _duration(policy.reply_amount, policy.reply_unit),
    }


class Notices:
    """``service_notice`` per (kind, urgency), looked up once per response, not once per request."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], str] = {}

    def __call__(self, kind: str, urgency: str) -> str:
        key = (kind, urgency)
        if key not in self._cache:
            try:
                self._cache[key] = notice_for_policy(deadlines.policy_for(Appeal(kind=kind, urgency=urgency)))
            except AppealError:
                self._cache[key] = ""
        return self._cache[key]


def request_documents(rows: Iterable[dict[str, Any]]) -> Items:
    """``service_requests`` for rows of ``public_requests()`` (public fields only)."""
    rows = list(rows)
    steps = {
        pk: (act, note)
        for pk, act, note in AppealEvent.objects.filter(
            pk__in=[r["latest_event_id"] for r in rows if r["latest_event_id"]]
        ).values_list("id", "act", "note")
    }
    notice = Notices()
    items = []
    for r in rows:
        step = steps.get(r["latest_event_id"] or 0)
        status = open311_status(r["status"])
        updated: datetime = (r["closed_at"] or r["updated_at"]) if status == "closed" else r["updated_at"]
        items.append(
            {
                "service_request_id": r["code"],
                "status": status,
                "status_notes": step_text(*step) if step else "",
                "service_name": _service_name(r["category__name"], r["category__name_en"]),
                "service_code": r["category__code"] or "",
                "description": public_text(r["description"]),
                "agency_responsible": r["department__name"] or "",
                "service_notice": notice(r["kind"], r["urgency"]),
                "requested_datetime": w3(r["submitted_at"]),
                "updated_datetime": w3(updated),
                "expected_datetime": w3(r["due_at"]),
                "address": public_text(r["address"]),
                "address_id": r["unit__code"] or "",
                "zipcode": "",
                "lat": r["lat"],
                "long": r["lon"],
                "media_url": r["open311__media_url"] or "",
            }
        )
    return Items("request", items)


def updates(start: datetime, end: datetime) -> QuerySet[AppealEvent]:
    """Public steps of public requests between ``start`` and ``end`` (the mySociety extension), oldest first."""
    return (
        AppealEvent.objects.filter(
            is_public=True, at__gte=start, at__lte=end, appeal__kind=AppealKind.APPEAL, appeal__category__isnull=False
        )
        .exclude(act="submit")
        .select_related("appeal")
        .only("id", "act", "note", "to_status", "at", "appeal__code", "appeal__status")
        .order_by("at", "id")
    )


def update_documents(events: Iterable[AppealEvent]) -> Items:
    return Items(
        "request_update",
        [
            {
                "update_id": str(e.pk),
                "service_request_id": e.appeal.code,
                "status": open311_status(e.to_status or e.appeal.status),
                "updated_datetime": w3(e.at),
                "description": event_text(e),
                "media_url": "",
            }
            for e in events
        ],
    )


def answers_for(appeal: Appeal) -> list[tuple[str, str]]:
    """(attribute description, answer) of an Open311 submission, for staff pages; [] for other channels."""
    rows = (
        RequestAttributeValue.objects.filter(request__appeal=appeal)
        .select_related("attribute")
        .order_by("attribute__order", "id")
    )
    return [(r.attribute.description if r.attribute else r.code, str(r.label())) for r in rows]
