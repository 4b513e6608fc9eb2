"""Building under the residents' eyes (建设过程群众监督): funded proposals become tracked projects with a
contractor, milestones, progress, spending and photos; volunteer supervisors post observations; child
works roll their weighted progress up (Decidim's accountability); every change is on the public
timeline; overspending and missed milestones are flagged to the community staff; voters who asked
to hear are told when a project of their budget changes status.

Ballots hold no voter key, so "voters who chose this project" cannot be known; the notification
list is the budget's register of voters who opted in (``VoterRegister.notify``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.core.context import acting_user
from zhucheng.core.notify import notify
from zhucheng.places.models import Membership, Role

from .errors import ParticipationError
from .models import (
    Budget,
    FlagKind,
    Milestone,
    Observation,
    Project,
    ProjectFlag,
    ProjectStatus,
    Proposal,
    ProposalState,
    Spending,
    Supervisor,
    Tally,
    TallyRule,
    VoterRegister,
)
from .services import clean_text, now, public_name, require_phase, require_staff, timeline, yuan

TRANSITIONS: dict[str, tuple[str, ...]] = {
    ProjectStatus.PLANNED: (ProjectStatus.UNDER_WAY, ProjectStatus.CANCELLED),
    ProjectStatus.UNDER_WAY: (ProjectStatus.PAUSED, ProjectStatus.COMPLETED, ProjectStatus.CANCELLED),
    ProjectStatus.PAUSED: (ProjectStatus.UNDER_WAY, ProjectStatus.CANCELLED),
    ProjectStatus.COMPLETED: (),
    ProjectStatus.CANCELLED: (),
}


def projects_from_tally(*, budget: Budget) -> list[Project]:
    """One tracked project per proposal the binding (greedy) count selected (called on entering building)."""
    tally = Tally.objects.filter(budget=budget, rule=TallyRule.GREEDY).first()
    if tally is None:
        return []
    made = []
    for proposal in Proposal.objects.filter(budget=budget, number__in=tally.winners, state=ProposalState.SELECTED, project__isnull=True):
        made.append(
            Project.objects.create(
                budget=budget, proposal=proposal, title=proposal.title, description=proposal.description,
                approved_fen=proposal.cost_fen, lat=proposal.lat, lon=proposal.lon,
            )
        )
    return made


def _lock(project: Project) -> Project:
    return Project.objects.select_for_update(of=("self",)).select_related("budget", "budget__unit", "parent").get(pk=project.pk)


def staff_of(budget: Budget) -> list[Any]:
    """Community staff over the budget's community (posts on it or inside it)."""
    rows = Membership.objects.active().filter(role=Role.COMMUNITY_STAFF, unit__path__startswith=budget.unit.path).select_related("user")
    return [m.user for m in rows if m.user.is_active]


def _tell_staff(budget: Budget, text: str) -> int:
    sent = 0
    for user in staff_of(budget):
        if user.phone:
            notify(channel="sms", address=user.phone, text=text)
            sent += 1
    return sent


def notify_voters(budget: Budget, text: str) -> int:
    """Tell every voter of the budget who opted in (phone from the registry, else from the account)."""
    sent = 0
    rows = VoterRegister.objects.filter(budget=budget, notify=True).select_related("person", "person__user")
    for row in rows.iterator(chunk_size=2000):
        person = row.person
        phone = person.phone or (person.user.phone if person.user is not None else "")
        if phone:
            notify(channel="sms", address=phone, text=text)
            sent += 1
    return sent


def rollup(project: Project | None) -> None:
    """Recompute a parent's progress as the weighted mean of its children's, up to the top."""
    while project is not None:
        children = list(Project.objects.filter(parent=project).exclude(status=ProjectStatus.CANCELLED).values_list("progress", "weight"))
        if children:
            total = sum(w for _p, w in children)
            value = round(sum(p * w for p, w in children) / total) if total else 0
            Project.objects.filter(pk=project.pk).update(progress=value)
        project = Project.objects.filter(pk=project.parent_id).first() if project.parent_id else None


@transaction.atomic
def project_update(
    *,
    actor: Any,
    project: Project,
    status: str | None = None,
    progress: int | None = None,
    contractor: str | None = None,
    starts_on: date | None = None,
    due_on: date | None = None,
    note: str = "",
) -> Project:
    """更新项目: status, progress (leaf works only: a parent's is rolled up), contractor, dates."""
    project = _lock(project)
    budget = project.budget
    require_staff(actor, budget.unit)
    require_phase(budget, "project")
    changed: list[str] = []
    texts: list[str] = []
    status_changed = False
    if contractor is not None and contractor.strip() != project.contractor:
        project.contractor = clean_text(contractor, "contractor", _("施工单位"), limit=120)
        changed.append("contractor")
        texts.append(_("施工单位:%(c)s") % {"c": project.contractor})
    if starts_on is not None and starts_on != project.starts_on:
        project.starts_on = starts_on
        changed.append("starts_on")
    if due_on is not None and due_on != project.due_on:
        project.due_on = due_on
        changed.append("due_on")
        texts.append(_("计划完工日期:%(d)s") % {"d": due_on.isoformat()})
    if progress is not None and progress != project.progress:
        if project.children.exists():
            raise ParticipationError(_("该项目的进度由各子项目按权重汇总,请更新子项目。"), code="rolled_up", field="progress")
        if not 0 <= progress <= 100:
            raise ParticipationError(_("进度应在 0 到 100 之间。"), code="invalid", field="progress")
        project.progress = progress
        changed.append("progress")
        texts.append(_("进度 %(p)d%%") % {"p": progress})
    if status is not None and status != project.status:
        if status not in TRANSITIONS.get(project.status, ()):
            raise ParticipationError(
                _("项目不能从「%(a)s」变为「%(b)s」。") % {"a": project.get_status_display(), "b": ProjectStatus(status).label if status in ProjectStatus.values else status},
                code="invalid_transition", field="status",
            )
        if status == ProjectStatus.CANCELLED:
            note = clean_text(note, "note", _("取消理由"), limit=300)
        project.status = status
        changed.append("status")
        status_changed = True
        if status == ProjectStatus.COMPLETED:
            project.progress = 100
            project.completed_on = timezone.localdate()
            changed += ["progress", "completed_on"]
        texts.insert(0, _("状态变为「%(s)s」") % {"s": project.get_status_display()})
    if not changed:
        return project
    project.save()
    if "progress" in changed:
        rollup(project.parent)
    text = _("「%(t)s」:%(what)s") % {"t": project.title, "what": ";".join(texts) or _("计划已调整")}
    if note:
        text += _("(%(n)s)") % {"n": note}
    timeline(budget, "project", text, project=project)
    if status_changed and project.parent_id is None:
        notify_voters(
            budget,
            _("【筑城】您参与投票的%(b)s项目「%(t)s」状态变为「%(s)s」,详情请查看社区公益金公示页。")
            % {"b": budget.title, "t": project.title, "s": project.get_status_display()},
        )
    audit_record(actor=actor, act="participation.project_update", obj=project, changed_fields=changed, reason=note)
    return project


@transaction.atomic
def project_add_child(*, actor: Any, parent: Project, title: str, approved_fen: int, weight: int = 1) -> Project:
    """子项目: a large project split into works whose weighted progress rolls up into it."""
    parent = _lock(parent)
    require_staff(actor, parent.budget.unit)
    require_phase(parent.budget, "project")
    title = clean_text(title, "title", _("名称"), limit=120)
    if weight < 1:
        raise ParticipationError(_("权重至少为 1。"), code="invalid", field="weight")
    allotted = sum(Project.objects.filter(parent=parent).values_list("approved_fen", flat=True))
    if approved_fen <= 0 or allotted + approved_fen > parent.approved_fen:
        raise ParticipationError(
            _("子项目金额合计不能超过项目批准金额 %(a)s(已分配 %(u)s)。") % {"a": yuan(parent.approved_fen), "u": yuan(allotted)},
            code="too_costly", field="approved_fen",
        )
    child = Project.objects.create(budget=parent.budget, parent=parent, title=title, approved_fen=approved_fen, weight=weight, lat=parent.lat, lon=parent.lon)
    rollup(parent)
    timeline(parent.budget, "project", _("「%(p)s」增加子项目「%(t)s」,金额 %(a)s。") % {"p": parent.title, "t": title, "a": yuan(approved_fen)}, project=parent)
    audit_record(actor=actor, act="participation.project_add_child", obj=child, changed_fields=["title", "approved_fen", "weight"])
    return child


@transaction.atomic
def milestone_add(*, actor: Any, project: Project, title: str, due_on: date) -> Milestone:
    project = _lock(project)
    require_staff(actor, project.budget.unit)
    require_phase(project.budget, "project")
    title = clean_text(title, "title", _("节点名称"), limit=120)
    milestone = Milestone.objects.create(project=project, title=title, due_on=due_on)
    timeline(project.budget, "milestone", _("「%(p)s」设定节点「%(t)s」,计划 %(d)s 完成。") % {"p": project.title, "t": title, "d": due_on.isoformat()}, project=project)
    audit_record(actor=actor, act="participation.milestone_add", obj=milestone, changed_fields=["title", "due_on"])
    return milestone


@transaction.atomic
def milestone_done(*, actor: Any, milestone: Milestone, done_on: date | None = None) -> Milestone:
    milestone = Milestone.objects.select_for_update(of=("self",)).select_related("project__budget__unit").get(pk=milestone.pk)
    project = milestone.project
    require_staff(actor, project.budget.unit)
    require_phase(project.budget, "project")
    if milestone.done_on:
        raise ParticipationError(_("该节点已完成。"), code="invalid_transition")
    milestone.done_on = done_on or timezone.localdate()
    milestone.save(update_fields=["done_on"])
    late = milestone.done_on > milestone.due_on
    text = _("「%(p)s」完成节点「%(t)s」。") % {"p": project.title, "t": milestone.title}
    if late:
        text += _("(比计划晚 %(n)d 天)") % {"n": (milestone.done_on - milestone.due_on).days}
    timeline(project.budget, "milestone", text, project=project)
    ProjectFlag.objects.filter(milestone=milestone, resolved_at__isnull=True).update(resolved_at=now(), resolution=_("节点已完成"))
    audit_record(actor=actor, act="participation.milestone_done", obj=milestone, changed_fields=["done_on"])
    return milestone


def _raise_flag(project: Project, kind: str, text: str, *, milestone: Milestone | None = None) -> ProjectFlag:
    flag = ProjectFlag.objects.create(project=project, kind=kind, milestone=milestone, text=text[:300], raised_at=now())
    _tell_staff(project.budget, _("【筑城】公益金项目预警:%(t)s") % {"t": text})
    timeline(project.budget, "flag", text, project=project)
    return flag


@transaction.atomic
def spending_record(*, actor: Any, project: Project, amount_fen: int, spent_on: date, description: str) -> Spending:
    """登记支出. Spending beyond the approved amount raises an overspend flag to the community staff."""
    project = _lock(project)
    require_staff(actor, project.budget.unit)
    require_phase(project.budget, "project")
    if amount_fen <= 0:
        raise ParticipationError(_("支出金额必须大于零。"), code="invalid", field="amount_fen")
    description = clean_text(description, "description", _("用途"), limit=200)
    row = Spending.objects.create(project=project, amount_fen=amount_fen, spent_on=spent_on, description=description, recorded_by=acting_user(actor))
    Project.objects.filter(pk=project.pk).update(spent_fen=F("spent_fen") + amount_fen)
    project.refresh_from_db(fields=["spent_fen"])
    timeline(project.budget, "spending", _("「%(p)s」支出 %(a)s:%(d)s(累计 %(s)s / 批准 %(b)s)。") % {"p": project.title, "a": yuan(amount_fen), "d": description, "s": yuan(project.spent_fen), "b": yuan(project.approved_fen)}, project=project)
    if project.spent_fen > project.approved_fen and not ProjectFlag.objects.filter(project=project, kind=FlagKind.OVERSPEND, resolved_at__isnull=True).exists():
        _raise_flag(
            project, FlagKind.OVERSPEND,
            _("「%(p)s」累计支出 %(s)s,超过批准金额 %(b)s。") % {"p": project.title, "s": yuan(project.spent_fen), "b": yuan(project.approved_fen)},
        )
    audit_record(actor=actor, act="participation.spending_record", obj=row, changed_fields=["amount_fen"])
    return row


def flags_sweep(*, today: date | None = None) -> int:
    """Flag every milestone past its date and not done (once each); returns how many were raised."""
    today = today or timezone.localdate()
    raised = 0
    due = Milestone.objects.filter(done_on__isnull=True, flagged_at__isnull=True, due_on__lt=today).filter(
        ~Q(project__status__in=(ProjectStatus.CANCELLED, ProjectStatus.COMPLETED))
    ).select_related("project__budget__unit")
    for milestone in due:
        with transaction.atomic():
            if Milestone.objects.filter(pk=milestone.pk, flagged_at__isnull=True).update(flagged_at=now()) == 0:
                continue
            _raise_flag(
                milestone.project, FlagKind.MISSED_MILESTONE,
                _("「%(p)s」的节点「%(t)s」计划 %(d)s 完成,已逾期 %(n)d 天。") % {"p": milestone.project.title, "t": milestone.title, "d": milestone.due_on.isoformat(), "n": (today - milestone.due_on).days},
                milestone=milestone,
            )
            raised += 1
    return raised


@transaction.atomic
def flag_resolve(*, actor: Any, flag: ProjectFlag, resolution: str) -> ProjectFlag:
    flag = ProjectFlag.objects.select_for_update(of=("self",)).select_related("project__budget__unit").get(pk=flag.pk)
    require_staff(actor, flag.project.budget.unit)
    flag.resolution = clean_text(resolution, "resolution", _("处理说明"), limit=300)
    flag.resolved_at = now()
    flag.save(update_fields=["resolution", "resolved_at"])
    audit_record(actor=actor, act="participation.flag_resolve", obj=flag, changed_fields=["resolved_at"], reason=flag.resolution)
    return flag


# --- volunteer supervisors -----------------------------------------------------------------------


@transaction.atomic
def supervisor_join(*, actor: Any, project: Project) -> Supervisor:
    """报名群众监督员: a verified resident of the community volunteers to watch a project."""
    from .voting import require_eligible

    project = Project.objects.select_related("budget", "budget__unit").get(pk=project.pk)
    require_phase(project.budget, "observe")
    require_eligible(project.budget, actor)
    row, created = Supervisor.objects.get_or_create(project=project, user=actor, defaults={"name_label": public_name(actor)})
    if created:
        timeline(project.budget, "supervisor", _("%(n)s 报名担任「%(p)s」的群众监督员。") % {"n": row.name_label, "p": project.title}, project=project)
        audit_record(actor=actor, act="participation.supervisor_join", obj=row)
    return row


@transaction.atomic
def observation_add(*, actor: Any, project: Project, text: str, concern: bool = False, photo: Any = None) -> Observation:
    project = Project.objects.select_related("budget", "budget__unit").get(pk=project.pk)
    require_phase(project.budget, "observe")
    supervisor = Supervisor.objects.filter(project=project, user=actor).first() if getattr(actor, "is_authenticated", False) else None
    if supervisor is None:
        raise ParticipationError(_("请先报名成为该项目的群众监督员。"), code="forbidden")
    text = clean_text(text, "text", _("监督记录"), limit=1000)
    row = Observation.objects.create(project=project, supervisor=supervisor, text=text, concern=concern, photo=photo or "")
    timeline(project.budget, "observation", _("监督员 %(n)s:%(t)s") % {"n": supervisor.name_label, "t": text[:200]}, project=project)
    if concern:
        _tell_staff(project.budget, _("【筑城】监督员反映「%(p)s」存在问题:%(t)s") % {"p": project.title, "t": text[:120]})
    audit_record(actor=actor, act="participation.observation_add", obj=row, changed_fields=["text"])
    return row
