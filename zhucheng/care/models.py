"""Care for vulnerable residents (特殊人群关爱): categories and grants, consented enrolments, needs
assessments, care plans, visits and referrals, services delivered.

Every write goes through ``services.py``; every read of personal data through ``selectors.py``,
which adds the sensitive-category rule (``access.py``) on top of ``places.selectors.scoped``.
Video-link points, homes, proxy parents and homeless cases are in ``models_more.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhucheng.core.fields import EncryptedCharField, HashField
from zhucheng.core.models import TimeStampedModel
from zhucheng.places.models import Department, OrgUnit, Role


class Sensitivity(models.TextChoices):
    ORDINARY = "ordinary", _("一般")
    SENSITIVE = "sensitive", _("敏感")


class RiskLevel(models.TextChoices):
    LOW = "low", _("低")
    MEDIUM = "medium", _("中")
    HIGH = "high", _("高")


class Questionnaire(TimeStampedModel):
    """需求评估问卷: questions with scored answers; the total against two thresholds gives the risk level."""

    code = models.CharField(_("编码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    medium_from = models.PositiveSmallIntegerField(_("中风险起始分"), default=5)
    high_from = models.PositiveSmallIntegerField(_("高风险起始分"), default=10)
    # [{"text": "独居吗?", "choices": [["否", 0], ["是", 3]]}, ...]
    questions = models.JSONField(_("题目"), default=list)

    class Meta:
        verbose_name = _("需求评估问卷")
        verbose_name_plural = _("需求评估问卷")
        constraints = [models.CheckConstraint(condition=Q(high_from__gt=models.F("medium_from")), name="care_questionnaire_thresholds")]

    def __str__(self) -> str:
        return self.name


class CareCategory(TimeStampedModel):
    """关爱对象类别 (空巢老人、留守儿童…): configurable, with a sensitivity level and visit intervals per risk level."""

    code = models.CharField(_("编码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=60, unique=True)
    sensitivity = models.CharField(_("敏感级别"), max_length=10, choices=Sensitivity.choices, default=Sensitivity.ORDINARY)
    description = models.TextField(_("说明"), blank=True)
    questionnaire = models.ForeignKey(Questionnaire, verbose_name=_("评估问卷"), null=True, blank=True, on_delete=models.PROTECT)
    # Days between visits for each risk level (走访频次).
    interval_high = models.PositiveSmallIntegerField(_("高风险走访间隔(天)"), default=7)
    interval_medium = models.PositiveSmallIntegerField(_("中风险走访间隔(天)"), default=15)
    interval_low = models.PositiveSmallIntegerField(_("低风险走访间隔(天)"), default=30)
    review_months = models.PositiveSmallIntegerField(_("复核周期(月)"), default=6)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("关爱对象类别")
        verbose_name_plural = _("关爱对象类别")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_sensitive(self) -> bool:
        return self.sensitivity == Sensitivity.SENSITIVE

    def interval_for(self, risk: str) -> int:
        return {RiskLevel.HIGH: self.interval_high, RiskLevel.MEDIUM: self.interval_medium}.get(risk, self.interval_low)  # type: ignore[call-overload]


class CategoryGrant(TimeStampedModel):
    """敏感类别授权: a role (held within ``unit``) or one user may read enrolments of a sensitive category in ``unit``'s subtree."""

    category = models.ForeignKey(CareCategory, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="grants")
    role = models.CharField(_("角色"), max_length=24, choices=Role.choices, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("人员"), null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(OrgUnit, verbose_name=_("范围"), on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("授权依据"))
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("授权人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("敏感类别授权")
        verbose_name_plural = _("敏感类别授权")
        constraints = [
            models.CheckConstraint(condition=(Q(role="") & Q(user__isnull=False)) | (~Q(role="") & Q(user__isnull=True)), name="care_grant_role_xor_user"),
        ]

    def __str__(self) -> str:
        return f"{self.category} → {self.user or self.get_role_display()} @ {self.unit}"


class EnrolmentState(models.TextChoices):
    ACTIVE = "active", _("在册")
    ENDED = "ended", _("已结案")
    WITHDRAWN = "withdrawn", _("已撤回同意")


class Enrolment(TimeStampedModel):
    """关爱对象登记: a registry person in one category, with consent, a carer, a risk level and a review date."""

    person = models.ForeignKey("registry.Person", verbose_name=_("人员"), on_delete=models.PROTECT, related_name="care_enrolments")
    category = models.ForeignKey(CareCategory, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="enrolments")
    unit = models.ForeignKey(OrgUnit, verbose_name=_("所属网格"), on_delete=models.PROTECT, related_name="care_enrolments")
    state = models.CharField(_("状态"), max_length=10, choices=EnrolmentState.choices, default=EnrolmentState.ACTIVE, db_index=True)
    enrolled_on = models.DateField(_("登记日期"))
    enrolled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    carer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("责任人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="care_enrolments")
    volunteer_name = models.CharField(_("志愿者姓名"), max_length=60, blank=True)
    volunteer_phone = EncryptedCharField(_("志愿者电话"), blank=True, default="")
    risk_level = models.CharField(_("风险等级"), max_length=8, choices=RiskLevel.choices, default=RiskLevel.LOW)
    review_on = models.DateField(_("复核日期"))
    reviewed_on = models.DateField(_("上次复核"), null=True, blank=True)
    situation = models.TextField(_("基本情况"), blank=True)
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    end_reason = models.CharField(_("结束原因"), max_length=200, blank=True)

    scope_unit_field = "unit"

    class Meta:
        verbose_name = _("关爱对象")
        verbose_name_plural = _("关爱对象")
        constraints = [
            models.UniqueConstraint(fields=["person", "category"], condition=Q(state="active"), name="care_enrolment_one_active"),
            models.CheckConstraint(condition=Q(carer__isnull=False) | ~Q(volunteer_name=""), name="care_enrolment_has_carer"),
        ]
        indexes = [models.Index(fields=["category", "state"]), models.Index(fields=["carer", "state"])]

    def __str__(self) -> str:
        return f"{self.person_id} · {self.category_id}"

    @property
    def carer_label(self) -> str:
        if self.carer_id:
            return str(getattr(self.carer, "display_name", "") or self.carer)
        return f"{self.volunteer_name}({_('志愿者')})"


class ConsentGiver(models.TextChoices):
    SELF = "self", _("本人")
    GUARDIAN = "guardian", _("监护人")


class ConsentForm(models.TextChoices):
    WRITTEN = "written", _("书面签字")
    THUMBPRINT = "thumbprint", _("按手印(见证人在场)")
    ORAL = "oral", _("口头同意(两名工作人员见证)")
    ELECTRONIC = "electronic", _("电子确认")


class Consent(TimeStampedModel):
    """知情同意: who agreed (the person, or a guardian for a child or an adult without capacity), when, how, and how to withdraw."""

    enrolment = models.OneToOneField(Enrolment, verbose_name=_("关爱对象"), on_delete=models.PROTECT, related_name="consent")
    given_by = models.CharField(_("同意人"), max_length=10, choices=ConsentGiver.choices)
    guardian_name = models.CharField(_("监护人姓名"), max_length=60, blank=True)
    guardian_relation = models.CharField(_("与本人关系"), max_length=30, blank=True)
    guardian_phone = EncryptedCharField(_("监护人电话"), blank=True, default="", hash_field="guardian_phone_hash")
    guardian_phone_hash = HashField(blank=True, default="")
    lacks_capacity = models.BooleanField(_("本人无民事行为能力或限制行为能力"), default=False)
    given_on = models.DateField(_("同意日期"))
    form = models.CharField(_("同意方式"), max_length=12, choices=ConsentForm.choices)
    document_ref = models.CharField(_("同意书编号"), max_length=60, blank=True)
    withdrawal_method = models.CharField(_("撤回方式(已告知)"), max_length=200)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("记录人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    withdrawn_on = models.DateField(_("撤回日期"), null=True, blank=True)
    withdrawn_via = models.CharField(_("撤回途径"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("知情同意")
        verbose_name_plural = _("知情同意")
        constraints = [
            models.CheckConstraint(condition=Q(given_by="self") | ~Q(guardian_name=""), name="care_consent_guardian_named"),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment_id} {self.get_given_by_display()} {self.given_on}"


class NeedsAssessment(TimeStampedModel):
    """需求评估: answers to a questionnaire, their score and the risk level they give."""

    enrolment = models.ForeignKey(Enrolment, verbose_name=_("关爱对象"), on_delete=models.CASCADE, related_name="assessments")
    questionnaire = models.ForeignKey(Questionnaire, verbose_name=_("问卷"), on_delete=models.PROTECT)
    answers = models.JSONField(_("答案"), default=list)  # choice index per question
    score = models.PositiveSmallIntegerField(_("得分"))
    risk_level = models.CharField(_("风险等级"), max_length=8, choices=RiskLevel.choices)
    assessed_on = models.DateField(_("评估日期"))
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("评估人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    notes = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("需求评估")
        verbose_name_plural = _("需求评估")
        ordering = ["-assessed_on", "-id"]


class CarePlan(TimeStampedModel):
    """关爱计划: the visit interval the risk level gives, the goals, and when the next visit is due."""

    enrolment = models.OneToOneField(Enrolment, verbose_name=_("关爱对象"), on_delete=models.CASCADE, related_name="plan")
    interval_days = models.PositiveSmallIntegerField(_("走访间隔(天)"))
    goals = models.TextField(_("帮扶目标"), blank=True)
    last_visit_on = models.DateField(_("上次走访"), null=True, blank=True)
    next_due_on = models.DateField(_("下次走访截止"), db_index=True)

    class Meta:
        verbose_name = _("关爱计划")
        verbose_name_plural = _("关爱计划")


class VisitKind(models.TextChoices):
    HOME = "home", _("入户走访")
    PHONE = "phone", _("电话问候")
    VIDEO = "video", _("视频通话")


class Visit(TimeStampedModel):
    """走访记录: date, kind, the situation found, needs and follow-up; may have raised an appeal or a referral."""

    enrolment = models.ForeignKey(Enrolment, verbose_name=_("关爱对象"), on_delete=models.CASCADE, related_name="visits")
    visited_on = models.DateField(_("走访日期"))
    due_on = models.DateField(_("应走访截止"))
    kind = models.CharField(_("方式"), max_length=8, choices=VisitKind.choices)
    situation = models.TextField(_("现场情况"))
    needs = models.TextField(_("需求"), blank=True)
    follow_up = models.TextField(_("后续措施"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("走访人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    appeal = models.ForeignKey("appeals.Appeal", verbose_name=_("转诉求"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-visited_on", "-id"]

    @property
    def on_time(self) -> bool:
        return self.visited_on <= self.due_on


class ReferralState(models.TextChoices):
    OPEN = "open", _("待处理")
    DONE = "done", _("已处理")


class Referral(TimeStampedModel):
    """转介: a need found on a visit handed to a city department in one step; the department answers."""

    visit = models.ForeignKey(Visit, verbose_name=_("走访"), on_delete=models.CASCADE, related_name="referrals")
    department = models.ForeignKey(Department, verbose_name=_("部门"), on_delete=models.PROTECT, related_name="care_referrals")
    note = models.TextField(_("转介事项"))
    state = models.CharField(_("状态"), max_length=6, choices=ReferralState.choices, default=ReferralState.OPEN)
    answer = models.TextField(_("处理结果"), blank=True)
    answered_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    scope_unit_field = "visit__enrolment__unit"
    scope_department_field = "department"

    class Meta:
        verbose_name = _("转介")
        verbose_name_plural = _("转介")
        ordering = ["-created_at"]


class ServiceKind(models.TextChoices):
    REHABILITATION = "rehabilitation", _("康复服务")
    AID = "aid", _("辅助器具")
    SUBSIDY = "subsidy", _("补贴救助")
    MATERIAL = "material", _("物资帮扶")
    HOSPITALISATION = "hospitalisation", _("住院救助")


class ServiceDelivery(TimeStampedModel):
    """服务记录: a service delivered to an enrolled person: kind, provider, date, amount in fen."""

    enrolment = models.ForeignKey(Enrolment, verbose_name=_("关爱对象"), on_delete=models.CASCADE, related_name="services")
    kind = models.CharField(_("服务类型"), max_length=16, choices=ServiceKind.choices)
    description = models.CharField(_("服务内容"), max_length=200)
    provider = models.CharField(_("提供方"), max_length=100)
    delivered_on = models.DateField(_("日期"))
    amount_fen = models.PositiveBigIntegerField(_("金额(分)"), default=0)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("记录人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("服务记录")
        verbose_name_plural = _("服务记录")
        ordering = ["-delivered_on", "-id"]


from .models_more import (  # noqa: E402,F401  (registered with the app through this module)
    BookingState,
    CareHome,
    HomeActivity,
    HomeAttendance,
    HomeKind,
    HomelessAgency,
    HomelessCase,
    HomelessHandOff,
    HomelessOutcome,
    HomelessSide,
    LinkBooking,
    LinkPoint,
    ProxyMeeting,
    ProxyPairing,
    ProxyParent,
    ProxyReview,
)
