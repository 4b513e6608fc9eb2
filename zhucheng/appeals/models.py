"""Appeals and petitions (民意诉求, 信访): the records and the invariants that need no other object.

Every write goes through ``services.py``; every read that pages, API and exports share is in
``selectors.py``. The life cycle (see ``Status``) is enforced by ``services.TRANSITIONS``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from zhucheng.core.fields import EncryptedCharField, HashField
from zhucheng.core.models import TimeStampedModel
from zhucheng.places.models import Department, OrgUnit


class AppealKind(models.TextChoices):
    APPEAL = "appeal", _("民意诉求")
    PETITION = "petition", _("信访")


class Channel(models.TextChoices):
    PORTAL = "portal", _("网上")
    HOTLINE = "hotline", _("热线电话")
    VISIT = "visit", _("来访")
    LETTER = "letter", _("来信")
    GRID = "grid", _("网格员上报")
    OPEN311 = "open311", _("Open311 接口")
    IMPORT = "import", _("历史导入")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("待受理")
    REGISTERED = "registered", _("已受理")
    DECLINED = "declined", _("不予受理")
    ASSIGNED = "assigned", _("已交办")
    IN_PROGRESS = "in_progress", _("办理中")
    REPLIED = "replied", _("已答复")
    FEEDBACK = "feedback", _("已评价")
    UNDER_REVIEW = "under_review", _("复查复核中")
    CLOSED = "closed", _("已办结")
    MERGED = "merged", _("已合并")


OPEN_STATUSES = (
    Status.SUBMITTED,
    Status.REGISTERED,
    Status.ASSIGNED,
    Status.IN_PROGRESS,
    Status.UNDER_REVIEW,
)
# "Answered" (有说法): a written answer exists — a reply, or a reasoned decision not to register.
ANSWERED_STATUSES = (Status.REPLIED, Status.FEEDBACK, Status.CLOSED, Status.DECLINED, Status.UNDER_REVIEW)
# "Concluded" (有结论): the matter is finished.
CONCLUDED_STATUSES = (Status.CLOSED, Status.DECLINED, Status.MERGED)


class DeclineRoute(models.TextChoices):
    """Where a matter that is not registered belongs (the channel the resident should use)."""

    NONE = "", _("—")
    COURT = "court", _("人民法院（诉讼）")
    ARBITRATION = "arbitration", _("仲裁机构")
    ADMIN_REVIEW = "admin_review", _("行政复议机关")
    DISCIPLINE = "discipline", _("纪检监察机关")
    OTHER_BODY = "other_body", _("其他法定途径")


class Outcome(models.TextChoices):
    SUPPORT = "support", _("支持")
    EXPLAIN = "explain", _("解释")
    NOT_SUPPORT = "not_support", _("不予支持")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class DayCount(models.TextChoices):
    HOURS = "hours", _("小时")
    CALENDAR = "calendar", _("自然日")
    WORKING = "working", _("工作日")


class Category(TimeStampedModel):
    """诉求分类: a two-level tree (城市管理 › 路灯); appeals take a leaf."""

    code = models.CharField(_("编码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    name_en = models.CharField(_("英文名称"), max_length=80, blank=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级分类"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    description = models.CharField(_("说明"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("诉求分类")
        verbose_name_plural = _("诉求分类")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.parent.name} › {self.name}" if self.parent_id and self.parent else self.name

    @property
    def is_leaf(self) -> bool:
        return self.parent_id is not None


class RoutingRule(TimeStampedModel):
    """分派规则: category (or its parent) + area (a unit and its subtree) → department.

    The most specific active rule wins: a leaf category before its parent before "any category",
    a deeper unit before a shallower one, then the lower ``priority`` number.
    Without a matching rule an appeal goes to the community (or township) of its grid.
    """

    category = models.ForeignKey(
        Category, verbose_name=_("分类"), null=True, blank=True, on_delete=models.CASCADE, related_name="rules"
    )
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("区域"), null=True, blank=True, on_delete=models.CASCADE, related_name="routing_rules"
    )
    department = models.ForeignKey(Department, verbose_name=_("承办部门"), on_delete=models.PROTECT, related_name="routing_rules")
    priority = models.PositiveSmallIntegerField(_("优先级"), default=100)
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("分派规则")
        verbose_name_plural = _("分派规则")
        ordering = ["priority", "id"]


class DeadlinePolicy(TimeStampedModel):
    """办理时限: how long each stage may take for one kind (and urgency) of appeal.

    Amounts are counted in ``*_unit`` (hours, calendar days or working days on the
    foundation's calendar). Defaults follow 信访工作条例 (2022) for petitions and the hotline's
    rules (urgent 24 h, ordinary 5 working days) for appeals; admins may change them.
    """

    kind = models.CharField(_("类型"), max_length=12, choices=AppealKind.choices)
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, blank=True, help_text=_("留空适用于全部"))
    name = models.CharField(_("名称"), max_length=80)
    register_amount = models.PositiveIntegerField(_("受理时限"))
    register_unit = models.CharField(_("受理时限单位"), max_length=10, choices=DayCount.choices, default=DayCount.CALENDAR)
    reply_amount = models.PositiveIntegerField(_("办理答复时限"))
    reply_unit = models.CharField(_("办理时限单位"), max_length=10, choices=DayCount.choices, default=DayCount.CALENDAR)
    extension_max = models.PositiveIntegerField(_("最长延期"), default=0)
    extension_unit = models.CharField(_("延期单位"), max_length=10, choices=DayCount.choices, default=DayCount.CALENDAR)
    max_extensions = models.PositiveSmallIntegerField(_("可延期次数"), default=1)
    objection_working_days = models.PositiveSmallIntegerField(_("退单时限（工作日）"), default=5)
    review_request_days = models.PositiveIntegerField(_("申请复查时限（自然日）"), default=30)
    review_decide_days = models.PositiveIntegerField(_("复查复核办理时限（自然日）"), default=30)
    due_soon_hours = models.PositiveIntegerField(_("临期提醒（小时）"), default=48)
    unsatisfied_goes_to_review = models.BooleanField(_("不满意转复查"), default=False, help_text=_("否则退回承办部门重新办理"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("办理时限")
        verbose_name_plural = _("办理时限")
        constraints = [models.UniqueConstraint(fields=["kind", "urgency"], name="deadline_policy_kind_urgency")]

    def __str__(self) -> str:
        return self.name


class CodeSequence(models.Model):
    """One counter per year behind the tracking codes (GY2026-0001234)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


def duplicate_category() -> Coalesce:
    """The category a duplicate is matched on (``duplicates.find_candidates``): the confirmed one, else
    the classifier's suggestion. One expression for the ``appeal_dup_place`` index and the query, so
    the database can use the index."""
    return Coalesce("category_id", "suggested_category_id")


class Appeal(TimeStampedModel):
    """诉求 / 信访件: one matter raised by one or more petitioners, from any channel."""

    scope_unit_field = "unit"
    scope_department_field = "department"

    code = models.CharField(_("受理编号"), max_length=20, unique=True)
    kind = models.CharField(_("类型"), max_length=12, choices=AppealKind.choices, default=AppealKind.APPEAL)
    channel = models.CharField(_("渠道"), max_length=12, choices=Channel.choices)
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    title = models.CharField(_("标题"), max_length=120)
    description = models.TextField(_("诉求内容"))
    # category, unit, department, status and petitioner_key have no index of their own: each leads a
    # composite index in Meta.indexes, which serves lookups on it alone as well (fewer indexes to
    # write on every submission).
    category = models.ForeignKey(
        Category, verbose_name=_("分类"), null=True, blank=True, on_delete=models.PROTECT, related_name="appeals", db_index=False
    )
    suggested_category = models.ForeignKey(
        Category, verbose_name=_("建议分类"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    suggested_score = models.FloatField(_("建议置信度"), null=True, blank=True)
    suggestion_model = models.CharField(_("分类模型版本"), max_length=40, blank=True)
    category_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("分类确认人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)
    grid = models.ForeignKey(OrgUnit, verbose_name=_("网格"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("所属区划"),
        on_delete=models.PROTECT,
        related_name="appeals",
        help_text=_("网格或所选区划；决定谁能看到"),
        db_index=False,
    )
    department = models.ForeignKey(
        Department, verbose_name=_("主办部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="appeals", db_index=False
    )
    is_collective = models.BooleanField(_("集体诉求"), default=False)
    headcount = models.PositiveIntegerField(_("人数"), default=1)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    submitted_at = models.DateTimeField(_("提交时间"), db_index=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("录入人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("群众账户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appeals",
    )
    # Keyed hash of the first petitioner's phone: "same petitioner" without decrypting anything.
    petitioner_key = HashField(db_index=False)
    registered_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    decline_reason = models.TextField(_("不予受理理由"), blank=True)
    decline_route = models.CharField(_("应通过的途径"), max_length=16, choices=DeclineRoute.choices, blank=True)
    assigned_at = models.DateTimeField(_("交办时间"), null=True, blank=True)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    resolved = models.BooleanField(_("已化解"), null=True, blank=True, help_text=_("办结时是否化解"))
    # Stored due dates (recomputed on transfer, extension and pause by ``deadlines``).
    register_due = models.DateTimeField(_("受理期限"), null=True, blank=True)
    reply_due = models.DateTimeField(_("答复期限"), null=True, blank=True)
    due_at = models.DateTimeField(_("当前期限"), null=True, blank=True, db_index=True)
    paused_at = models.DateTimeField(_("暂停计时"), null=True, blank=True)
    pause_reason = models.CharField(_("暂停原因"), max_length=200, blank=True)
    reminded_at = models.DateTimeField(_("已提醒"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("已升级督办"), null=True, blank=True)
    repeat_of = models.ForeignKey(
        "self", verbose_name=_("重复件之原件"), null=True, blank=True, on_delete=models.PROTECT, related_name="repeats"
    )
    is_final = models.BooleanField(_("已终结"), default=False, help_text=_("复核后同一事实不再受理"))
    client_token = models.CharField(_("幂等键"), max_length=80, null=True, blank=True, unique=True)
    source_ref = models.CharField(_("来源编号"), max_length=80, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["department", "status", "due_at"], name="appeal_dept_queue"),
            models.Index(fields=["unit", "status"], name="appeal_unit_status"),
            # A unit subtree's appeals in a period (metrics, reports): the units of the subtree, then the dates.
            models.Index(fields=["unit", "submitted_at"], name="appeal_unit_time"),
            models.Index(fields=["status", "due_at"], name="appeal_status_due"),
            models.Index(fields=["petitioner_key", "submitted_at"], name="appeal_petitioner"),
            models.Index(fields=["category", "submitted_at"], name="appeal_category_time"),
            # The public Open311 list: appeals with a category, newest first (open311.selectors.public_requests).
            models.Index(
                fields=["-submitted_at", "-id"],
                condition=models.Q(kind="appeal", category__isnull=False),
                name="appeal_public_newest",
            ),
            # The duplicate search's "similar nearby" signal (duplicates.find_candidates).
            models.Index(
                duplicate_category(),
                F("lat"),
                F("lon"),
                F("submitted_at"),
                name="appeal_dup_place",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "source_ref"], condition=~models.Q(source_ref=""), name="appeal_source_ref_unique"
            ),
            models.CheckConstraint(condition=models.Q(headcount__gte=1), name="appeal_headcount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None


class Petitioner(models.Model):
    """信访人 / 诉求人: who raised the appeal; contacts encrypted, masked on screen."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="petitioners")
    name = models.CharField(_("姓名"), max_length=60, blank=True)
    phone = EncryptedCharField(_("联系电话"), blank=True, default="", hash_field="phone_hash")
    phone_hash = HashField()
    id_number = EncryptedCharField(_("身份证号"), blank=True, default="", hash_field="id_number_hash")
    id_number_hash = HashField()
    address = models.CharField(_("联系地址"), max_length=200, blank=True)
    is_anonymous = models.BooleanField(_("对承办部门匿名"), default=False)
    is_primary = models.BooleanField(_("第一诉求人"), default=True)

    class Meta:
        verbose_name = _("诉求人")
        verbose_name_plural = _("诉求人")

    def __str__(self) -> str:
        return self.name or "—"


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("主办")
    ASSIST = "assist", _("协办")


class AssignmentState(models.TextChoices):
    ACTIVE = "active", _("办理中")
    OBJECTED = "objected", _("已申请退单")
    RETURNED = "returned", _("已退回")
    TRANSFERRED = "transferred", _("已转办")
    DONE = "done", _("已完成")


class Assignment(models.Model):
    """交办: an appeal handed to a department as lead (主办) or assisting (协办) department."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="assignments"
    )
    # Without a routing rule the community (or township) of the grid handles it itself.
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("承办社区"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("角色"), max_length=8, choices=AssignmentRole.choices, default=AssignmentRole.LEAD)
    state = models.CharField(_("状态"), max_length=12, choices=AssignmentState.choices, default=AssignmentState.ACTIVE)
    assigned_at = models.DateTimeField(_("交办时间"))
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    instructions = models.TextField(_("交办意见"), blank=True)
    objection_due = models.DateTimeField(_("退单期限"), null=True, blank=True)
    objection_reason = models.TextField(_("退单理由"), blank=True)
    objected_at = models.DateTimeField(_("退单时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("裁定时间"), null=True, blank=True)
    decision_note = models.TextField(_("裁定意见"), blank=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("交办")
        verbose_name_plural = _("交办")
        ordering = ["assigned_at", "id"]
        indexes = [models.Index(fields=["department", "state"], name="assignment_dept_state")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(department__isnull=False) | models.Q(unit__isnull=False), name="assignment_has_handler"
            )
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id} → {self.department or self.unit} ({self.role})"


class SupervisionKind(models.TextChoices):
    SUPERVISION = "supervision", _("督办")
    LEADER = "leader", _("领导交办")


class Supervision(models.Model):
    """督办 / 领导交办: a supervisor's or leader's instruction on an appeal, with its own deadline."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="supervisions")
    kind = models.CharField(_("类型"), max_length=12, choices=SupervisionKind.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    leader_name = models.CharField(_("包案领导"), max_length=60, blank=True)
    instructions = models.TextField(_("督办意见"))
    created_at = models.DateTimeField(_("时间"))
    due_at = models.DateTimeField(_("督办期限"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    is_escalation = models.BooleanField(_("超期自动升级"), default=False)

    class Meta:
        verbose_name = _("督办")
        verbose_name_plural = _("督办")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["kind", "closed_at"], name="supervision_kind_open"),
            # The metrics' "under a leader's supervision" probe per appeal (metrics._aggregates).
            models.Index(fields=["appeal"], condition=models.Q(kind="leader"), name="supervision_leader_appeal"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.appeal_id}"


class Reply(models.Model):
    """答复: the written answer with its outcome (支持 / 解释 / 不予支持)."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="replies")
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("处理结果"), max_length=12, choices=Outcome.choices)
    text = models.TextField(_("答复内容"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("答复时间"))
    on_time = models.BooleanField(_("按期"), default=True)

    class Meta:
        verbose_name = _("答复")
        verbose_name_plural = _("答复")
        ordering = ["created_at", "id"]
        # The metrics' "replied late" probe per appeal: late replies are few, so the index is small.
        indexes = [models.Index(fields=["appeal"], condition=models.Q(on_time=False), name="reply_late_appeal")]

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.get_outcome_display()}"


class Feedback(models.Model):
    """满意度测评: the petitioner's rating of the department and of the dispatching centre."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="feedback")
    reply = models.ForeignKey(Reply, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    department_rating = models.CharField(_("对承办部门"), max_length=12, choices=Satisfaction.choices)
    centre_rating = models.CharField(_("对群众工作中心"), max_length=12, choices=Satisfaction.choices, blank=True)
    comment = models.TextField(_("意见"), blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("评价时间"))

    class Meta:
        verbose_name = _("满意度评价")
        verbose_name_plural = _("满意度评价")
        ordering = ["created_at", "id"]
        # The metrics' latest rating per appeal, read from the index alone (no sort, no table visit).
        indexes = [
            models.Index(
                F("appeal"), F("created_at").desc(), F("id").desc(), F("department_rating"), name="feedback_latest_rating"
            )
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.get_department_rating_display()}"


class ReviewLevel(models.IntegerChoices):
    REVIEW = 1, _("复查")
    RE_REVIEW = 2, _("复核")


class ReviewDecision(models.TextChoices):
    UPHELD = "upheld", _("维持原处理意见")
    REVISED = "revised", _("撤销或变更，重新办理")


class Review(models.Model):
    """复查 (level 1) / 复核 (level 2): the petitioner's request to look again at a reply."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="reviews")
    level = models.PositiveSmallIntegerField(_("级别"), choices=ReviewLevel.choices)
    reason = models.TextField(_("申请理由"))
    requested_at = models.DateTimeField(_("申请时间"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    due_at = models.DateTimeField(_("办理期限"))
    decision = models.CharField(_("结论"), max_length=12, choices=ReviewDecision.choices, blank=True)
    decision_text = models.TextField(_("复查复核意见"), blank=True)
    decided_at = models.DateTimeField(_("结论时间"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("复查复核")
        verbose_name_plural = _("复查复核")
        ordering = ["requested_at", "id"]
        constraints = [models.UniqueConstraint(fields=["appeal", "level"], name="review_one_per_level")]

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.get_level_display()}"


class ExtensionState(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REFUSED = "refused", _("未批准")


class Extension(models.Model):
    """延期: a request for more time, approved or refused by a supervisor."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="extensions")
    days = models.PositiveIntegerField(_("延期天数"))
    reason = models.TextField(_("理由"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(_("申请时间"))
    state = models.CharField(_("状态"), max_length=10, choices=ExtensionState.choices, default=ExtensionState.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("延期")
        verbose_name_plural = _("延期")
        ordering = ["requested_at", "id"]

    def __str__(self) -> str:
        return f"{self.appeal_id} +{self.days}"


class Pause(models.Model):
    """计时暂停: the clock stops while the appeal waits on the petitioner or a hearing."""

    class Reason(models.TextChoices):
        MATERIALS = "materials", _("等待诉求人补充材料")
        HEARING = "hearing", _("听证")

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="pauses")
    reason = models.CharField(_("原因"), max_length=12, choices=Reason.choices)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    started_at = models.DateTimeField(_("开始"))
    ended_at = models.DateTimeField(_("结束"), null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.get_reason_display()}"


class DuplicateDecision(models.TextChoices):
    PENDING = "pending", _("待确认")
    MERGED = "merged", _("已合并")
    KEPT_APART = "kept_apart", _("不合并")


class DuplicateCandidate(models.Model):
    """疑似重复: a suggested earlier appeal on the same matter, with its score and reason."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="duplicate_candidates")
    other = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(_("相似度"))
    reason = models.CharField(_("依据"), max_length=20)  # same_petitioner | similar_nearby
    decision = models.CharField(_("处理"), max_length=12, choices=DuplicateDecision.choices, default=DuplicateDecision.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-score"]
        constraints = [models.UniqueConstraint(fields=["appeal", "other"], name="duplicate_pair_unique")]

    def __str__(self) -> str:
        return f"{self.appeal_id} ~ {self.other_id} ({self.score:.2f})"


class Attachment(models.Model):
    """附件: an image or PDF, type sniffed from content, stored outside the web root."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("文件"), upload_to="appeals/%Y/%m/")
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=40)
    size = models.PositiveIntegerField(_("大小"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"))
    is_public = models.BooleanField(_("群众可见"), default=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class AppealEvent(models.Model):
    """时间线: one step of the appeal's history; ``is_public`` steps are shown to the petitioner."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="events")
    act = models.CharField(_("动作"), max_length=40)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=150, blank=True)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    note = models.TextField(_("说明"), blank=True)
    is_public = models.BooleanField(_("群众可见"), default=True)
    at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.act}"


class CategoryDecision(models.Model):
    """分类确认记录: the classifier's suggestion and the staff's choice, kept for retraining."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="category_decisions")
    suggested = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    score = models.FloatField(null=True, blank=True)
    chosen = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()
    model_version = models.CharField(max_length=40, blank=True)

    def __str__(self) -> str:
        return f"{self.appeal_id} → {self.chosen_id}"
