"""Registry pages (thin): reads from ``selectors``, every write and every audited read through ``services``.

Staff (within their scope): search by name, ID, phone or address; the person page with masked
identifiers and an audited "break the glass" reveal; a housing unit with its current and past
occupants; an area (grid, community …) with its units and the five knowns; rentals ending soon;
permits expiring soon; the points ranking of a year; the correction queue; a masked export.
Residents: their own record, who read it, and a correction request (PIPL access and correction).
Missing and out of scope look the same (404).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhucheng.core.masking import mask_id_number, mask_phone
from zhucheng.places.models import OrgUnit
from zhucheng.places.selectors import NotVisible, unit_ancestors, unit_get_for_user, unit_roots_for, units_for

from . import completeness, selectors, services
from . import forms as f
from .errors import RegistryError
from .models import CorrectionField, CorrectionRequest, DocType, HousingUnit, Person
from .permissions import DECIDER_ROLES, can

PAGE_SIZE = 50
# Fields whose requested value in a correction is an identifier (shown masked in lists).
IDENTIFIER_FIELDS = (CorrectionField.ID_NUMBER, CorrectionField.PHONE)


def staff_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Logged-in staff only; a resident account is refused (residents have ``registry:me``)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if getattr(request.user, "is_resident", False):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _int(value: Any, default: int, lo: int, hi: int) -> int:
    try:
        return max(lo, min(hi, int(value)))
    except (TypeError, ValueError):
        return default


def _apply_error(form: Any, exc: RegistryError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _no_store(response: HttpResponse) -> HttpResponse:
    """Pages that may carry a full identifier are never cached (browser back button, proxies)."""
    response["Cache-Control"] = "no-store"
    return response


def _person_or_404(request: HttpRequest, pk: Any) -> Person:
    try:
        return selectors.person_get_for_user(request.user, pk)
    except NotVisible as exc:
        raise Http404(_("没有找到该人员,或其不在您的管辖范围内。")) from exc


def field_label(name: str) -> str:
    """The Chinese label of a person field (for change logs)."""
    try:
        field = Person._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    return str(getattr(field, "verbose_name", name))


def _masked_identifier(person: Person) -> str:
    return mask_id_number(person.identifier)


def _visible_person_ids(user: Any, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    return set(selectors.persons_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))


def _completeness_cells(c: completeness.Completeness) -> list[dict[str, Any]]:
    cells = [{"key": key, "label": label, "known": c.known[key], "pct": round(c.rate(key) * 100)} for key, label in completeness.ITEMS]
    cells.append({"key": "complete", "label": _("五个清楚"), "known": c.complete, "pct": round(c.rate("complete") * 100)})
    return cells


# --- search (the staff landing page) ------------------------------------------------------------


@staff_required
def search(request: HttpRequest) -> HttpResponse:
    # The form posts, so ID and phone numbers stay out of URLs (access logs, browser history);
    # a GET with ``q`` still works for links (a name, an address).
    data = request.POST if request.method == "POST" else request.GET
    form = f.SearchForm(data or None)
    within: OrgUnit | None = None
    if data.get("unit"):
        try:
            within = unit_get_for_user(request.user, data["unit"])
        except NotVisible as exc:
            raise Http404(_("没有找到该区划,或其不在您的管辖范围内。")) from exc
    kind, persons, residences, searched, too_short = "", [], [], False, False
    if form.is_valid() and form.cleaned_data["q"].strip():
        q, kind = form.cleaned_data["q"].strip(), form.cleaned_data["kind"]
        searched = True
        if kind == "address":
            residences = selectors.persons_search_address(request.user, q)
            if within is not None:
                grids = set(OrgUnit.objects.filter(path__startswith=within.path).values_list("pk", flat=True))
                residences = [r for r in residences if r.housing_unit.grid_id in grids]
            too_short = len("".join(q.split())) < 2
        else:
            kind, found = selectors.persons_search(request.user, q, kind=kind, within=within)
            too_short = kind == "name" and len(q) < selectors.NAME_SEARCH_MIN
            persons = [
                {
                    "person": p,
                    "id_masked": _masked_identifier(p),
                    "phone_masked": mask_phone(p.phone),
                    "home": p.current_residences[0] if getattr(p, "current_residences", None) else None,  # type: ignore[attr-defined]
                }
                for p in found
            ]
    return render(
        request,
        "registry/search.html",
        {
            "form": form,
            "kind": kind,
            "persons": persons,
            "residences": residences,
            "searched": searched,
            "too_short": too_short,
            "within": within,
            "roots": unit_roots_for(request.user),
            "pending_corrections": selectors.corrections_pending_visible_to(request.user).count(),
        },
    )


# --- person -------------------------------------------------------------------------------------


def _identifiers(person: Person, posted: f.RevealForm | None, revealed: dict[str, str] | None) -> list[dict[str, Any]]:
    rows = []
    number_field = "id_number" if person.doc_type == DocType.RESIDENT_ID else "doc_number"
    label = _("公民身份号码") if number_field == "id_number" else person.get_doc_type_display()
    wanted = [(number_field, label, mask_id_number(person.identifier))]
    if person.phone:
        wanted.append(("phone", _("联系电话"), mask_phone(person.phone)))
    for field, label, masked in wanted:
        is_posted = posted is not None and posted.data.get("field") == field
        form = posted if is_posted and posted is not None else f.RevealForm(initial={"field": field}, auto_id=f"reveal-{field}-%s")
        rows.append(
            {
                "field": field,
                "label": label,
                "masked": masked,
                "form": form,
                "open": is_posted and bool(form.errors),
                "revealed": revealed["value"] if revealed and revealed["field"] == field else None,
            }
        )
    return rows


def _person_page(request: HttpRequest, person: Person, *, posted: f.RevealForm | None = None, revealed: dict[str, str] | None = None) -> HttpResponse:
    record = selectors.record_of(person)
    unit_ids = {r.housing_unit_id for r in record.residences}
    changes = [{"ch": ch, "label": field_label(ch.field)} for ch in record.changes]
    merged_into = selectors.person_merged_into(person)
    return _no_store(
        render(
            request,
            "registry/person_detail.html",
            {
                "person": person,
                "record": record,
                "identifiers": _identifiers(person, posted, revealed),
                "revealed": revealed,
                "visible_units": set(selectors.housing_units_visible_to(request.user).filter(pk__in=unit_ids).values_list("pk", flat=True)),
                "visible_members": _visible_person_ids(request.user, {m.person_id for m in record.members}),
                "reads": record.reads[:20],
                "changes": changes,
                "can_decide": can(request.user, person.unit, DECIDER_ROLES),
                "merged_into": merged_into,
                "merged_into_visible": merged_into is not None
                and bool(_visible_person_ids(request.user, {merged_into.pk})),
            },
            status=400 if posted is not None and posted.errors else 200,
        )
    )


@staff_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person_or_404(request, pk)
    services.person_record_read(actor=request.user, person=person, purpose=request.GET.get("why", "")[:200])
    return _person_page(request, person)


@staff_required
@require_POST
def person_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """破窗查看: the full number is shown once in this response (never in a URL), with the reason audited."""
    person = _person_or_404(request, pk)
    form = f.RevealForm(request.POST, auto_id=f"reveal-{request.POST.get('field', '')}-%s")
    revealed = None
    if form.is_valid():
        field = form.cleaned_data["field"]
        try:
            value = services.person_reveal(actor=request.user, person=person, field=field, reason=form.cleaned_data["reason"])
        except RegistryError as exc:
            _apply_error(form, exc)
        else:
            revealed = {"field": field, "value": value, "reason": form.cleaned_data["reason"].strip()}
    return _person_page(request, person, posted=form, revealed=revealed)


# --- housing unit and area ----------------------------------------------------------------------


@staff_required
def housing_unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        unit: HousingUnit = selectors.housing_unit_get_for_user(request.user, pk)
    except NotVisible as exc:
        raise Http404(_("没有找到该房屋,或其不在您的管辖范围内。")) from exc
    timeline = selectors.unit_timeline(unit)
    tenancies = selectors.unit_tenancies(unit)
    ids = {r.person_id for r in timeline} | {p.pk for t in tenancies for p in t.tenants.all()}
    flags = [{"label": label, "known": getattr(unit, f"known_{key}")} for key, label in completeness.ITEMS]
    return render(
        request,
        "registry/housing_unit.html",
        {
            "unit": unit,
            "current": [r for r in timeline if r.is_current],
            "past": [r for r in timeline if not r.is_current],
            "tenancies": tenancies,
            "households": selectors.unit_households(unit),
            "flags": flags,
            "visible_persons": _visible_person_ids(request.user, ids),
            "today": timezone.localdate(),
        },
    )


@staff_required
def areas(request: HttpRequest) -> HttpResponse:
    """The units a user may open (their posts' roots): one goes straight to its page."""
    roots = unit_roots_for(request.user)
    if len(roots) == 1:
        return redirect("registry:area", pk=roots[0].pk)
    return render(request, "registry/areas.html", {"roots": roots})


@staff_required
def area(request: HttpRequest, pk: int) -> HttpResponse:
    """A grid (or a community, a district …): the five knowns, its child units, and a grid's housing units."""
    try:
        unit = unit_get_for_user(request.user, pk)
        total = selectors.completeness_for(request.user, unit)
        children = selectors.completeness_children_for(request.user, unit)
    except NotVisible as exc:
        raise Http404(_("没有找到该区划,或其不在您的管辖范围内。")) from exc
    visible = set(units_for(request.user).filter(pk__in=[a.pk for a in unit_ancestors(unit)]).values_list("pk", flat=True))
    page = None
    if not children:
        page = Paginator(selectors.units_in(request.user, unit).select_related("building"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/area.html",
        {
            "unit": unit,
            "ancestors": [a for a in unit_ancestors(unit) if a.pk in visible and a.pk != unit.pk],
            "total": total,
            "cells": _completeness_cells(total),
            "children": [{"c": c, "cells": _completeness_cells(c)} for c in children],
            "items": completeness.ITEMS,
            "page": page,
        },
    )


# --- lists: rentals, permits, points ------------------------------------------------------------


@staff_required
def rentals(request: HttpRequest) -> HttpResponse:
    days = _int(request.GET.get("days"), 30, 1, 365)
    today = timezone.localdate()
    page = Paginator(selectors.tenancies_ending_soon(request.user, within_days=days, today=today), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "registry/rentals.html", {"page": page, "days": days, "today": today})


@staff_required
def permits(request: HttpRequest) -> HttpResponse:
    days = _int(request.GET.get("days"), 30, 1, 365)
    page = Paginator(selectors.permits_expiring_soon(request.user, within_days=days), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"permit": p, "id_masked": _masked_identifier(p.person)} for p in page.object_list]
    return render(request, "registry/permits.html", {"page": page, "rows": rows, "days": days})


@staff_required
def points(request: HttpRequest) -> HttpResponse:
    years = selectors.points_years(request.user)
    default = selectors.points_latest_ranked_year(request.user) or (years[0] if years else timezone.localdate().year)
    year = _int(request.GET.get("year"), default, 2000, 2100)
    page = Paginator(selectors.points_ranking(request.user, year), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/points.html",
        {"page": page, "year": year, "years": years or [year], "quota": selectors.points_quota(year)},
    )


# --- corrections (the staff queue) ---------------------------------------------------------------


def _requested_display(c: CorrectionRequest) -> str:
    if c.field == CorrectionField.ID_NUMBER:
        return mask_id_number(c.requested_value)
    if c.field == CorrectionField.PHONE:
        return mask_phone(c.requested_value)
    return c.requested_value


@staff_required
def corrections(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.corrections_pending_visible_to(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    pending = [{"c": c, "requested": _requested_display(c)} for c in page.object_list]
    decided = [{"c": c, "requested": _requested_display(c)} for c in selectors.corrections_decided_visible_to(request.user, limit=20)]
    return render(request, "registry/corrections.html", {"page": page, "pending": pending, "decided": decided})


@staff_required
def correction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        correction = selectors.correction_get_for_user(request.user, pk)
    except NotVisible as exc:
        raise Http404(_("没有找到该更正申请,或其不在您的管辖范围内。")) from exc
    person = correction.person
    can_decide = can(request.user, person.unit, DECIDER_ROLES)
    form = f.CorrectionDecideForm(request.POST or None)
    if request.method == "POST":
        if not can_decide:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.correction_decide(
                    actor=request.user,
                    correction=correction,
                    accept=form.cleaned_data["decision"] == "accept",
                    reason=form.cleaned_data["reason"],
                )
            except RegistryError as exc:
                _apply_error(form, exc)
            else:
                messages.success(request, _("更正申请已处理,结果已告知申请人。"))
                return redirect("registry:corrections")
    full_value = can_decide and correction.state == "pending" and correction.field in IDENTIFIER_FIELDS
    if full_value and request.method == "GET":
        # The decider compares the requested number with the document: a read the resident sees.
        services.person_record_read(actor=request.user, person=person, purpose=_("处理更正申请,核对申请更正的号码"))
    return _no_store(
        render(
            request,
            "registry/correction_detail.html",
            {
                "c": correction,
                "person": person,
                "requested": correction.requested_value if full_value else _requested_display(correction),
                "id_masked": _masked_identifier(person),
                "can_decide": can_decide,
                "form": form,
            },
            status=400 if form.errors else 200,
        )
    )


# --- export -------------------------------------------------------------------------------------


@staff_required
def export(request: HttpRequest) -> HttpResponse:
    """A CSV of the persons in scope, identifiers masked; the reason is audited."""
    roots = unit_roots_for(request.user)
    choices = [u for root in roots for u in [root, *root.children.order_by("code")]]
    form = f.ExportForm(request.POST or None, units=choices)
    if request.method == "POST" and form.is_valid():
        unit = next((u for u in choices if str(u.pk) == form.cleaned_data["unit"]), None)
        try:
            rows = services.persons_export(actor=request.user, reason=form.cleaned_data["reason"], unit=unit)
        except RegistryError as exc:
            _apply_error(form, exc)
        else:
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="registry-{timezone.localdate():%Y%m%d}.csv"'
            response.write("\ufeff")  # Excel opens UTF-8 CSV correctly with a BOM
            writer = csv.writer(response)
            writer.writerow([_("姓名"), _("性别"), _("出生日期"), _("证件号码"), _("联系电话"), _("所属网格")])
            for row in rows:
                writer.writerow([row["name"], row["sex"], row["birth_date"], row["id_number"], row["phone"], row["unit"]])
            return _no_store(response)
    return render(request, "registry/export.html", {"form": form})


# --- the resident's own record -------------------------------------------------------------------


@login_required
def me(request: HttpRequest) -> HttpResponse:
    """我的登记信息: what is held about me, who read it and why, and a correction request."""
    if not getattr(request.user, "is_resident", False):
        return redirect("registry:search")
    record = selectors.my_record(request.user)
    form = f.CorrectionRequestForm(request.POST or None)
    if request.method == "POST" and record is not None and form.is_valid():
        try:
            services.correction_request(
                actor=request.user,
                person=record.person,
                field=form.cleaned_data["field"],
                requested_value=form.cleaned_data["requested_value"],
                reason=form.cleaned_data["reason"],
            )
        except RegistryError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, _("更正申请已提交,社区工作人员处理后会在本页显示结果。"))
            return redirect("registry:me")
    context: dict[str, Any] = {"record": record, "form": form}
    if record is not None:
        person = record.person
        context.update(
            {
                "person": person,
                "id_masked": _masked_identifier(person),
                "phone_masked": mask_phone(person.phone),
                "corrections": [{"c": c, "requested": _requested_display(c)} for c in record.corrections],
                "changes": [
                    {
                        "ch": ch,
                        "label": field_label(ch.field),
                        "old": mask_id_number(ch.old_value) if ch.field in ("id_number", "doc_number") else (mask_phone(ch.old_value) if ch.field == "phone" else ch.old_value),
                        "new": mask_id_number(ch.new_value) if ch.field in ("id_number", "doc_number") else (mask_phone(ch.new_value) if ch.field == "phone" else ch.new_value),
                    }
                    for ch in record.changes
                ],
            }
        )
    return _no_store(render(request, "registry/me.html", context, status=400 if form.errors else 200))
