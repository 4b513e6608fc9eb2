"""Participation pages (thin). Public, phone-first pages per community budget (no login to read;
residents log in to propose, support, comment, vote, supervise and evaluate) and staff pages for
review, moderation, paper ballots, tallying, projects and the council. Every write goes through the
services; refusals come back as the service's message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhucheng.places.selectors import NotVisible
from zhucheng.registry import selectors as registry_selectors

from . import aftercare, building, permissions, selectors, services, tally, voting
from .errors import ParticipationError
from .models import (
    PHASE_ORDER,
    AssigneeKind,
    Budget,
    Comment,
    Milestone,
    PaperSheet,
    Phase,
    Project,
    ProjectFlag,
    ProjectStatus,
    Proposal,
    ProposalState,
    TallyRule,
    UpkeepKind,
    UpkeepTask,
)

# --- helpers -------------------------------------------------------------------------------------


def staff_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if getattr(request.user, "is_resident", False):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _public_budget(pk: Any) -> Budget:
    try:
        return selectors.budget_public(pk)
    except Budget.DoesNotExist as exc:
        raise Http404(_("没有找到该预算。")) from exc


def _staff_budget(request: HttpRequest, pk: Any) -> Budget:
    try:
        return selectors.budget_get_for_user(request.user, pk)
    except NotVisible as exc:
        raise Http404(_("没有找到该预算,或它不在您的管辖范围内。")) from exc


def _staff_project(request: HttpRequest, pk: Any) -> Project:
    try:
        return selectors.project_get_for_user(request.user, pk)
    except NotVisible as exc:
        raise Http404(_("没有找到该项目,或它不在您的管辖范围内。")) from exc


def fen(value: Any, field: str = "amount") -> int:
    """A yuan amount typed in a form (``1234.5``) → fen."""
    try:
        amount = Decimal(str(value or "").replace(",", "").strip())
    except InvalidOperation as exc:
        raise ParticipationError(_("请输入金额(元),如 1200 或 1200.50。"), code="invalid", field=field) from exc
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ParticipationError(_("请输入大于零、最多两位小数的金额(元)。"), code="invalid", field=field)
    return int(amount * 100)


def _date(value: Any, field: str) -> date:
    try:
        return date.fromisoformat(str(value or ""))
    except ValueError as exc:
        raise ParticipationError(_("请选择日期。"), code="invalid", field=field) from exc


def _float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _ids(request: HttpRequest) -> list[int]:
    return [_int(v) for v in request.POST.getlist("proposals") if _int(v)]


def _budget_context(budget: Budget) -> dict[str, Any]:
    return {
        "budget": budget,
        "phases": [(p, str(Phase(p).label), i < budget.phase_index, p == budget.phase) for i, p in enumerate(PHASE_ORDER)],
        "phase_help": services.PHASE_HELP[budget.phase],
        "amount": services.yuan(budget.amount_fen),
    }


# --- public pages --------------------------------------------------------------------------------


def index(request: HttpRequest) -> HttpResponse:
    """社区公益金: every community's budgets (public)."""
    budgets = list(selectors.budgets_public()[:300])
    return render(request, "participation/index.html", {"budgets": budgets})


def budget_page(request: HttpRequest, pk: int) -> HttpResponse:
    budget = _public_budget(pk)
    ctx = _budget_context(budget)
    tallies = selectors.tallies_of(budget)
    greedy = tallies.get(TallyRule.GREEDY)
    ctx.update(
        proposals=selectors.proposals_public(budget),
        tally=greedy,
        winners=set(greedy.winners) if greedy else set(),
        projects=selectors.projects_public(budget),
        timeline=selectors.timeline_of(budget, limit=20),
        turnout=selectors.turnout(budget) if budget.phase_index >= PHASE_ORDER.index(Phase.VOTING) else None,
        headings=list(budget.headings.all()),
        meetings=selectors.meetings_public(budget),
        has_voted=voting.has_voted(budget, request.user) if getattr(request.user, "is_resident", False) else False,
        can_manage=permissions.can_manage(request.user, budget.unit) if request.user.is_authenticated and not getattr(request.user, "is_resident", False) else False,
    )
    return render(request, "participation/budget.html", ctx)


def map_data(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(selectors.map_features(_public_budget(pk)))


def proposal_page(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        proposal = selectors.proposal_public(pk)
    except Proposal.DoesNotExist as exc:
        raise Http404(_("没有找到该提案。")) from exc
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('accounts:login')}?next={request.path}")
        act = request.POST.get("act")
        try:
            if act == "support":
                added = services.proposal_support(actor=request.user, proposal=proposal)
                messages.success(request, _("已附议。") if added else _("您已附议过该提案。"))
            elif act == "comment":
                services.comment_add(actor=request.user, proposal=proposal, body=request.POST.get("body", ""))
                messages.success(request, _("评论已发表。"))
            elif act == "withdraw":
                services.proposal_withdraw(actor=request.user, proposal=proposal)
                messages.success(request, _("提案已撤回。"))
            else:
                raise Http404
        except ParticipationError as exc:
            messages.error(request, exc.message)
        return redirect("participation:proposal", pk=proposal.pk)
    return render(
        request,
        "participation/proposal.html",
        {"proposal": proposal, "budget": proposal.budget, "comments": list(proposal.comments.all()), "is_author": proposal.author_id == getattr(request.user, "pk", None)},
    )


@login_required
def propose(request: HttpRequest, pk: int) -> HttpResponse:
    budget = _public_budget(pk)
    error: ParticipationError | None = None
    values = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        try:
            heading = budget.headings.filter(pk=_int(request.POST.get("heading"))).first()
            proposal = services.proposal_submit(
                actor=request.user, budget=budget, title=request.POST.get("title", ""), description=request.POST.get("description", ""),
                estimated_cost_fen=fen(request.POST.get("cost"), "estimated_cost_fen"), heading=heading, place=request.POST.get("place", ""),
                lat=_float(request.POST.get("lat")), lon=_float(request.POST.get("lon")),
            )
            messages.success(request, _("提案已提交,编号 %(n)d。社区将在审查阶段答复其可行性。") % {"n": proposal.number})
            return redirect("participation:proposal", pk=proposal.pk)
        except ParticipationError as exc:
            error = exc
    return render(request, "participation/propose.html", {**_budget_context(budget), "error": error, "values": values, "headings": list(budget.headings.all())})


@login_required
def vote(request: HttpRequest, pk: int) -> HttpResponse:
    """投票: choose → check (核对) → cast; the receipt page shows the code once."""
    budget = _public_budget(pk)
    ctx = _budget_context(budget)
    proposals = selectors.proposals_public(budget, ballot_only=True)
    ctx.update(proposals=proposals, has_voted=voting.has_voted(budget, request.user))
    if budget.phase != Phase.VOTING:
        ctx["error"] = ParticipationError(_("当前是「%(p)s」阶段,不在投票时间。") % {"p": budget.get_phase_display()})
        return render(request, "participation/vote.html", ctx)
    try:
        voting.require_eligible(budget, request.user)
    except ParticipationError as exc:
        ctx["error"] = exc
        return render(request, "participation/vote.html", ctx)
    if request.method != "POST":
        return render(request, "participation/vote.html", ctx)
    chosen = _ids(request)
    receipt = request.POST.get("receipt", "").strip()
    ctx.update(chosen=set(chosen), receipt=receipt)
    try:
        check = voting.ballot_check(budget=budget, proposal_ids=chosen)
    except ParticipationError as exc:
        ctx["error"] = exc
        return render(request, "participation/vote.html", ctx)
    if request.POST.get("step") == "back":
        return render(request, "participation/vote.html", ctx)
    if request.POST.get("step") != "cast" or not check.ok:
        ctx["check"] = check
        return render(request, "participation/vote_check.html" if check.ok else "participation/vote.html", ctx)
    try:
        result = voting.ballot_cast(actor=request.user, budget=budget, proposal_ids=chosen, receipt=receipt, notify=request.POST.get("notify") == "1")
    except ParticipationError as exc:
        ctx["error"] = exc
        return render(request, "participation/vote.html", ctx)
    return render(request, "participation/vote_done.html", {**ctx, "result": result, "check": check})


def verify(request: HttpRequest, pk: int) -> HttpResponse:
    budget = _public_budget(pk)
    status = None
    error = None
    code = request.GET.get("receipt", "").strip()
    if code:
        try:
            status = voting.receipt_verify(budget=budget, receipt=code)
        except ParticipationError as exc:
            error = exc
    return render(request, "participation/verify.html", {**_budget_context(budget), "status": status, "error": error, "code": code})


def results(request: HttpRequest, pk: int) -> HttpResponse:
    budget = _public_budget(pk)
    tallies = selectors.tallies_of(budget)
    rows = [(rule, label, tallies[rule], selectors.steps_of(tallies[rule])) for rule, label in selectors.tally_rules() if rule in tallies]
    return render(request, "participation/results.html", {**_budget_context(budget), "rows": rows, "turnout": selectors.turnout(budget)})


def export_pb(request: HttpRequest, pk: int) -> HttpResponse:
    budget = _public_budget(pk)
    response = HttpResponse(tally.pabulib_text(budget), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="zhucheng_{budget.unit.code}_{budget.year}.pb"'
    return response


def project_page(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        project = selectors.project_public(pk)
    except Project.DoesNotExist as exc:
        raise Http404(_("没有找到该项目。")) from exc
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('accounts:login')}?next={request.path}")
        act = request.POST.get("act")
        try:
            if act == "supervise":
                building.supervisor_join(actor=request.user, project=project)
                messages.success(request, _("感谢您报名担任群众监督员。"))
            elif act == "observe":
                building.observation_add(actor=request.user, project=project, text=request.POST.get("text", ""), concern=request.POST.get("concern") == "1", photo=request.FILES.get("photo"))
                messages.success(request, _("监督记录已提交并公开。"))
            elif act == "evaluate":
                aftercare.evaluation_submit(
                    actor=request.user, project=project, quality=_int(request.POST.get("quality")), usefulness=_int(request.POST.get("usefulness")),
                    would_vote_again=request.POST.get("again") == "1", comment=request.POST.get("comment", ""),
                )
                messages.success(request, _("感谢您的评议。"))
            elif act == "upkeep_done":
                task = UpkeepTask.objects.get(pk=_int(request.POST.get("task")), project=project)
                aftercare.upkeep_done(actor=request.user, task=task, note=request.POST.get("note", ""))
                messages.success(request, _("已登记完成。"))
            else:
                raise Http404
        except (ParticipationError, UpkeepTask.DoesNotExist) as exc:
            messages.error(request, getattr(exc, "message", _("没有找到该任务。")))
        return redirect("participation:project", pk=project.pk)
    user = request.user
    return render(
        request,
        "participation/project.html",
        {
            "project": project,
            "budget": project.budget,
            "children": list(project.children.order_by("id")),
            "milestones": selectors.milestones_of(project),
            "spendings": list(project.spendings.order_by("spent_on", "id")),
            "observations": list(project.observations.select_related("supervisor")[:50]),
            "supervisors": list(project.supervisors.all()),
            "timeline": selectors.timeline_of(project.budget, project=project),
            "scores": aftercare.evaluation_scores(project),
            "upkeep": list(project.upkeep_tasks.order_by("-due_on")[:20]),
            "is_supervisor": user.is_authenticated and project.supervisors.filter(user=user).exists(),
            "spent_percent": min(100, round(100 * project.spent_fen / project.approved_fen)) if project.approved_fen else 0,
            "overspent": project.spent_fen > project.approved_fen,
            "can_manage": user.is_authenticated and not getattr(user, "is_resident", False) and permissions.can_manage(user, project.budget.unit),
            "approved": services.yuan(project.approved_fen),
            "spent": services.yuan(project.spent_fen),
        },
    )


# --- staff pages ---------------------------------------------------------------------------------


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    """Staff landing (群众点菜): budgets in my area with what waits for me, open flags, overdue upkeep."""
    return render(
        request,
        "participation/home.html",
        {"board": selectors.budget_board(request.user), "flags": selectors.flags_open(request.user), "overdue": selectors.upkeep_overdue_for(request.user)},
    )


@staff_required
def manage(request: HttpRequest, pk: int) -> HttpResponse:
    budget = _staff_budget(request, pk)
    ctx = _budget_context(budget)
    ctx.update(
        proposals=selectors.proposals_public(budget),
        comments=selectors.comments_for_moderation(budget),
        tallies=selectors.tallies_of(budget),
        projects=list(Project.objects.filter(budget=budget, parent__isnull=True).order_by("id")),
        turnout=selectors.turnout(budget),
        paper=selectors.paper_counts(budget),
        next_phase=PHASE_ORDER[budget.phase_index + 1] if budget.phase_index + 1 < len(PHASE_ORDER) else None,
        can_manage=permissions.can_manage(request.user, budget.unit),
    )
    if ctx["next_phase"]:
        ctx["next_phase_label"] = Phase(ctx["next_phase"]).label
    return render(request, "participation/manage.html", ctx)


@staff_required
@require_POST
def manage_act(request: HttpRequest, pk: int, act: str) -> HttpResponse:
    budget = _staff_budget(request, pk)
    try:
        if act == "advance":
            budget = services.budget_advance(actor=request.user, budget=budget, to=request.POST.get("to") or None)
            messages.success(request, _("已进入「%(p)s」阶段。") % {"p": budget.get_phase_display()})
        elif act == "review":
            proposal = Proposal.objects.get(pk=_int(request.POST.get("proposal")), budget=budget)
            services.proposal_review(
                actor=request.user, proposal=proposal, feasible=request.POST.get("feasible") == "1",
                cost_fen=fen(request.POST.get("cost"), "cost_fen"), explanation=request.POST.get("explanation", ""),
            )
            messages.success(request, _("已记录提案 %(n)d 的审查结论。") % {"n": proposal.number})
        elif act in ("hide", "restore"):
            comment = Comment.objects.get(pk=_int(request.POST.get("comment")), proposal__budget=budget)
            if act == "hide":
                services.comment_hide(actor=request.user, comment=comment, reason=request.POST.get("reason", ""))
                messages.success(request, _("评论已隐藏,原位置显示隐藏理由。"))
            else:
                services.comment_restore(actor=request.user, comment=comment, reason=request.POST.get("reason", "") or _("复核后恢复"))
                messages.success(request, _("评论已恢复显示。"))
        elif act == "tally":
            result = tally.tally_run(actor=request.user, budget=budget)
            messages.success(request, _("计票完成:有效选票 %(n)d 张,用时 %(s).2f 秒。") % {"n": result.greedy.ballots, "s": result.seconds})
        else:
            raise Http404
    except (Proposal.DoesNotExist, Comment.DoesNotExist) as exc:
        raise Http404 from exc
    except ParticipationError as exc:
        messages.error(request, exc.message)
    return redirect("participation:manage", pk=budget.pk)


@staff_required
def paper(request: HttpRequest, pk: int) -> HttpResponse:
    """纸质投票: mark a voter at the booth (by ID number), key sheets from the box, settle mismatches."""
    budget = _staff_budget(request, pk)
    if request.method == "POST":
        act = request.POST.get("act")
        try:
            if act == "mark":
                person = registry_selectors.person_find_by_id_number(request.user, request.POST.get("id_number", "").strip())
                if person is None:
                    raise ParticipationError(_("在您的辖区内没有找到该身份证号对应的人员。"), code="not_found", field="id_number")
                voting.paper_voter_mark(actor=request.user, budget=budget, person=person)
                messages.success(request, _("已登记 %(n)s 领取纸质选票。") % {"n": person.name[0] + "**"})
            elif act == "enter":
                result = voting.paper_sheet_enter(actor=request.user, budget=budget, receipt=request.POST.get("receipt", ""), proposal_ids=_ids(request))
                messages.success(request, _("已录入,该选票状态:%(s)s。") % {"s": result.sheet.get_state_display()})
            elif act == "resolve":
                sheet = PaperSheet.objects.get(pk=_int(request.POST.get("sheet")), budget=budget)
                voting.paper_sheet_resolve(actor=request.user, sheet=sheet, proposal_ids=_ids(request))
                messages.success(request, _("已复核并计入。"))
            else:
                raise Http404
        except PaperSheet.DoesNotExist as exc:
            raise Http404 from exc
        except ParticipationError as exc:
            messages.error(request, exc.message)
        return redirect("participation:paper", pk=budget.pk)
    return render(
        request,
        "participation/paper.html",
        {**_budget_context(budget), "proposals": selectors.proposals_public(budget, ballot_only=True), "sheets": selectors.open_sheets(budget), "counts": selectors.paper_counts(budget), "turnout": selectors.turnout(budget)},
    )


@staff_required
def project_manage(request: HttpRequest, pk: int) -> HttpResponse:
    project = _staff_project(request, pk)
    if request.method == "POST":
        act = request.POST.get("act")
        user = request.user
        try:
            if act == "update":
                building.project_update(
                    actor=user, project=project, status=request.POST.get("status") or None,
                    progress=_int(request.POST.get("progress"), -1) if request.POST.get("progress", "") != "" else None,
                    contractor=request.POST.get("contractor") if request.POST.get("contractor") is not None else None,
                    due_on=_date(request.POST.get("due_on"), "due_on") if request.POST.get("due_on") else None, note=request.POST.get("note", ""),
                )
            elif act == "milestone":
                building.milestone_add(actor=user, project=project, title=request.POST.get("title", ""), due_on=_date(request.POST.get("due_on"), "due_on"))
            elif act == "milestone_done":
                building.milestone_done(actor=user, milestone=Milestone.objects.get(pk=_int(request.POST.get("milestone")), project=project))
            elif act == "spending":
                building.spending_record(
                    actor=user, project=project, amount_fen=fen(request.POST.get("amount")), spent_on=_date(request.POST.get("spent_on"), "spent_on"),
                    description=request.POST.get("description", ""),
                )
            elif act == "child":
                building.project_add_child(
                    actor=user, parent=project, title=request.POST.get("title", ""), approved_fen=fen(request.POST.get("amount")), weight=_int(request.POST.get("weight"), 1)
                )
            elif act == "upkeep":
                aftercare.upkeep_schedule(
                    actor=user, project=project, kind=request.POST.get("kind", ""), title=request.POST.get("title", ""),
                    due_on=_date(request.POST.get("due_on"), "due_on"), assignee_kind=request.POST.get("assignee_kind", ""),
                    assignee_name=request.POST.get("assignee_name", ""), repeat_days=_int(request.POST.get("repeat_days")),
                )
            elif act == "upkeep_done":
                aftercare.upkeep_done(actor=user, task=UpkeepTask.objects.get(pk=_int(request.POST.get("task")), project=project), note=request.POST.get("note", ""))
            elif act == "flag_resolve":
                building.flag_resolve(actor=user, flag=ProjectFlag.objects.get(pk=_int(request.POST.get("flag")), project=project), resolution=request.POST.get("resolution", ""))
            else:
                raise Http404
            messages.success(request, _("已保存。"))
        except (Milestone.DoesNotExist, UpkeepTask.DoesNotExist, ProjectFlag.DoesNotExist) as exc:
            raise Http404 from exc
        except ParticipationError as exc:
            messages.error(request, exc.message)
        return redirect("participation:project_manage", pk=project.pk)
    return render(
        request,
        "participation/project_manage.html",
        {
            "project": project,
            "budget": project.budget,
            "children": list(project.children.order_by("id")),
            "milestones": selectors.milestones_of(project),
            "flags": list(project.flags.order_by("-raised_at")),
            "upkeep": list(project.upkeep_tasks.order_by("done_on", "due_on")),
            "statuses": ProjectStatus.choices,
            "upkeep_kinds": UpkeepKind.choices,
            "assignee_kinds": AssigneeKind.choices,
            "approved": services.yuan(project.approved_fen),
            "spent": services.yuan(project.spent_fen),
        },
    )


def state_label(state: str) -> str:
    return str(ProposalState(state).label)
