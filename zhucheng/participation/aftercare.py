"""After building: voters judge the result (建设成效群众评议) and the result is looked after (建设成果群众管护).

Evaluation is a short survey (quality, usefulness, would vote again) open to the budget's voters once a
project is completed; only averages are published. Upkeep tasks are scheduled for residents, volunteers
or staff, completion is logged, a repeating task schedules its next round, and overdue tasks are listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.core.context import acting_user

from .errors import ParticipationError
from .models import AssigneeKind, Evaluation, Project, ProjectStatus, UpkeepKind, UpkeepTask, VoterRegister
from .services import clean_text, require_phase, require_staff, timeline


@transaction.atomic
def evaluation_submit(
    *, actor: Any, project: Project, quality: int, usefulness: int, would_vote_again: bool, comment: str = ""
) -> Evaluation:
    """成效评议: a voter of the budget rates a completed project, once."""
    from .voting import person_of

    project = Project.objects.select_related("budget", "budget__unit").get(pk=project.pk)
    require_phase(project.budget, "evaluate")
    if project.status != ProjectStatus.COMPLETED:
        raise ParticipationError(_("项目完工后才能评议。"), code="not_ready")
    person = person_of(actor)
    if person is None or not VoterRegister.objects.filter(budget=project.budget, person=person).exists():
        raise ParticipationError(_("参加了本次投票的居民才能评议。"), code="not_eligible")
    for value, fld in ((quality, "quality"), (usefulness, "usefulness")):
        if value not in (1, 2, 3, 4, 5):
            raise ParticipationError(_("请给出 1 到 5 分。"), code="invalid", field=fld)
    comment = clean_text(comment, "comment", _("意见"), limit=400, required=False)
    try:
        with transaction.atomic():
            row = Evaluation.objects.create(
                project=project, person=person, quality=quality, usefulness=usefulness, would_vote_again=would_vote_again, comment=comment
            )
    except IntegrityError as exc:
        raise ParticipationError(_("您已经评议过这个项目。"), code="duplicate") from exc
    audit_record(actor=actor, act="participation.evaluation_submit", obj=row)
    return row


@dataclass(frozen=True)
class Scores:
    count: int
    quality: float | None
    usefulness: float | None
    again_percent: float | None


def evaluation_scores(project: Project) -> Scores:
    agg = Evaluation.objects.filter(project=project).aggregate(
        n=Count("id"), q=Avg("quality"), u=Avg("usefulness"), again=Count("id", filter=Q(would_vote_again=True))
    )
    n = agg["n"] or 0
    if not n:
        return Scores(0, None, None, None)
    return Scores(n, round(float(agg["q"]), 1), round(float(agg["u"]), 1), round(100.0 * agg["again"] / n, 1))


# --- upkeep --------------------------------------------------------------------------------------


@transaction.atomic
def upkeep_schedule(
    *,
    actor: Any,
    project: Project,
    kind: str,
    title: str,
    due_on: date,
    assignee_kind: str,
    assignee_name: str,
    assignee_user: Any = None,
    repeat_days: int = 0,
) -> UpkeepTask:
    """安排管护任务 for a completed project."""
    project = Project.objects.select_related("budget", "budget__unit").get(pk=project.pk)
    require_staff(actor, project.budget.unit)
    require_phase(project.budget, "upkeep")
    if project.status != ProjectStatus.COMPLETED:
        raise ParticipationError(_("项目完工后才能安排管护。"), code="not_ready")
    if kind not in UpkeepKind.values:
        raise ParticipationError(_("请选择管护类型。"), code="invalid", field="kind")
    if assignee_kind not in AssigneeKind.values:
        raise ParticipationError(_("请选择承担人类型。"), code="invalid", field="assignee_kind")
    if not 0 <= repeat_days <= 366:
        raise ParticipationError(_("重复周期应在 0 到 366 天之间。"), code="invalid", field="repeat_days")
    task = UpkeepTask.objects.create(
        project=project, kind=kind, title=clean_text(title, "title", _("任务"), limit=120), due_on=due_on,
        assignee_kind=assignee_kind, assignee_name=clean_text(assignee_name, "assignee_name", _("承担人"), limit=60),
        assignee_user=assignee_user, repeat_days=repeat_days,
    )
    timeline(project.budget, "upkeep", _("「%(p)s」安排管护任务「%(t)s」,由%(who)s负责,%(d)s 前完成。") % {"p": project.title, "t": task.title, "who": task.assignee_name, "d": due_on.isoformat()}, project=project)
    audit_record(actor=actor, act="participation.upkeep_schedule", obj=task, changed_fields=["title", "due_on", "assignee_name"])
    return task


@transaction.atomic
def upkeep_done(*, actor: Any, task: UpkeepTask, note: str, done_on: date | None = None) -> UpkeepTask:
    """登记完成: by staff, or by the resident the task is assigned to; a repeating task schedules the next round."""
    task = UpkeepTask.objects.select_for_update(of=("self",)).select_related("project__budget__unit").get(pk=task.pk)
    project = task.project
    if not (task.assignee_user_id and task.assignee_user_id == getattr(actor, "pk", None)):
        require_staff(actor, project.budget.unit)
    require_phase(project.budget, "upkeep")
    if task.done_on:
        raise ParticipationError(_("该任务已登记完成。"), code="invalid_transition")
    task.done_on = done_on or timezone.localdate()
    task.done_note = clean_text(note, "note", _("完成情况"), limit=300)
    task.done_by = acting_user(actor)
    task.save(update_fields=["done_on", "done_note", "done_by"])
    if task.repeat_days:
        UpkeepTask.objects.create(
            project=project, kind=task.kind, title=task.title, due_on=task.due_on + timedelta(days=task.repeat_days),
            assignee_kind=task.assignee_kind, assignee_name=task.assignee_name, assignee_user=task.assignee_user, repeat_days=task.repeat_days,
        )
    timeline(project.budget, "upkeep", _("「%(p)s」管护任务「%(t)s」已完成:%(n)s") % {"p": project.title, "t": task.title, "n": task.done_note}, project=project)
    audit_record(actor=actor, act="participation.upkeep_done", obj=task, changed_fields=["done_on", "done_note"])
    return task


def upkeep_overdue(queryset: QuerySet[UpkeepTask], *, today: date | None = None) -> QuerySet[UpkeepTask]:
    """Open tasks past their date (the caller scopes the queryset)."""
    today = today or timezone.localdate()
    return queryset.filter(done_on__isnull=True, due_on__lt=today).select_related("project", "project__budget__unit").order_by("due_on", "id")
