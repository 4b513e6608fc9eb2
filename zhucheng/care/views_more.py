"""Care pages beyond enrolments (thin): video-link points and bookings, homes, proxy parents, homeless cases."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from zhucheng.core.masking import mask_phone
from zhucheng.places.models import Department
from zhucheng.places.selectors import NotVisible, units_for

from . import forms as f
from . import selectors_more as sel
from . import services_more as svc
from .errors import CareError
from .models_more import HomeKind, HomelessAgency, HomelessCase
from .views import _apply_error, staff_required


def _or_404(fn: Any, request: HttpRequest, pk: Any) -> Any:
    try:
        return fn(request.user, pk)
    except NotVisible as exc:
        raise Http404(_("没有找到该记录，或不在您的管辖范围内。")) from exc


# --- video-link points -------------------------------------------------------------------------------


@staff_required
def point_list(request: HttpRequest) -> HttpResponse:
    upcoming = list(sel.bookings_upcoming(request.user).order_by("starts_at")[:100])
    return render(request, "care/point_list.html", {"points": list(sel.link_points_visible_to(request.user).order_by("code")), "upcoming": upcoming})


@staff_required
def point_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A point's day: slots with their bookings; the booking form (find the person by name first)."""
    from zhucheng.registry.selectors import persons_search_name

    point = _or_404(sel.link_point_get_for_user, request, pk)
    day = parse_date(request.GET.get("day") or request.POST.get("day") or "") or timezone.localdate()
    sheet = sel.day_sheet(request.user, point, day)
    free = [(s.isoformat(), timezone.localtime(s).strftime("%H:%M")) for s, b in sheet if b is None and s >= timezone.now() - svc.PAST_GRACE]
    q = (request.GET.get("q") or request.POST.get("q") or "").strip()
    persons = persons_search_name(request.user, q, limit=20) if q else []
    form = f.BookingForm(request.POST or None, slots=free, persons=persons)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        person = next(p for p in persons if p.pk == d["person"])
        try:
            svc.booking_create(
                actor=request.user, point=point, starts_at=datetime.fromisoformat(d["starts_at"]), person=person,
                family_name=d["family_name"], family_relation=d["family_relation"], family_phone=d["family_phone"], family_place=d["family_place"],
            )
        except CareError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, _("已预约。"))
            return redirect(f"{request.path}?day={day.isoformat()}")
    rows = [(s, b, mask_phone(b.family_phone) if b else "") for s, b in sheet]
    return render(
        request,
        "care/point_detail.html",
        {"point": point, "day": day, "prev": day - timedelta(days=1), "next": day + timedelta(days=1), "rows": rows, "form": form, "q": q,
         "usage_form": f.UsageForm(), "now": timezone.now()},
    )


@staff_required
def booking_act(request: HttpRequest, pk: int, act: str) -> HttpResponse:
    booking = _or_404(sel.booking_get_for_user, request, pk)
    back = f"{redirect('care:point_detail', pk=booking.point_id).url}?day={timezone.localtime(booking.starts_at).date().isoformat()}"
    if request.method != "POST":
        return redirect(back)
    try:
        if act == "cancel":
            svc.booking_cancel(actor=request.user, booking=booking, reason=request.POST.get("reason", ""))
            messages.success(request, _("已取消预约。"))
        elif act == "log":
            form = f.UsageForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("请选择使用情况。"))
                return redirect(back)
            d = form.cleaned_data
            svc.booking_log(actor=request.user, booking=booking, used=d["used"], minutes=d["minutes"], note=d["note"])
            messages.success(request, _("已登记使用情况。"))
        else:
            raise Http404
    except CareError as exc:
        messages.error(request, exc.message)
    return redirect(back)


# --- homes ----------------------------------------------------------------------------------------------


@staff_required
def home_list(request: HttpRequest) -> HttpResponse:
    return render(request, "care/home_list.html", {"homes": list(sel.homes_visible_to(request.user).order_by("unit__path", "name"))})


def _people_for(user: Any, home: Any) -> list[Any]:
    """Who may attend: children under 18 (children's home) or women (women's home) of the home's community."""
    from zhucheng.registry.selectors import persons_visible_to

    today = timezone.localdate()
    qs = persons_visible_to(user).filter(unit__path__startswith=home.unit.path, died_on__isnull=True)
    if home.kind == HomeKind.CHILDREN:
        qs = qs.filter(birth_date__gt=today.replace(year=today.year - 18))
    else:
        qs = qs.filter(sex="F", birth_date__lte=today.replace(year=today.year - 18))
    return list(qs.order_by("name")[:60])


@staff_required
def home_detail(request: HttpRequest, pk: int) -> HttpResponse:
    home = _or_404(sel.home_get_for_user, request, pk)
    people = _people_for(request.user, home)
    form = f.ActivityForm(request.POST or None, people=people)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            svc.activity_record(actor=request.user, home=home, held_on=d["held_on"], title=d["title"], description=d["description"],
                                attendees=[p for p in people if p.pk in set(d["attendees"])])
        except CareError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, _("已登记活动。"))
            return redirect("care:home_detail", pk=home.pk)
    activities = list(home.activities.prefetch_related("attendance__person").order_by("-held_on", "-id")[:30])
    return render(request, "care/home_detail.html", {"home": home, "activities": activities, "form": form})


# --- proxy parents ----------------------------------------------------------------------------------------


@staff_required
def pairing_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "care/pairing_list.html",
        {"pairings": list(sel.pairings_visible_to(request.user).order_by("review_due_on")[:200]), "today": timezone.localdate(),
         "parents": list(sel.proxy_parents_visible_to(request.user).filter(is_active=True)[:200])},
    )


@staff_required
def pairing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    pairing = _or_404(sel.pairing_get_for_user, request, pk)
    meeting_form = f.MeetingForm(request.POST if request.POST.get("act") == "meeting" else None, initial={"met_on": timezone.localdate()})
    review_form = f.PairingReviewForm(request.POST if request.POST.get("act") == "review" else None)
    if request.method == "POST":
        try:
            if request.POST.get("act") == "meeting" and meeting_form.is_valid():
                svc.meeting_log(actor=request.user, pairing=pairing, **meeting_form.cleaned_data)
                messages.success(request, _("已记录见面。"))
                return redirect("care:pairing_detail", pk=pk)
            if request.POST.get("act") == "review" and review_form.is_valid():
                svc.pairing_review(actor=request.user, pairing=pairing, **review_form.cleaned_data)
                messages.success(request, _("已评议。"))
                return redirect("care:pairing_detail", pk=pk)
        except CareError as exc:
            messages.error(request, exc.message)
    return render(
        request,
        "care/pairing_detail.html",
        {"p": pairing, "meetings": list(pairing.meetings.all()[:50]), "reviews": list(pairing.reviews.all()[:20]),
         "meeting_form": meeting_form, "review_form": review_form, "today": timezone.localdate()},
    )


# --- homeless --------------------------------------------------------------------------------------------


def _agencies() -> list[Department]:
    return list(Department.objects.filter(pk__in=HomelessAgency.objects.values("department_id")).order_by("code"))


@staff_required
def homeless_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "open")
    qs = sel.homeless_cases_visible_to(request.user)
    qs = qs.filter(outcome="") if state == "open" else qs.exclude(outcome="") if state == "closed" else qs
    return render(request, "care/homeless_list.html", {"cases": list(qs.order_by("-found_at")[:200]), "state": state})


@staff_required
def homeless_new(request: HttpRequest) -> HttpResponse:
    units = list(units_for(request.user).filter(kind__in=["community", "township", "residents_committee", "village", "grid"])[:300])
    if not units:
        from zhucheng.places.models import OrgUnit

        units = list(OrgUnit.objects.filter(kind__in=["district", "community", "township"]).order_by("path")[:300])
    form = f.HomelessOpenForm(request.POST or None, units=units, holders=_agencies())
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        unit = next(u for u in units if str(u.pk) == d["unit"])
        holder = next(x for x in _agencies() if str(x.pk) == d["holder"])
        try:
            case = svc.homeless_open(actor=request.user, found_at=d["found_at"], found_place=d["found_place"], unit=unit, description=d["description"],
                                     holder=holder, sex=d["sex"], apparent_age=d["apparent_age"])
        except CareError as exc:
            _apply_error(form, exc)
        else:
            return redirect("care:homeless_detail", pk=case.pk)
    return render(request, "care/homeless_new.html", {"form": form})


@staff_required
def homeless_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case: HomelessCase = _or_404(sel.homeless_case_get_for_user, request, pk)
    user = request.user
    writable = set(svc.ALL_FIELDS) if svc.is_system(user) or getattr(user, "is_superuser", False) else {x for s in svc.sides_of(user) for x in svc.WRITABLE[s]}
    holds = svc._holds(user, case)
    act = request.POST.get("act", "")
    update_form = f.HomelessUpdateForm(request.POST if act == "update" else None, writable=writable, initial={n: getattr(case, n) for n in writable if hasattr(case, n)})
    handoff_form = f.HandOffForm(request.POST if act == "handoff" else None, departments=[d for d in _agencies() if d.pk != case.holder_id])
    close_form = f.HomelessCloseForm(request.POST if act == "close" else None)
    if request.method == "POST":
        try:
            if act == "update" and update_form.is_valid():
                svc.homeless_update(actor=user, case=case, changes={k: v for k, v in update_form.cleaned_data.items() if k in writable})
                messages.success(request, _("已保存。"))
                return redirect("care:homeless_detail", pk=pk)
            if act == "handoff" and handoff_form.is_valid():
                to = Department.objects.get(pk=handoff_form.cleaned_data["to_department"])
                svc.homeless_hand_off(actor=user, case=case, to_department=to, note=handoff_form.cleaned_data["note"])
                messages.success(request, _("已移交%(d)s。") % {"d": to.name})
                return redirect("care:homeless_list")
            if act == "close" and close_form.is_valid():
                svc.homeless_close(actor=user, case=case, **close_form.cleaned_data)
                messages.success(request, _("已办结。"))
                return redirect("care:homeless_detail", pk=pk)
        except CareError as exc:
            messages.error(request, exc.message)
    view = sel.homeless_case_view(user, case)
    return render(
        request,
        "care/homeless_detail.html",
        {"v": view, "holds": holds and not case.outcome, "update_form": update_form if writable else None, "handoff_form": handoff_form, "close_form": close_form},
    )
