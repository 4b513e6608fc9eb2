"""Residents choose the projects (群众点菜): yearly community budgets and their phases, proposals,
feasibility review, secret ballots, published tallies, supervised building, evaluation, upkeep,
and the residents' council (居民议事会).

Ballot secrecy is structural: ``Ballot`` has no voter key, no timestamp and a random primary key,
so neither its columns nor its insertion order lead back to a person; ``VoterRegister`` records
*who* voted (one row per budget and person: the database refuses a second one), never *what*.
A voter keeps a receipt code; only its hash is on the ballot.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhucheng.core.models import TimeStampedModel
from zhucheng.places.models import OrgUnit

# --- budgets and phases --------------------------------------------------------------------------


class Phase(models.TextChoices):
    PROPOSING = "proposing", _("征集提案")
    REVIEWING = "reviewing", _("可行性审查")
    VOTING = "voting", _("居民投票")
    TALLYING = "tallying", _("计票公示")
    BUILDING = "building", _("项目建设")
    EVALUATING = "evaluating", _("成效评议")
    UPKEEP = "upkeep", _("后续管护")
    FINISHED = "finished", _("已结束")


PHASE_ORDER: tuple[str, ...] = tuple(Phase.values)


class VotingRule(models.TextChoices):
    KNAPSACK = "knapsack", _("预算内自选(总价不超过预算)")
    APPROVAL = "approval", _("限项赞成票(选 N 至 M 项)")


class Budget(TimeStampedModel):
    """年度社区公益金预算: one community's yearly public-welfare budget and the rules of its vote."""

    unit = models.ForeignKey(OrgUnit, verbose_name=_("社区"), on_delete=models.PROTECT, related_name="participation_budgets")
    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("名称"), max_length=120)
    description = models.TextField(_("说明"), blank=True)
    amount_fen = models.BigIntegerField(_("预算金额(分)"))
    phase = models.CharField(_("当前阶段"), max_length=12, choices=Phase.choices, default=Phase.PROPOSING)
    phase_since = models.DateTimeField(_("本阶段开始时间"), null=True, blank=True)
    # Planned start date of each phase ({"voting": "2026-05-01", …}); the phase itself moves by a staff act.
    schedule = models.JSONField(_("阶段安排"), default=dict, blank=True)
    voting_closes_at = models.DateTimeField(_("投票截止时间"), null=True, blank=True)
    voting_rule = models.CharField(_("投票规则"), max_length=10, choices=VotingRule.choices, default=VotingRule.KNAPSACK)
    min_choices = models.PositiveSmallIntegerField(_("最少选择项数"), default=1)
    max_choices = models.PositiveSmallIntegerField(_("最多选择项数"), default=5)
    # Knapsack: the chosen projects must cost at least this share of the budget (Decidim's 70 %).
    min_spend_percent = models.PositiveSmallIntegerField(_("最低使用预算比例(%)"), default=0)
    min_age = models.PositiveSmallIntegerField(_("投票最低年龄"), default=16)
    min_residence_months = models.PositiveSmallIntegerField(_("最短居住月数"), default=0)
    allow_migrants = models.BooleanField(_("流动人口可投票"), default=True)

    scope_unit_field = "unit"

    class Meta:
        verbose_name = _("社区公益金预算")
        verbose_name_plural = _("社区公益金预算")
        ordering = ["-year", "unit__path"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "year"], name="participation_budget_unit_year"),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="participation_budget_amount_positive"),
            models.CheckConstraint(condition=Q(min_choices__lte=models.F("max_choices")), name="participation_budget_choices_ordered"),
            models.CheckConstraint(condition=Q(min_spend_percent__lte=100), name="participation_budget_min_spend_percent"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def phase_index(self) -> int:
        return PHASE_ORDER.index(self.phase)


class Heading(models.Model):
    """预算类别: roads, greenery, elderly services… with an indicative share of the budget."""

    budget = models.ForeignKey(Budget, verbose_name=_("预算"), on_delete=models.CASCADE, related_name="headings")
    name = models.CharField(_("类别"), max_length=40)
    amount_fen = models.BigIntegerField(_("参考金额(分)"), default=0)

    scope_unit_field = "budget__unit"

    class Meta:
        verbose_name = _("预算类别")
        verbose_name_plural = _("预算类别")
        ordering = ["budget", "id"]
        constraints = [models.UniqueConstraint(fields=["budget", "name"], name="participation_heading_unique")]

    def __str__(self) -> str:
        return self.name


# --- proposals -----------------------------------------------------------------------------------


class ProposalState(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    FEASIBLE = "feasible", _("审查通过")
    REJECTED = "rejected", _("审查未通过")
    WITHDRAWN = "withdrawn", _("已撤回")
    SELECTED = "selected", _("入选")
    NOT_SELECTED = "not_selected", _("未入选")


class Proposal(TimeStampedModel):
    """提案: a project proposed by a verified resident or by the residents' council."""

    budget = models.ForeignKey(Budget, verbose_name=_("预算"), on_delete=models.PROTECT, related_name="proposals")
    heading = models.ForeignKey(Heading, verbose_name=_("类别"), null=True, blank=True, on_delete=models.SET_NULL, related_name="proposals")
    number = models.PositiveIntegerField(_("编号"))
    title = models.CharField(_("标题"), max_length=120)
    description = models.TextField(_("内容"))
    place = models.CharField(_("地点"), max_length=200, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)
    estimated_cost_fen = models.BigIntegerField(_("估算费用(分)"))
    # The cost the vote and the tally use: the reviewed cost once staff have reviewed it.
    cost_fen = models.BigIntegerField(_("核定费用(分)"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("提出人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="participation_proposals"
    )
    author_label = models.CharField(_("提出人(公示)"), max_length=60, blank=True)
    resolution = models.ForeignKey(
        "Resolution", verbose_name=_("议事会决议"), null=True, blank=True, on_delete=models.SET_NULL, related_name="proposals"
    )
    state = models.CharField(_("状态"), max_length=14, choices=ProposalState.choices, default=ProposalState.SUBMITTED)
    supports = models.PositiveIntegerField(_("附议数"), default=0)
    submitted_at = models.DateTimeField(_("提交时间"))

    scope_unit_field = "budget__unit"

    class Meta:
        verbose_name = _("提案")
        verbose_name_plural = _("提案")
        ordering = ["budget", "number"]
        constraints = [
            models.UniqueConstraint(fields=["budget", "number"], name="participation_proposal_number"),
            models.CheckConstraint(condition=Q(cost_fen__gt=0) & Q(estimated_cost_fen__gt=0), name="participation_proposal_cost_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"

    @property
    def by_council(self) -> bool:
        return self.resolution_id is not None


class ProposalPhoto(models.Model):
    proposal = models.ForeignKey(Proposal, verbose_name=_("提案"), on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(_("照片"), upload_to="participation/proposals/%Y/")
    caption = models.CharField(_("说明"), max_length=120, blank=True)

    scope_unit_field = "proposal__budget__unit"

    class Meta:
        verbose_name = _("提案照片")
        verbose_name_plural = _("提案照片")

    def __str__(self) -> str:
        return self.caption or self.image.name


class Support(models.Model):
    """附议: a resident supports a proposal (once)."""

    proposal = models.ForeignKey(Proposal, verbose_name=_("提案"), on_delete=models.CASCADE, related_name="support_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("居民"), on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    scope_unit_field = "proposal__budget__unit"

    class Meta:
        verbose_name = _("附议")
        verbose_name_plural = _("附议")
        constraints = [models.UniqueConstraint(fields=["proposal", "user"], name="participation_support_once")]

    def __str__(self) -> str:
        return f"{self.proposal_id}/{self.user_id}"


class CommentQuerySet(models.QuerySet["Comment"]):
    def delete(self) -> Any:
        raise PermissionError("comments are never deleted: hide them with a public reason")


class Comment(models.Model):
    """评论: moderated by hiding with a public reason; never deleted."""

    proposal = models.ForeignKey(Proposal, verbose_name=_("提案"), on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("评论人"), null=True, on_delete=models.SET_NULL, related_name="+")
    author_label = models.CharField(_("评论人(公示)"), max_length=60)
    body = models.TextField(_("内容"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    hidden_at = models.DateTimeField(_("隐藏时间"), null=True, blank=True)
    hidden_reason = models.CharField(_("隐藏理由(公示)"), max_length=200, blank=True)
    hidden_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("处理人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = CommentQuerySet.as_manager()

    scope_unit_field = "proposal__budget__unit"

    class Meta:
        verbose_name = _("评论")
        verbose_name_plural = _("评论")
        ordering = ["proposal", "created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(hidden_at__isnull=True) | ~Q(hidden_reason=""), name="participation_comment_hidden_has_reason")
        ]

    def __str__(self) -> str:
        return self.body[:30]

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("comments are never deleted: hide them with a public reason")

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class FeasibilityReview(models.Model):
    """可行性审查: staff's cost estimate and decision, with a public explanation (required on rejection)."""

    proposal = models.OneToOneField(Proposal, verbose_name=_("提案"), on_delete=models.PROTECT, related_name="review")
    feasible = models.BooleanField(_("可行"))
    cost_fen = models.BigIntegerField(_("审定费用(分)"))
    explanation = models.TextField(_("公开说明"), blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("审查人"), null=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(_("审查时间"))

    scope_unit_field = "proposal__budget__unit"

    class Meta:
        verbose_name = _("可行性审查")
        verbose_name_plural = _("可行性审查")
        constraints = [
            models.CheckConstraint(condition=Q(feasible=True) | ~Q(explanation=""), name="participation_rejection_explained")
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id} {'✓' if self.feasible else '✗'}"


# --- voting --------------------------------------------------------------------------------------


class Channel(models.TextChoices):
    ONLINE = "online", _("网上投票")
    PAPER = "paper", _("纸质选票")


class Ballot(models.Model):
    """选票: what was chosen, never by whom (no voter key, no time, a random id)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    budget = models.ForeignKey(Budget, verbose_name=_("预算"), on_delete=models.PROTECT, related_name="ballots")
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    receipt_hash = models.CharField(_("回执码摘要"), max_length=64, unique=True)

    scope_unit_field = "budget__unit"

    class Meta:
        verbose_name = _("选票")
        verbose_name_plural = _("选票")

    def __str__(self) -> str:
        return self.receipt_hash[:12]

    @property
    def public_id(self) -> str:
        """The id in the published count and the ``.pb`` export (the receipt hash's first 12 digits)."""
        return self.receipt_hash[:12]


class BallotChoice(models.Model):
    ballot = models.ForeignKey(Ballot, verbose_name=_("选票"), on_delete=models.CASCADE, related_name="choices")
    proposal = models.ForeignKey(Proposal, verbose_name=_("提案"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("选票选项")
        verbose_name_plural = _("选票选项")
        constraints = [models.UniqueConstraint(fields=["ballot", "proposal"], name="participation_choice_once")]

    def __str__(self) -> str:
        return f"{self.ballot_id}:{self.proposal_id}"


class VoterRegister(models.Model):
    """投票登记: who has voted in a budget (and by which channel), never what. One row per person."""

    budget = models.ForeignKey(Budget, verbose_name=_("预算"), on_delete=models.PROTECT, related_name="register")
    person = models.ForeignKey("registry.Person", verbose_name=_("投票人"), on_delete=models.PROTECT, related_name="participation_votes")
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    voted_at = models.DateTimeField(_("登记时间"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Voters who agreed to hear about the projects of this budget (status changes, evaluation).
    notify = models.BooleanField(_("接收项目进展通知"), default=True)

    scope_unit_field = "budget__unit"

    class Meta:
        verbose_name = _("投票登记")
        verbose_name_plural = _("投票登记")
        constraints = [models.UniqueConstraint(fields=["budget", "person"], name="participation_one_vote_per_person")]

    def __str__(self) -> str:
        return f"{self.budget_id}/{self.person_id}"


class PaperSheetState(models.TextChoices):
    FIRST = "first", _("已录入一次")
    MATCHED = "matched", _("两次录入一致,已计入")
    MISMATCH = "mismatch", _("两次录入不一致")
    RESOLVED = "resolved", _("已复核计入")


class PaperSheet(models.Model):
    """纸质选票: one paper ballot from the box, keyed by the receipt code printed on its stub."""

    budget = models.ForeignKey(Budget, verbose_name=_("预算"), on_delete=models.PROTECT, related_name="paper_sheets")
    receipt_hash = models.CharField(_("回执码摘要"), max_length=64)
    receipt_tail = models.CharField(_("回执码末四位"), max_length=4)
    state = models.CharField(_("状态"), max_length=10, choices=PaperSheetState.choices, default=PaperSheetState.FIRST)
    ballot = models.OneToOneField(Ballot, verbose_name=_("选票"), null=True, blank=True, on_delete=models.PROTECT, related_name="paper_sheet")

    scope_unit_field = "budget__unit"

    class Meta:
        verbose_name = _("纸质选票")
        verbose_name_plural = _("纸质选票")
        constraints = [models.UniqueConstraint(fields=["budget", "receipt_hash"], name="participation_sheet_unique")]

    def __str__(self) -> str:
        return f"…{self.receipt_tail}"


class PaperBallotEntry(models.Model):
    """纸质选票录入: one staff member's keying of a sheet; two different staff key every sheet."""

    sheet = models.ForeignKey(PaperSheet, verbose_name=_("纸质选票"), on_delete=models.PROTECT, related_name="entries")
    seq = models.PositiveSmallIntegerField(_("录入次序"))
    proposal_ids = models.JSONField(_("所选提案"), default=list)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("录入人"), on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    scope_unit_field = "sheet__budget__unit"

    class Meta:
        verbose_name = _("纸质选票录入")
        verbose_name_plural = _("纸质选票录入")
        ordering = ["sheet", "seq"]
        constraints = [models.UniqueConstraint(fields=["sheet", "seq"], name="participation_entry_seq")]

    def __str__(self) -> str:
        return f"{self.sheet_id}#{self.seq}"


# --- tallies -------------------------------------------------------------------------------------


class TallyRule(models.TextChoices):
    GREEDY = "greedy", _("得票优先(CONSUL 规则)")
    MES = "mes", _("均等份额法(对照)")


class Tally(models.Model):
    """计票结果: one rule's result with every step, published on the budget page."""

    budget = models.ForeignKey(Budget, verbose_name=_("预算"), on_delete=models.PROTECT, related_name="tallies")
    rule = models.CharField(_("规则"), max_length=8, choices=TallyRule.choices)
    computed_at = models.DateTimeField(_("计票时间"))
    ballots = models.PositiveIntegerField(_("有效选票数"))
    votes = models.JSONField(_("各提案得票"), default=dict)
    steps = models.JSONField(_("计票过程"), default=list)
    winners = models.JSONField(_("入选提案"), default=list)
    spent_fen = models.BigIntegerField(_("入选总费用(分)"), default=0)
    receipts_digest = models.CharField(_("计入选票摘要"), max_length=64)

    scope_unit_field = "budget__unit"

    class Meta:
        verbose_name = _("计票结果")
        verbose_name_plural = _("计票结果")
        constraints = [models.UniqueConstraint(fields=["budget", "rule"], name="participation_tally_per_rule")]

    def __str__(self) -> str:
        return f"{self.budget_id} {self.rule}"


# --- building (supervision) ----------------------------------------------------------------------


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", _("待开工")
    UNDER_WAY = "under_way", _("建设中")
    PAUSED = "paused", _("暂停")
    COMPLETED = "completed", _("已完工")
    CANCELLED = "cancelled", _("已取消")


class Project(TimeStampedModel):
    """建设项目: a funded proposal being built (or a child work of one), supervised by residents."""

    budget = models.ForeignKey(Budget, verbose_name=_("预算"), on_delete=models.PROTECT, related_name="projects")
    proposal = models.OneToOneField(Proposal, verbose_name=_("提案"), null=True, blank=True, on_delete=models.PROTECT, related_name="project")
    parent = models.ForeignKey("self", verbose_name=_("所属项目"), null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    weight = models.PositiveSmallIntegerField(_("权重"), default=1)
    title = models.CharField(_("名称"), max_length=120)
    description = models.TextField(_("内容"), blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=ProjectStatus.choices, default=ProjectStatus.PLANNED)
    approved_fen = models.BigIntegerField(_("批准金额(分)"))
    spent_fen = models.BigIntegerField(_("已支出(分)"), default=0)
    progress = models.PositiveSmallIntegerField(_("进度(%)"), default=0)
    contractor = models.CharField(_("施工单位"), max_length=120, blank=True)
    starts_on = models.DateField(_("计划开工"), null=True, blank=True)
    due_on = models.DateField(_("计划完工"), null=True, blank=True)
    completed_on = models.DateField(_("完工日期"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)

    scope_unit_field = "budget__unit"

    class Meta:
        verbose_name = _("建设项目")
        verbose_name_plural = _("建设项目")
        ordering = ["budget", "id"]
        constraints = [models.CheckConstraint(condition=Q(progress__lte=100), name="participation_progress_percent")]

    def __str__(self) -> str:
        return self.title


class Milestone(models.Model):
    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("节点"), max_length=120)
    due_on = models.DateField(_("计划日期"))
    done_on = models.DateField(_("完成日期"), null=True, blank=True)
    flagged_at = models.DateTimeField(_("逾期提醒时间"), null=True, blank=True)

    scope_unit_field = "project__budget__unit"

    class Meta:
        verbose_name = _("节点")
        verbose_name_plural = _("节点")
        ordering = ["project", "due_on", "id"]

    def __str__(self) -> str:
        return self.title


class Spending(models.Model):
    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="spendings")
    amount_fen = models.BigIntegerField(_("金额(分)"))
    spent_on = models.DateField(_("日期"))
    description = models.CharField(_("用途"), max_length=200)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, on_delete=models.SET_NULL, related_name="+")

    scope_unit_field = "project__budget__unit"

    class Meta:
        verbose_name = _("支出")
        verbose_name_plural = _("支出")
        ordering = ["project", "spent_on", "id"]

    def __str__(self) -> str:
        return f"{self.project_id} {self.amount_fen}"


class ProjectPhoto(models.Model):
    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(_("照片"), upload_to="participation/projects/%Y/")
    caption = models.CharField(_("说明"), max_length=120, blank=True)
    taken_on = models.DateField(_("拍摄日期"), null=True, blank=True)

    scope_unit_field = "project__budget__unit"

    class Meta:
        verbose_name = _("项目照片")
        verbose_name_plural = _("项目照片")

    def __str__(self) -> str:
        return self.caption


class Supervisor(models.Model):
    """群众监督员: a resident who volunteered to watch a project."""

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="supervisors")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("居民"), on_delete=models.CASCADE, related_name="+")
    name_label = models.CharField(_("监督员(公示)"), max_length=60)
    since = models.DateTimeField(_("加入时间"), auto_now_add=True)

    scope_unit_field = "project__budget__unit"

    class Meta:
        verbose_name = _("群众监督员")
        verbose_name_plural = _("群众监督员")
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="participation_supervisor_once")]

    def __str__(self) -> str:
        return self.name_label


class Observation(models.Model):
    """监督记录: what a volunteer supervisor saw on site."""

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="observations")
    supervisor = models.ForeignKey(Supervisor, verbose_name=_("监督员"), on_delete=models.PROTECT, related_name="observations")
    text = models.TextField(_("内容"))
    concern = models.BooleanField(_("发现问题"), default=False)
    photo = models.FileField(_("照片"), upload_to="participation/observations/%Y/", blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    scope_unit_field = "project__budget__unit"

    class Meta:
        verbose_name = _("监督记录")
        verbose_name_plural = _("监督记录")
        ordering = ["project", "-created_at"]

    def __str__(self) -> str:
        return self.text[:30]


class FlagKind(models.TextChoices):
    OVERSPEND = "overspend", _("超支")
    MISSED_MILESTONE = "missed_milestone", _("节点逾期")


class ProjectFlag(models.Model):
    """预警: overspending or a missed milestone, raised to the community staff."""

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="flags")
    kind = models.CharField(_("类型"), max_length=20, choices=FlagKind.choices)
    milestone = models.ForeignKey(Milestone, verbose_name=_("节点"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(_("说明"), max_length=300)
    raised_at = models.DateTimeField(_("提出时间"))
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    resolution = models.CharField(_("处理说明"), max_length=300, blank=True)

    scope_unit_field = "project__budget__unit"

    class Meta:
        verbose_name = _("项目预警")
        verbose_name_plural = _("项目预警")
        ordering = ["-raised_at"]

    def __str__(self) -> str:
        return self.text


class TimelineEvent(models.Model):
    """公开时间线: every change of a budget, proposal or project, in the order it happened."""

    budget = models.ForeignKey(Budget, verbose_name=_("预算"), on_delete=models.CASCADE, related_name="timeline")
    project = models.ForeignKey(Project, verbose_name=_("项目"), null=True, blank=True, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(_("类型"), max_length=30)
    text = models.CharField(_("内容"), max_length=400)
    at = models.DateTimeField(_("时间"))

    scope_unit_field = "budget__unit"

    class Meta:
        verbose_name = _("时间线")
        verbose_name_plural = _("时间线")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return self.text


# --- evaluation and upkeep -----------------------------------------------------------------------


class Evaluation(models.Model):
    """成效评议: a voter's short survey on a finished project."""

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="evaluations")
    person = models.ForeignKey("registry.Person", verbose_name=_("评议人"), on_delete=models.PROTECT, related_name="+")
    quality = models.PositiveSmallIntegerField(_("建设质量(1–5)"))
    usefulness = models.PositiveSmallIntegerField(_("实用程度(1–5)"))
    would_vote_again = models.BooleanField(_("还会投票支持"))
    comment = models.CharField(_("意见"), max_length=400, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    scope_unit_field = "project__budget__unit"

    class Meta:
        verbose_name = _("成效评议")
        verbose_name_plural = _("成效评议")
        constraints = [
            models.UniqueConstraint(fields=["project", "person"], name="participation_evaluation_once"),
            models.CheckConstraint(condition=Q(quality__gte=1, quality__lte=5, usefulness__gte=1, usefulness__lte=5), name="participation_scores_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}: {self.quality}/{self.usefulness}"


class UpkeepKind(models.TextChoices):
    CLEANING = "cleaning", _("保洁")
    REPAIR = "repair", _("维修")
    INSPECTION = "inspection", _("巡查")


class AssigneeKind(models.TextChoices):
    RESIDENT = "resident", _("居民")
    VOLUNTEER = "volunteer", _("志愿者")
    STAFF = "staff", _("工作人员")


class UpkeepTask(models.Model):
    """管护任务: cleaning, repair or inspection of a finished project, assigned and logged."""

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="upkeep_tasks")
    kind = models.CharField(_("类型"), max_length=12, choices=UpkeepKind.choices)
    title = models.CharField(_("任务"), max_length=120)
    due_on = models.DateField(_("应完成日期"))
    assignee_kind = models.CharField(_("承担人类型"), max_length=10, choices=AssigneeKind.choices)
    assignee_name = models.CharField(_("承担人"), max_length=60)
    assignee_user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("承担人账户"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    repeat_days = models.PositiveSmallIntegerField(_("重复周期(天)"), default=0)
    done_on = models.DateField(_("完成日期"), null=True, blank=True)
    done_note = models.CharField(_("完成情况"), max_length=300, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    scope_unit_field = "project__budget__unit"

    class Meta:
        verbose_name = _("管护任务")
        verbose_name_plural = _("管护任务")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["done_on", "due_on"], name="participation_upkeep_open")]

    def __str__(self) -> str:
        return self.title


# --- residents' council --------------------------------------------------------------------------


class Council(models.Model):
    """居民议事会 of one community."""

    unit = models.OneToOneField(OrgUnit, verbose_name=_("社区"), on_delete=models.PROTECT, related_name="participation_council")
    name = models.CharField(_("名称"), max_length=100)

    scope_unit_field = "unit"

    class Meta:
        verbose_name = _("居民议事会")
        verbose_name_plural = _("居民议事会")

    def __str__(self) -> str:
        return self.name


class CouncilMember(models.Model):
    council = models.ForeignKey(Council, verbose_name=_("议事会"), on_delete=models.CASCADE, related_name="members")
    name = models.CharField(_("姓名"), max_length=60)
    person = models.ForeignKey("registry.Person", verbose_name=_("人员"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    role = models.CharField(_("职务"), max_length=30, default="议事员")
    term_from = models.DateField(_("任期开始"))
    term_to = models.DateField(_("任期结束"))

    scope_unit_field = "council__unit"

    class Meta:
        verbose_name = _("议事会成员")
        verbose_name_plural = _("议事会成员")
        ordering = ["council", "term_from", "id"]
        constraints = [models.CheckConstraint(condition=Q(term_from__lt=models.F("term_to")), name="participation_term_ordered")]

    def __str__(self) -> str:
        return self.name


class CouncilMeeting(models.Model):
    """议事会会议: agenda, attendance, minutes and resolutions."""

    council = models.ForeignKey(Council, verbose_name=_("议事会"), on_delete=models.PROTECT, related_name="meetings")
    held_on = models.DateField(_("会议日期"))
    place = models.CharField(_("地点"), max_length=120)
    agenda = models.TextField(_("议程"))
    minutes = models.TextField(_("会议纪要"), blank=True)
    attendees = models.ManyToManyField(CouncilMember, verbose_name=_("出席成员"), blank=True, related_name="meetings")

    scope_unit_field = "council__unit"

    class Meta:
        verbose_name = _("议事会会议")
        verbose_name_plural = _("议事会会议")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.council} {self.held_on}"

    @property
    def is_held(self) -> bool:
        return bool(self.minutes)


class ResolutionKind(models.TextChoices):
    PROPOSAL = "proposal", _("形成提案")
    RECOMMENDATION = "recommendation", _("向社区提出建议")
    OTHER = "other", _("其他决议")


class Resolution(models.Model):
    meeting = models.ForeignKey(CouncilMeeting, verbose_name=_("会议"), on_delete=models.PROTECT, related_name="resolutions")
    kind = models.CharField(_("类型"), max_length=16, choices=ResolutionKind.choices)
    text = models.TextField(_("决议内容"))
    votes_for = models.PositiveSmallIntegerField(_("赞成"), default=0)
    votes_against = models.PositiveSmallIntegerField(_("反对"), default=0)
    abstentions = models.PositiveSmallIntegerField(_("弃权"), default=0)
    response = models.TextField(_("社区答复"), blank=True)

    scope_unit_field = "meeting__council__unit"

    class Meta:
        verbose_name = _("议事会决议")
        verbose_name_plural = _("议事会决议")
        ordering = ["meeting", "id"]

    def __str__(self) -> str:
        return self.text[:30]
