"""Budgets and their phases, proposals, support, moderated comments and feasibility review (群众点菜).

One function per act, keyword-only, in one transaction, checked against the phase and the actor's
posts over the budget's community, audited (``participation.*``), with a public timeline entry.
Every act names the phase it belongs to: acting outside it is refused with the phase in the message.
Voting is in ``voting.py``, tallying in ``tally.py``, building in ``building.py``, evaluation and
upkeep in ``aftercare.py``, the residents' council in ``council.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhucheng.core.audit import audit_record
from zhucheng.core.context import acting_user
from zhucheng.core.masking import mask_name
from zhucheng.places.models import OrgUnit, OrgUnitKind

from . import permissions
from .errors import ParticipationError
from .models import (
    PHASE_ORDER,
    Budget,
    Comment,
    FeasibilityReview,
    Heading,
    Phase,
    Project,
    Proposal,
    ProposalState,
    Resolution,
    Support,
    TimelineEvent,
    VotingRule,
)

# act → the phases in which it is allowed.
ACT_PHASES: dict[str, tuple[str, ...]] = {
    "propose": (Phase.PROPOSING,),
    "support": (Phase.PROPOSING, Phase.REVIEWING),
    "withdraw": (Phase.PROPOSING, Phase.REVIEWING),
    "comment": (Phase.PROPOSING, Phase.REVIEWING, Phase.VOTING),
    "review": (Phase.REVIEWING,),
    "vote": (Phase.VOTING,),
    "paper_mark": (Phase.VOTING,),
    "paper_entry": (Phase.VOTING, Phase.TALLYING),
    "tally": (Phase.TALLYING,),
    "project": (Phase.BUILDING, Phase.EVALUATING, Phase.UPKEEP),
    "observe": (Phase.BUILDING, Phase.EVALUATING),
    "evaluate": (Phase.EVALUATING, Phase.UPKEEP),
    "upkeep": (Phase.EVALUATING, Phase.UPKEEP, Phase.FINISHED),
}
ACT_NAMES: dict[str, Any] = {
    "propose": gettext_lazy("提交提案"),
    "support": gettext_lazy("附议提案"),
    "withdraw": gettext_lazy("撤回提案"),
    "comment": gettext_lazy("发表评论"),
    "review": gettext_lazy("可行性审查"),
    "vote": gettext_lazy("投票"),
    "paper_mark": gettext_lazy("纸质投票登记"),
    "paper_entry": gettext_lazy("录入纸质选票"),
    "tally": gettext_lazy("计票"),
    "project": gettext_lazy("更新建设项目"),
    "observe": gettext_lazy("提交监督记录"),
    "evaluate": gettext_lazy("评议项目成效"),
    "upkeep": gettext_lazy("管护任务"),
}
# What residents and staff may do in each phase (shown on the budget page).
PHASE_HELP: dict[str, Any] = {
    Phase.PROPOSING: gettext_lazy("居民可以提交提案、附议和评论;议事会可以提出提案。"),
    Phase.REVIEWING: gettext_lazy("工作人员审查提案的可行性和费用,不通过的须公开说明理由;居民仍可附议和评论。"),
    Phase.VOTING: gettext_lazy("本社区登记居住的居民每人一票,可在投票截止前修改;老年人可到社区投票点投纸质选票。"),
    Phase.TALLYING: gettext_lazy("工作人员完成纸质选票录入后计票,公示每一步计票过程;居民可用回执码核对自己的选票。"),
    Phase.BUILDING: gettext_lazy("入选项目开工建设,进度、支出和监督员的记录全部公开;投票居民会收到项目状态变化的通知。"),
    Phase.EVALUATING: gettext_lazy("项目完工后,投票居民对建设质量和实用程度进行评议,结果公开。"),
    Phase.UPKEEP: gettext_lazy("项目交付后安排保洁、维修、巡查等管护任务,完成情况逐条登记。"),
    Phase.FINISHED: gettext_lazy("本年度公益金项目已全部结束。"),
}
MAX_PROPOSALS_PER_RESIDENT = 3


def now() -> datetime:
    return timezone.now()


def phase_label(phase: str) -> str:
    return str(Phase(phase).label)


def require_phase(budget: Budget, act: str) -> None:
    """Refuse an act outside its phases, naming the current phase and where the act belongs."""
    allowed = ACT_PHASES[act]
    if budget.phase not in allowed:
        raise ParticipationError(
            _("当前是「%(phase)s」阶段,不能%(act)s(%(act)s只在「%(allowed)s」阶段进行)。")
            % {
                "phase": phase_label(budget.phase),
                "act": ACT_NAMES[act],
                "allowed": "、".join(phase_label(p) for p in allowed),
            },
            code="wrong_phase",
        )


def require_staff(actor: Any, unit: OrgUnit) -> None:
    if not permissions.can_manage(actor, unit):
        raise ParticipationError(_("您没有权限管理该社区的公益金项目。"), code="forbidden")


def clean_text(value: str | None, field: str, label: str, *, limit: int = 4000, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ParticipationError(_("请填写%(label)s。") % {"label": label}, code="required", field=field)
    if len(value) > limit:
        raise ParticipationError(_("%(label)s不能超过 %(n)d 字。") % {"label": label, "n": limit}, code="too_long", field=field)
    return value


def yuan(fen: int) -> str:
    """``1234500`` → ``12,345.00 元`` (money is kept in fen)."""
    return _("%(v)s 元") % {"v": f"{fen / 100:,.2f}"}


def timeline(budget: Budget, kind: str, text: str, *, project: Project | None = None) -> TimelineEvent:
    return TimelineEvent.objects.create(budget=budget, project=project, kind=kind, text=text[:400], at=now())


def lock_budget(budget: Budget) -> Budget:
    return Budget.objects.select_for_update(of=("self",)).select_related("unit").get(pk=budget.pk)


def public_name(user: Any) -> str:
    """The name shown publicly beside a proposal or comment: the surname and stars."""
    name = getattr(user, "display_name", "") or ""
    return mask_name(name) if name else _("居民")


# --- budgets -------------------------------------------------------------------------------------


@transaction.atomic
def budget_create(
    *,
    actor: Any,
    unit: OrgUnit,
    year: int,
    title: str,
    amount_fen: int,
    description: str = "",
    headings: Iterable[tuple[str, int]] = (),
    voting_rule: str = VotingRule.KNAPSACK,
    min_choices: int = 1,
    max_choices: int = 5,
    min_spend_percent: int = 0,
    min_age: int = 16,
    min_residence_months: int = 0,
    allow_migrants: bool = True,
    schedule: dict[str, str] | None = None,
    voting_closes_at: datetime | None = None,
) -> Budget:
    """设立年度预算: a community's yearly budget, opening in the proposing phase."""
    require_staff(actor, unit)
    if unit.kind not in (OrgUnitKind.COMMUNITY, OrgUnitKind.TOWNSHIP):
        raise ParticipationError(_("公益金预算只能按社区(乡镇)设立。"), code="invalid", field="unit")
    title = clean_text(title, "title", _("名称"), limit=120)
    if amount_fen <= 0:
        raise ParticipationError(_("预算金额必须大于零。"), code="invalid", field="amount_fen")
    if voting_rule not in VotingRule.values:
        raise ParticipationError(_("投票规则无效。"), code="invalid", field="voting_rule")
    if not 1 <= min_choices <= max_choices:
        raise ParticipationError(_("最少选择项数必须在 1 和最多选择项数之间。"), code="invalid", field="min_choices")
    if not 0 <= min_spend_percent <= 100:
        raise ParticipationError(_("最低使用预算比例应在 0 到 100 之间。"), code="invalid", field="min_spend_percent")
    if not 0 <= min_age <= 120:
        raise ParticipationError(_("最低投票年龄应在 0 到 120 之间。"), code="invalid", field="min_age")
    headings = _clean_headings(headings, amount_fen)
    if Budget.objects.filter(unit=unit, year=year).exists():
        raise ParticipationError(_("%(unit)s %(year)d 年度的预算已经设立。") % {"unit": unit.name, "year": year}, code="duplicate", field="year")
    budget = Budget.objects.create(
        unit=unit, year=year, title=title, amount_fen=amount_fen, description=description.strip(),
        voting_rule=voting_rule, min_choices=min_choices, max_choices=max_choices, min_spend_percent=min_spend_percent,
        min_age=min_age, min_residence_months=min_residence_months, allow_migrants=allow_migrants,
        schedule=dict(schedule or {}), voting_closes_at=voting_closes_at, phase=Phase.PROPOSING, phase_since=now(),
    )
    for name, amount in headings:
        Heading.objects.create(budget=budget, name=name, amount_fen=amount)
    timeline(budget, "budget_create", _("设立%(title)s,预算 %(amount)s,开始征集提案。") % {"title": title, "amount": yuan(amount_fen)})
    audit_record(actor=actor, act="participation.budget_create", obj=budget, changed_fields=["unit", "year", "amount_fen", "voting_rule"])
    return budget


def _clean_headings(headings: Iterable[tuple[str, int]], amount_fen: int) -> list[tuple[str, int]]:
    """Budget headings (类别): named, each name once and at most 40 characters, amounts not negative
    and together within the budget."""
    cleaned: list[tuple[str, int]] = []
    seen: set[str] = set()
    for name, amount in headings:
        name = (name or "").strip()
        if not name:
            raise ParticipationError(_("请填写类别名称。"), code="required", field="headings")
        if len(name) > 40:
            raise ParticipationError(_("类别名称“%(name)s”超过 40 个字。") % {"name": name[:40]}, code="too_long", field="headings")
        if name in seen:
            raise ParticipationError(_("类别“%(name)s”重复了。") % {"name": name}, code="duplicate", field="headings")
        if amount < 0:
            raise ParticipationError(_("类别“%(name)s”的金额不能为负数。") % {"name": name}, code="invalid", field="headings")
        seen.add(name)
        cleaned.append((name, amount))
    if sum(amount for _name, amount in cleaned) > amount_fen:
        raise ParticipationError(_("各类别金额之和超过了预算金额。"), code="invalid", field="headings")
    return cleaned


def _check_leave(budget: Budget, to: str) -> None:
    """What must be true before a budget may leave its phase for ``to``."""
    if to == Phase.VOTING:
        pending = budget.proposals.filter(state=ProposalState.SUBMITTED).count()
        if pending:
            raise ParticipationError(_("还有 %(n)d 项提案未完成可行性审查,不能开始投票。") % {"n": pending}, code="not_ready")
        if not budget.proposals.filter(state=ProposalState.FEASIBLE).exists():
            raise ParticipationError(_("没有通过审查的提案,不能开始投票。"), code="not_ready")
    if to == Phase.BUILDING and not budget.tallies.exists():
        raise ParticipationError(_("尚未计票公示,不能进入建设阶段。"), code="not_ready")


@transaction.atomic
def budget_advance(*, actor: Any, budget: Budget, to: str | None = None, reason: str = "") -> Budget:
    """进入下一阶段. Phases only move forward, one at a time."""
    budget = lock_budget(budget)
    require_staff(actor, budget.unit)
    index = PHASE_ORDER.index(budget.phase)
    if index == len(PHASE_ORDER) - 1:
        raise ParticipationError(_("预算已结束,没有下一阶段。"), code="wrong_phase")
    nxt = PHASE_ORDER[index + 1]
    if to is not None and to != nxt:
        raise ParticipationError(
            _("只能从「%(phase)s」进入「%(next)s」,不能直接进入「%(to)s」。")
            % {"phase": phase_label(budget.phase), "next": phase_label(nxt), "to": phase_label(to) if to in PHASE_ORDER else to},
            code="wrong_phase",
        )
    _check_leave(budget, nxt)
    before = budget.phase
    budget.phase = nxt
    budget.phase_since = now()
    budget.save(update_fields=["phase", "phase_since", "updated_at"])
    if nxt == Phase.BUILDING:
        from .building import projects_from_tally

        projects_from_tally(budget=budget)
    timeline(budget, "phase", _("由「%(a)s」进入「%(b)s」阶段。") % {"a": phase_label(before), "b": phase_label(nxt)})
    if before == Phase.VOTING:
        reason = (reason + " " if reason else "") + register_digest(budget)
    audit_record(actor=actor, act="participation.budget_advance", obj=budget, changed_fields=["phase"], reason=reason)
    return budget


def register_digest(budget: Budget) -> str:
    """The voter register at the close of the vote, for the audit trail: its size and a SHA-256 over
    (person, channel, time) rows in person order (one audit event instead of one per ballot)."""
    import hashlib

    from .models import VoterRegister

    h = hashlib.sha256()
    n = 0
    for person_id, channel, voted_at in VoterRegister.objects.filter(budget=budget).order_by("person_id").values_list("person_id", "channel", "voted_at").iterator(chunk_size=20000):
        h.update(f"{person_id}|{channel}|{voted_at.isoformat()}\n".encode())
        n += 1
    return f"register={n} sha256={h.hexdigest()}"


# --- proposals -----------------------------------------------------------------------------------


def _next_number(budget: Budget) -> int:
    last = Proposal.objects.filter(budget=budget).aggregate(m=Max("number"))["m"] or 0
    return int(last) + 1


@transaction.atomic
def proposal_submit(
    *,
    actor: Any,
    budget: Budget,
    title: str,
    description: str,
    estimated_cost_fen: int,
    heading: Heading | None = None,
    place: str = "",
    lat: float | None = None,
    lon: float | None = None,
    on_behalf_of: str = "",
    resolution: Resolution | None = None,
) -> Proposal:
    """提交提案: by a verified resident of the community, by staff on a resident's behalf (desk),
    or by the council (``resolution``)."""
    from .voting import require_eligible

    budget = lock_budget(budget)
    require_phase(budget, "propose")
    is_staff = permissions.can_manage(actor, budget.unit)
    if resolution is not None or on_behalf_of:
        require_staff(actor, budget.unit)
    elif not is_staff:
        require_eligible(budget, actor)
        mine = Proposal.objects.filter(budget=budget, author=actor).exclude(state=ProposalState.WITHDRAWN).count()
        if mine >= MAX_PROPOSALS_PER_RESIDENT:
            raise ParticipationError(
                _("每位居民每年最多提交 %(n)d 项提案。") % {"n": MAX_PROPOSALS_PER_RESIDENT}, code="too_many", field="title"
            )
    title = clean_text(title, "title", _("标题"), limit=120)
    description = clean_text(description, "description", _("内容"), limit=4000)
    if not estimated_cost_fen or estimated_cost_fen <= 0:
        raise ParticipationError(_("请填写估算费用(大于零)。"), code="required", field="estimated_cost_fen")
    if estimated_cost_fen > budget.amount_fen:
        raise ParticipationError(
            _("估算费用 %(cost)s 超过了本社区全年预算 %(amount)s。") % {"cost": yuan(estimated_cost_fen), "amount": yuan(budget.amount_fen)},
            code="too_costly", field="estimated_cost_fen",
        )
    if heading is not None and heading.budget_id != budget.pk:
        raise ParticipationError(_("类别不属于本预算。"), code="invalid", field="heading")
    if (lat is None) != (lon is None):
        raise ParticipationError(_("请在地图上选择地点,或不填写坐标。"), code="invalid", field="lat")
    if resolution is not None:
        label = resolution.meeting.council.name
    elif on_behalf_of:
        label = mask_name(on_behalf_of)
    else:
        label = public_name(actor)
    proposal = Proposal.objects.create(
        budget=budget, heading=heading, number=_next_number(budget), title=title, description=description,
        place=(place or "").strip()[:200], lat=lat, lon=lon, estimated_cost_fen=estimated_cost_fen, cost_fen=estimated_cost_fen,
        author=acting_user(actor), author_label=label, resolution=resolution,
        submitted_at=now(),
    )
    timeline(budget, "proposal", _("收到提案 %(n)d「%(t)s」(%(who)s)。") % {"n": proposal.number, "t": title, "who": label})
    audit_record(actor=actor, act="participation.proposal_submit", obj=proposal, changed_fields=["title", "description", "estimated_cost_fen"])
    return proposal


@transaction.atomic
def proposal_withdraw(*, actor: Any, proposal: Proposal, reason: str = "") -> Proposal:
    proposal = Proposal.objects.select_for_update(of=("self",)).select_related("budget", "budget__unit").get(pk=proposal.pk)
    require_phase(proposal.budget, "withdraw")
    if proposal.author_id != getattr(actor, "pk", None) and not permissions.can_manage(actor, proposal.budget.unit):
        raise ParticipationError(_("只有提出人可以撤回提案。"), code="forbidden")
    if proposal.state not in (ProposalState.SUBMITTED, ProposalState.FEASIBLE):
        raise ParticipationError(_("该提案已是「%(s)s」状态,不能撤回。") % {"s": proposal.get_state_display()}, code="invalid_transition")
    proposal.state = ProposalState.WITHDRAWN
    proposal.save(update_fields=["state", "updated_at"])
    timeline(proposal.budget, "proposal", _("提案 %(n)d「%(t)s」已撤回。") % {"n": proposal.number, "t": proposal.title})
    audit_record(actor=actor, act="participation.proposal_withdraw", obj=proposal, changed_fields=["state"], reason=reason)
    return proposal


@transaction.atomic
def proposal_support(*, actor: Any, proposal: Proposal) -> bool:
    """附议: once per resident; returns False when already supported."""
    from .voting import require_eligible

    proposal = Proposal.objects.select_related("budget", "budget__unit").get(pk=proposal.pk)
    require_phase(proposal.budget, "support")
    require_eligible(proposal.budget, actor)
    if proposal.state in (ProposalState.WITHDRAWN, ProposalState.REJECTED):
        raise ParticipationError(_("该提案已是「%(s)s」状态,不能附议。") % {"s": proposal.get_state_display()}, code="invalid_transition")
    _row, created = Support.objects.get_or_create(proposal=proposal, user=actor)
    if created:
        Proposal.objects.filter(pk=proposal.pk).update(supports=F("supports") + 1)
        audit_record(actor=actor, act="participation.proposal_support", obj=proposal)
    return created


@transaction.atomic
def proposal_review(
    *, actor: Any, proposal: Proposal, feasible: bool, cost_fen: int, explanation: str = ""
) -> FeasibilityReview:
    """可行性审查: the reviewed cost becomes the cost voters see; a rejection must be explained publicly."""
    proposal = Proposal.objects.select_for_update(of=("self",)).select_related("budget", "budget__unit").get(pk=proposal.pk)
    budget = proposal.budget
    require_staff(actor, budget.unit)
    require_phase(budget, "review")
    if proposal.state not in (ProposalState.SUBMITTED, ProposalState.FEASIBLE, ProposalState.REJECTED):
        raise ParticipationError(_("该提案已是「%(s)s」状态,不能审查。") % {"s": proposal.get_state_display()}, code="invalid_transition")
    if not cost_fen or cost_fen <= 0:
        raise ParticipationError(_("请填写审定费用(大于零)。"), code="required", field="cost_fen")
    explanation = clean_text(explanation, "explanation", _("公开说明"), required=not feasible)
    if feasible and cost_fen > budget.amount_fen:
        raise ParticipationError(
            _("审定费用 %(cost)s 超过了全年预算 %(amount)s,应判为不可行并说明理由。") % {"cost": yuan(cost_fen), "amount": yuan(budget.amount_fen)},
            code="too_costly", field="cost_fen",
        )
    review, _created = FeasibilityReview.objects.update_or_create(
        proposal=proposal,
        defaults={"feasible": feasible, "cost_fen": cost_fen, "explanation": explanation, "reviewer": acting_user(actor), "reviewed_at": now()},
    )
    proposal.cost_fen = cost_fen
    proposal.state = ProposalState.FEASIBLE if feasible else ProposalState.REJECTED
    proposal.save(update_fields=["cost_fen", "state", "updated_at"])
    if feasible:
        text = _("提案 %(n)d「%(t)s」通过可行性审查,审定费用 %(c)s。") % {"n": proposal.number, "t": proposal.title, "c": yuan(cost_fen)}
    else:
        text = _("提案 %(n)d「%(t)s」未通过可行性审查:%(why)s") % {"n": proposal.number, "t": proposal.title, "why": explanation}
    timeline(budget, "review", text)
    audit_record(actor=actor, act="participation.proposal_review", obj=proposal, changed_fields=["state", "cost_fen"])
    return review


# --- comments (moderated, never deleted) ---------------------------------------------------------


@transaction.atomic
def comment_add(*, actor: Any, proposal: Proposal, body: str) -> Comment:
    from .voting import require_eligible

    proposal = Proposal.objects.select_related("budget", "budget__unit").get(pk=proposal.pk)
    require_phase(proposal.budget, "comment")
    is_staff = permissions.can_manage(actor, proposal.budget.unit)
    if not is_staff:
        require_eligible(proposal.budget, actor)
    body = clean_text(body, "body", _("评论内容"), limit=1000)
    label = _("社区工作人员") if is_staff else public_name(actor)
    comment = Comment.objects.create(proposal=proposal, author=acting_user(actor), author_label=label, body=body)
    audit_record(actor=actor, act="participation.comment_add", obj=comment, changed_fields=["body"])
    return comment


@transaction.atomic
def comment_hide(*, actor: Any, comment: Comment, reason: str) -> Comment:
    """隐藏评论: the comment stays in the database and its place on the page shows the public reason."""
    comment = Comment.objects.select_for_update(of=("self",)).select_related("proposal__budget__unit").get(pk=comment.pk)
    require_staff(actor, comment.proposal.budget.unit)
    reason = clean_text(reason, "reason", _("隐藏理由"), limit=200)
    if comment.hidden_at is not None:
        raise ParticipationError(_("该评论已被隐藏。"), code="invalid_transition")
    comment.hidden_at = now()
    comment.hidden_reason = reason
    comment.hidden_by = acting_user(actor)
    comment.save(update_fields=["hidden_at", "hidden_reason", "hidden_by"])
    audit_record(actor=actor, act="participation.comment_hide", obj=comment, changed_fields=["hidden_at", "hidden_reason"], reason=reason)
    return comment


@transaction.atomic
def comment_restore(*, actor: Any, comment: Comment, reason: str) -> Comment:
    comment = Comment.objects.select_for_update(of=("self",)).select_related("proposal__budget__unit").get(pk=comment.pk)
    require_staff(actor, comment.proposal.budget.unit)
    reason = clean_text(reason, "reason", _("恢复理由"), limit=200)
    comment.hidden_at = None
    comment.hidden_reason = ""
    comment.hidden_by = None
    comment.save(update_fields=["hidden_at", "hidden_reason", "hidden_by"])
    audit_record(actor=actor, act="participation.comment_restore", obj=comment, changed_fields=["hidden_at"], reason=reason)
    return comment
