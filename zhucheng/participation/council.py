"""The residents' council (居民议事会): members and terms, meetings with agenda, attendance, minutes and
resolutions; a resolution can become a proposal in the community's budget or a recommendation the
community answers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.places.models import OrgUnit

from .errors import ParticipationError
from .models import Budget, Council, CouncilMeeting, CouncilMember, Proposal, Resolution, ResolutionKind
from .services import clean_text, proposal_submit, require_staff


@transaction.atomic
def council_create(*, actor: Any, unit: OrgUnit, name: str) -> Council:
    require_staff(actor, unit)
    if Council.objects.filter(unit=unit).exists():
        raise ParticipationError(_("%(u)s已有居民议事会。") % {"u": unit.name}, code="duplicate")
    council = Council.objects.create(unit=unit, name=clean_text(name, "name", _("名称"), limit=100))
    audit_record(actor=actor, act="participation.council_create", obj=council, changed_fields=["name"])
    return council


@transaction.atomic
def member_add(
    *, actor: Any, council: Council, name: str, term_from: date, term_to: date, role: str = "议事员", person: Any = None
) -> CouncilMember:
    require_staff(actor, council.unit)
    if term_from >= term_to:
        raise ParticipationError(_("任期结束日期应晚于开始日期。"), code="invalid", field="term_to")
    member = CouncilMember.objects.create(
        council=council, name=clean_text(name, "name", _("姓名"), limit=60), role=clean_text(role, "role", _("职务"), limit=30),
        term_from=term_from, term_to=term_to, person=person,
    )
    audit_record(actor=actor, act="participation.member_add", obj=member, changed_fields=["name", "term_from", "term_to"])
    return member


def members_on(council: Council, day: date) -> list[CouncilMember]:
    return list(council.members.filter(term_from__lte=day, term_to__gte=day).order_by("id"))


@transaction.atomic
def meeting_schedule(*, actor: Any, council: Council, held_on: date, place: str, agenda: str) -> CouncilMeeting:
    require_staff(actor, council.unit)
    meeting = CouncilMeeting.objects.create(
        council=council, held_on=held_on, place=clean_text(place, "place", _("地点"), limit=120), agenda=clean_text(agenda, "agenda", _("议程"))
    )
    audit_record(actor=actor, act="participation.meeting_schedule", obj=meeting, changed_fields=["held_on", "agenda"])
    return meeting


@transaction.atomic
def meeting_record(*, actor: Any, meeting: CouncilMeeting, minutes: str, attendees: Iterable[CouncilMember]) -> CouncilMeeting:
    """会议纪要与出席: only members whose term covers the meeting day may be recorded as present."""
    meeting = CouncilMeeting.objects.select_for_update(of=("self",)).select_related("council__unit").get(pk=meeting.pk)
    require_staff(actor, meeting.council.unit)
    valid = {m.pk for m in members_on(meeting.council, meeting.held_on)}
    people = list(attendees)
    if any(m.pk not in valid for m in people):
        raise ParticipationError(_("出席人员中有不在任期内的成员。"), code="invalid", field="attendees")
    meeting.minutes = clean_text(minutes, "minutes", _("会议纪要"), limit=8000)
    meeting.save(update_fields=["minutes"])
    meeting.attendees.set(people)
    audit_record(actor=actor, act="participation.meeting_record", obj=meeting, changed_fields=["minutes", "attendees"])
    return meeting


@transaction.atomic
def resolution_add(
    *,
    actor: Any,
    meeting: CouncilMeeting,
    kind: str,
    text: str,
    votes_for: int,
    votes_against: int = 0,
    abstentions: int = 0,
    budget: Budget | None = None,
    proposal_title: str = "",
    proposal_cost_fen: int = 0,
) -> Resolution:
    """决议. A ``proposal`` resolution files a proposal in the community's budget (in its proposing phase)."""
    meeting = CouncilMeeting.objects.select_related("council__unit").get(pk=meeting.pk)
    require_staff(actor, meeting.council.unit)
    if kind not in ResolutionKind.values:
        raise ParticipationError(_("请选择决议类型。"), code="invalid", field="kind")
    present = meeting.attendees.count()
    if present and votes_for + votes_against + abstentions > present:
        raise ParticipationError(_("表决票数超过了出席人数 %(n)d。") % {"n": present}, code="invalid", field="votes_for")
    if votes_for <= votes_against:
        raise ParticipationError(_("赞成票未超过反对票,决议未通过,不予登记。"), code="not_passed", field="votes_for")
    resolution = Resolution.objects.create(
        meeting=meeting, kind=kind, text=clean_text(text, "text", _("决议内容")), votes_for=votes_for, votes_against=votes_against, abstentions=abstentions
    )
    if kind == ResolutionKind.PROPOSAL:
        if budget is None or budget.unit_id != meeting.council.unit_id:
            raise ParticipationError(_("请选择本社区的年度预算。"), code="required", field="budget")
        proposal_submit(
            actor=actor, budget=budget, title=proposal_title, description=resolution.text, estimated_cost_fen=proposal_cost_fen, resolution=resolution
        )
    audit_record(actor=actor, act="participation.resolution_add", obj=resolution, changed_fields=["kind", "text"])
    return resolution


@transaction.atomic
def resolution_respond(*, actor: Any, resolution: Resolution, response: str) -> Resolution:
    """社区答复 a recommendation of the council."""
    resolution = Resolution.objects.select_related("meeting__council__unit").get(pk=resolution.pk)
    require_staff(actor, resolution.meeting.council.unit)
    resolution.response = clean_text(response, "response", _("答复"), limit=2000)
    resolution.save(update_fields=["response"])
    audit_record(actor=actor, act="participation.resolution_respond", obj=resolution, changed_fields=["response"])
    return resolution


def proposals_of(resolution: Resolution) -> list[Proposal]:
    return list(resolution.proposals.all())
