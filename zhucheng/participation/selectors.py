"""Reads for the participation pages. Budgets, proposals, tallies, projects and the timeline are public
(the budget page needs no login); staff lists go through ``places.selectors.scoped``. Nothing here
reads a voter's choice: ballots are only ever counted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from zhucheng.places.selectors import get_scoped, scoped

from .aftercare import Scores, evaluation_scores, upkeep_overdue
from .models import (
    Budget,
    Channel,
    Comment,
    CouncilMeeting,
    Milestone,
    PaperSheet,
    PaperSheetState,
    Phase,
    Project,
    ProjectFlag,
    ProjectStatus,
    Proposal,
    ProposalState,
    Tally,
    TallyRule,
    TimelineEvent,
    UpkeepTask,
    VoterRegister,
)
from .tally import step_reason

PUBLIC_PROPOSAL_STATES = tuple(ProposalState.values)


# --- public --------------------------------------------------------------------------------------


def budgets_public() -> QuerySet[Budget]:
    return Budget.objects.select_related("unit", "unit__parent").order_by("-year", "unit__path")


def budget_public(pk: Any) -> Budget:
    return Budget.objects.select_related("unit").get(pk=pk)


def proposals_public(budget: Budget, *, ballot_only: bool = False) -> list[Proposal]:
    qs = Proposal.objects.filter(budget=budget).select_related("heading", "review").order_by("number")
    if ballot_only:
        qs = qs.filter(state=ProposalState.FEASIBLE)
    return list(qs)


def proposal_public(pk: Any) -> Proposal:
    return (
        Proposal.objects.select_related("budget", "budget__unit", "heading", "review")
        .prefetch_related(Prefetch("comments", queryset=Comment.objects.order_by("created_at", "id")), "photos")
        .get(pk=pk)
    )


def tallies_of(budget: Budget) -> dict[str, Tally]:
    return {t.rule: t for t in Tally.objects.filter(budget=budget)}


@dataclass(frozen=True)
class Step:
    position: int
    key: int
    title: str
    votes: int
    cost: int
    remaining_before: int
    remaining_after: int
    funded: bool
    reason: str


def steps_of(tally: Tally) -> list[Step]:
    return [
        Step(s["position"], s["key"], s.get("title", ""), s["votes"], s["cost"], s["remaining_before"], s["remaining_after"], s["funded"], step_reason(s))
        for s in tally.steps
    ]


@dataclass(frozen=True)
class ProjectCard:
    project: Project
    children: list[Project]
    scores: Scores
    overdue_milestones: int


def projects_public(budget: Budget) -> list[ProjectCard]:
    today = timezone.localdate()
    tops = list(
        Project.objects.filter(budget=budget, parent__isnull=True)
        .prefetch_related(Prefetch("children", queryset=Project.objects.order_by("id")))
        .annotate(late=Count("milestones", filter=Q(milestones__done_on__isnull=True, milestones__due_on__lt=today)))
        .order_by("id")
    )
    return [ProjectCard(p, list(p.children.all()), evaluation_scores(p), getattr(p, "late", 0)) for p in tops]


def project_public(pk: Any) -> Project:
    return Project.objects.select_related("budget", "budget__unit", "proposal", "parent").get(pk=pk)


def timeline_of(budget: Budget, *, project: Project | None = None, limit: int = 50) -> list[TimelineEvent]:
    qs = TimelineEvent.objects.filter(budget=budget)
    if project is not None:
        qs = qs.filter(Q(project=project) | Q(project__parent=project))
    return list(qs.order_by("-at", "-id")[:limit])


def turnout(budget: Budget) -> dict[str, int]:
    rows = dict(VoterRegister.objects.filter(budget=budget).values_list("channel").annotate(n=Count("id")).values_list("channel", "n"))
    return {"online": rows.get(Channel.ONLINE, 0), "paper": rows.get(Channel.PAPER, 0), "total": sum(rows.values())}


def map_features(budget: Budget) -> dict[str, Any]:
    """GeoJSON of the budget's located proposals and projects, plus the community outline."""
    features: list[dict[str, Any]] = []
    if budget.unit.boundary:
        features.append({"type": "Feature", "geometry": budget.unit.boundary, "properties": {"kind": "unit", "name": budget.unit.name}})
    projects = {p.proposal_id: p for p in Project.objects.filter(budget=budget, parent__isnull=True, proposal__isnull=False)}
    for p in Proposal.objects.filter(budget=budget, lat__isnull=False, lon__isnull=False).exclude(state=ProposalState.WITHDRAWN):
        project = projects.get(p.pk)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                "properties": {
                    "kind": "project" if project else "proposal",
                    "title": f"{p.number}. {p.title}",
                    "status": project.get_status_display() if project else p.get_state_display(),
                    "url": reverse("participation:project", args=[project.pk]) if project else reverse("participation:proposal", args=[p.pk]),
                    "state": p.state,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


# --- staff ---------------------------------------------------------------------------------------


def budgets_visible_to(user: Any) -> QuerySet[Budget]:
    return scoped(Budget.objects.select_related("unit"), user).order_by("-year", "unit__path")


def budget_get_for_user(user: Any, pk: Any) -> Budget:
    return get_scoped(Budget.objects.select_related("unit"), user, pk)


def project_get_for_user(user: Any, pk: Any) -> Project:
    return get_scoped(Project.objects.select_related("budget", "budget__unit", "parent", "proposal"), user, pk)


def budget_board(user: Any) -> list[dict[str, Any]]:
    """The staff landing: each visible budget with what waits for staff."""
    budgets = list(
        budgets_visible_to(user).annotate(
            pending=Count("proposals", filter=Q(proposals__state=ProposalState.SUBMITTED), distinct=True),
            n_proposals=Count("proposals", distinct=True),
        )
    )
    flags = dict(
        ProjectFlag.objects.filter(project__budget__in=budgets, resolved_at__isnull=True).values_list("project__budget").annotate(n=Count("id")).values_list("project__budget", "n")
    )
    sheets = dict(
        PaperSheet.objects.filter(budget__in=budgets).exclude(state__in=(PaperSheetState.MATCHED, PaperSheetState.RESOLVED)).values_list("budget").annotate(n=Count("id")).values_list("budget", "n")
    )
    return [{"budget": b, "pending": b.pending, "proposals": b.n_proposals, "flags": flags.get(b.pk, 0), "sheets": sheets.get(b.pk, 0)} for b in budgets]  # type: ignore[attr-defined]


def comments_for_moderation(budget: Budget, *, limit: int = 100) -> list[Comment]:
    return list(Comment.objects.filter(proposal__budget=budget).select_related("proposal").order_by("-created_at", "-id")[:limit])


def open_sheets(budget: Budget) -> list[PaperSheet]:
    return list(
        PaperSheet.objects.filter(budget=budget).exclude(state__in=(PaperSheetState.MATCHED, PaperSheetState.RESOLVED)).prefetch_related("entries", "entries__entered_by").order_by("state", "id")
    )


def paper_counts(budget: Budget) -> dict[str, int]:
    rows = dict(PaperSheet.objects.filter(budget=budget).values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    return {s: rows.get(s, 0) for s in PaperSheetState.values}


def flags_open(user: Any) -> list[ProjectFlag]:
    return list(scoped(ProjectFlag.objects.filter(resolved_at__isnull=True).select_related("project", "project__budget__unit"), user)[:100])


def upkeep_overdue_for(user: Any) -> list[UpkeepTask]:
    return list(upkeep_overdue(scoped(UpkeepTask.objects.all(), user))[:100])


def milestones_of(project: Project) -> list[Milestone]:
    return list(project.milestones.all())


def meetings_visible_to(user: Any) -> QuerySet[CouncilMeeting]:
    return scoped(CouncilMeeting.objects.select_related("council", "council__unit").prefetch_related("resolutions", "attendees"), user)


def meetings_public(budget: Budget) -> list[CouncilMeeting]:
    return list(
        CouncilMeeting.objects.filter(council__unit=budget.unit).prefetch_related("resolutions", "attendees").order_by("-held_on")[:10]
    )


def is_building_phase(budget: Budget) -> bool:
    return budget.phase_index >= list(Phase.values).index(Phase.BUILDING)


def active_projects(budget: Budget) -> int:
    return Project.objects.filter(budget=budget, parent__isnull=True, status=ProjectStatus.UNDER_WAY).count()


def tally_rules() -> list[tuple[str, str]]:
    return [(TallyRule.GREEDY, str(TallyRule.GREEDY.label)), (TallyRule.MES, str(TallyRule.MES.label))]


# --- staff: setting up budgets and the residents' council ----------------------------------------


def communities_managed_by(user: Any) -> QuerySet[Any]:
    """The communities (townships) in the user's subtrees over which they hold a staff post: where they
    may set up a budget or a council (``permissions.can_manage``)."""
    from zhucheng.places.models import OrgUnit, OrgUnitKind
    from zhucheng.places.selectors import units_for

    from . import permissions

    units = list(units_for(user).filter(kind__in=(OrgUnitKind.COMMUNITY, OrgUnitKind.TOWNSHIP)).order_by("path"))
    return (
        OrgUnit.objects.filter(pk__in=[u.pk for u in units if permissions.can_manage(user, u)])
        .select_related("parent")
        .order_by("path")
    )


def communities_without_council(user: Any) -> QuerySet[Any]:
    return communities_managed_by(user).filter(participation_council__isnull=True)


def councils_visible_to(user: Any) -> QuerySet[Any]:
    from .models import Council

    return scoped(
        Council.objects.select_related("unit", "unit__parent").annotate(
            n_members=Count("members", distinct=True), n_meetings=Count("meetings", distinct=True)
        ),
        user,
    ).order_by("unit__path")


def council_get_for_user(user: Any, pk: Any) -> Any:
    """One council within the user's scope; ``NotVisible`` whether missing or out of scope."""
    from .models import Council

    return get_scoped(Council.objects.select_related("unit", "unit__parent"), user, pk)


def council_meetings(council: Any) -> list[CouncilMeeting]:
    """Every meeting of a council with attendance, resolutions and the proposals they filed."""
    from .models import Resolution

    return list(
        CouncilMeeting.objects.filter(council=council)
        .prefetch_related(
            "attendees",
            Prefetch(
                "resolutions",
                queryset=Resolution.objects.order_by("id").prefetch_related(
                    Prefetch("proposals", queryset=Proposal.objects.select_related("budget").order_by("number"))
                ),
            ),
        )
        .order_by("-held_on", "-id")
    )


def budgets_open_for_proposals(unit: Any) -> QuerySet[Budget]:
    """The budgets of a community that take proposals now (where a council resolution can file one)."""
    return Budget.objects.filter(unit=unit, phase=Phase.PROPOSING).order_by("-year")
