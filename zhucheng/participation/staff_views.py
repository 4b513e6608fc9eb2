"""Staff pages that set things up (thin): a community's yearly budget (年度社区公益金预算) and the
residents' council (居民议事会) with its members, meetings, minutes, attendance, resolutions and the
community's responses. Forms check what was typed; every write is a service call, and a refusal comes
back next to the field it concerns with nothing typed lost."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhucheng.places.selectors import NotVisible
from zhucheng.registry import selectors as registry_selectors

from . import council as council_services
from . import permissions, selectors, services
from .errors import ParticipationError
from .forms import BudgetForm, CouncilForm, MeetingForm, MemberForm, RecordForm, ResolutionForm, RespondForm, to_fen
from .models import Council, CouncilMeeting, CouncilMember, Resolution, ResolutionKind
from .views import staff_required

# --- budgets -------------------------------------------------------------------------------------


@staff_required
def budget_new(request: HttpRequest) -> HttpResponse:
    """设立年度预算 for a community the staff member manages; then on to its manage page."""
    units = selectors.communities_managed_by(request.user)
    if not units.exists():
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    form = BudgetForm(data, units=units, initial={"year": timezone.localdate().year})
    if data is not None and form.is_valid():
        try:
            budget = services.budget_create(actor=request.user, **form.service_arguments())
        except ParticipationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("已设立「%(t)s」,现在开始征集提案。") % {"t": budget.title})
            return redirect("participation:manage", pk=budget.pk)
    return render(request, "participation/budget_new.html", {"form": form})


# --- the residents' council ----------------------------------------------------------------------


def _council(request: HttpRequest, pk: Any) -> Council:
    try:
        return selectors.council_get_for_user(request.user, pk)
    except NotVisible as exc:
        raise Http404(_("没有找到该议事会,或它不在您的管辖范围内。")) from exc


@staff_required
def council_index(request: HttpRequest) -> HttpResponse:
    """居民议事会: the councils in my area, recent meetings, and setting up a council."""
    units = selectors.communities_without_council(request.user)
    data = request.POST if request.method == "POST" else None
    form = CouncilForm(data, units=units)
    if data is not None and form.is_valid():
        try:
            council = council_services.council_create(
                actor=request.user, unit=form.cleaned_data["unit"], name=form.council_name()
            )
        except ParticipationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("已设立「%(n)s」。请添加议事会成员。") % {"n": council.name})
            return redirect("participation:council_detail", pk=council.pk)
    councils = list(selectors.councils_visible_to(request.user))
    meetings = list(selectors.meetings_visible_to(request.user).order_by("-held_on", "-id")[:20])
    can_create = data is not None or units.exists()
    return render(
        request, "participation/council.html", {"councils": councils, "meetings": meetings, "form": form if can_create else None}
    )


def _members_on(members: list[CouncilMember], day: date) -> list[CouncilMember]:
    """As ``council.members_on``, from the members already read."""
    return [m for m in members if m.term_from <= day <= m.term_to]


def _council_context(request: HttpRequest, council: Council, bound: tuple[str, int, forms.Form] | None = None) -> dict[str, Any]:
    """The council page; ``bound`` is the form that was just refused (act, target id, form) and is shown as typed."""
    can_manage = permissions.can_manage(request.user, council.unit)
    today = timezone.localdate()
    members = list(council.members.order_by("term_from", "id"))
    meetings = selectors.council_meetings(council)
    budgets = list(selectors.budgets_open_for_proposals(council.unit)) if can_manage else []

    def pick(act: str, target: int, make: Any) -> Any:
        return bound[2] if bound is not None and bound[0] == act and bound[1] == target else make()

    upcoming: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    for m in meetings:
        resolutions = []
        for r in m.resolutions.all():
            answer = can_manage and r.kind != ResolutionKind.PROPOSAL and not r.response
            resolutions.append(
                {
                    "resolution": r,
                    "proposals": list(r.proposals.all()),
                    "form": pick("respond", r.pk, lambda r=r: RespondForm(prefix=f"resp{r.pk}")) if answer else None,
                }
            )
        row: dict[str, Any] = {
            "meeting": m,
            "attendees": list(m.attendees.all()),
            "resolutions": resolutions,
            "due": m.held_on <= today,
        }
        if can_manage and row["due"]:
            row["record_form"] = pick(
                "record",
                m.pk,
                lambda m=m: RecordForm(
                    members=_members_on(members, m.held_on),
                    prefix=f"rec{m.pk}",
                    initial={"minutes": m.minutes, "attendees": [str(a.pk) for a in m.attendees.all()]},
                ),
            )
        if can_manage and m.is_held:
            row["resolution_form"] = pick("resolution", m.pk, lambda m=m: ResolutionForm(budgets=budgets, prefix=f"res{m.pk}"))
        (held if m.is_held else upcoming).append(row)
    upcoming.sort(key=lambda row: (row["meeting"].held_on, row["meeting"].pk))
    return {
        "council": council,
        "can_manage": can_manage,
        "members": [{"member": m, "current": m.term_from <= today <= m.term_to, "future": m.term_from > today} for m in members],
        "current_members": sum(1 for m in members if m.term_from <= today <= m.term_to),
        "upcoming": upcoming,
        "held": held,
        "member_form": pick("member", 0, MemberForm) if can_manage else None,
        "meeting_form": pick("meeting", 0, MeetingForm) if can_manage else None,
        "budgets": budgets,
    }


@staff_required
def council_detail(request: HttpRequest, pk: int) -> HttpResponse:
    council = _council(request, pk)
    return render(request, "participation/council_detail.html", _council_context(request, council))


@staff_required
@require_POST
def council_act(request: HttpRequest, pk: int, act: str) -> HttpResponse:
    """One staff act on a council; on a refusal the council page comes back with the form as typed."""
    council = _council(request, pk)
    if not permissions.can_manage(request.user, council.unit):
        raise PermissionDenied
    user = request.user
    form: Any
    target = 0
    anchor = ""
    try:
        if act == "member":
            form = MemberForm(request.POST)
            if form.is_valid():
                d = form.cleaned_data
                person = None
                if d["id_number"].strip():
                    person = registry_selectors.person_find_by_id_number(user, d["id_number"])
                    if person is None:
                        raise ParticipationError(
                            _("在您的辖区内没有找到该身份证号对应的人员。"), code="not_found", field="id_number"
                        )
                member = council_services.member_add(
                    actor=user,
                    council=council,
                    name=d["name"].strip() or (person.name if person else ""),
                    role=d["role"],
                    term_from=d["term_from"],
                    term_to=d["term_to"],
                    person=person,
                )
                messages.success(request, _("已添加成员 %(n)s。") % {"n": member.name})
                anchor = "members"
        elif act == "meeting":
            form = MeetingForm(request.POST)
            if form.is_valid():
                d = form.cleaned_data
                meeting = council_services.meeting_schedule(
                    actor=user, council=council, held_on=d["held_on"], place=d["place"], agenda=d["agenda"]
                )
                messages.success(request, _("已安排 %(d)s 的会议。") % {"d": meeting.held_on.isoformat()})
                anchor = f"m-{meeting.pk}"
        elif act == "record":
            meeting = _meeting(council, request.POST.get("meeting"))
            target = meeting.pk
            form = RecordForm(
                request.POST, members=council_services.members_on(council, meeting.held_on), prefix=f"rec{meeting.pk}"
            )
            if form.is_valid():
                council_services.meeting_record(
                    actor=user, meeting=meeting, minutes=form.cleaned_data["minutes"], attendees=form.cleaned_data["attendees"]
                )
                messages.success(request, _("已记录会议纪要和出席情况。"))
                anchor = f"m-{meeting.pk}"
        elif act == "resolution":
            meeting = _meeting(council, request.POST.get("meeting"))
            target = meeting.pk
            form = ResolutionForm(
                request.POST, budgets=list(selectors.budgets_open_for_proposals(council.unit)), prefix=f"res{meeting.pk}"
            )
            if form.is_valid():
                d = form.cleaned_data
                proposal = d["kind"] == ResolutionKind.PROPOSAL
                resolution = council_services.resolution_add(
                    actor=user,
                    meeting=meeting,
                    kind=d["kind"],
                    text=d["text"],
                    votes_for=d["votes_for"],
                    votes_against=d["votes_against"] or 0,
                    abstentions=d["abstentions"] or 0,
                    budget=d["budget"] if proposal else None,
                    proposal_title=d["proposal_title"] if proposal else "",
                    proposal_cost_fen=to_fen(d["proposal_cost"]) if proposal else 0,
                )
                filed = council_services.proposals_of(resolution)
                if filed:
                    messages.success(
                        request, _("已登记决议,并形成提案 %(n)d「%(t)s」。") % {"n": filed[0].number, "t": filed[0].title}
                    )
                else:
                    messages.success(request, _("已登记决议。"))
                anchor = f"m-{meeting.pk}"
        elif act == "respond":
            resolution = _resolution(council, request.POST.get("resolution"))
            target = resolution.pk
            form = RespondForm(request.POST, prefix=f"resp{resolution.pk}")
            if form.is_valid():
                council_services.resolution_respond(actor=user, resolution=resolution, response=form.cleaned_data["response"])
                messages.success(request, _("已保存社区答复。"))
                anchor = f"m-{resolution.meeting_id}"
        else:
            raise Http404
    except ParticipationError as exc:
        form.add_service_error(exc)
    if form.is_bound and not form.errors:
        return redirect(reverse("participation:council_detail", args=[council.pk]) + (f"#{anchor}" if anchor else ""))
    return render(request, "participation/council_detail.html", _council_context(request, council, bound=(act, target, form)))


def _meeting(council: Council, pk: Any) -> CouncilMeeting:
    try:
        return council.meetings.get(pk=int(pk or 0))
    except (CouncilMeeting.DoesNotExist, TypeError, ValueError) as exc:
        raise Http404 from exc


def _resolution(council: Council, pk: Any) -> Resolution:
    try:
        return Resolution.objects.select_related("meeting").get(pk=int(pk or 0), meeting__council=council)
    except (Resolution.DoesNotExist, TypeError, ValueError) as exc:
        raise Http404 from exc
