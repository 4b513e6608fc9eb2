"""Mediation (调解) and dispute screening (排查、化解、评估、跟进、处置): the records and their invariants.

Every write goes through ``services.py`` (and ``screening.py``, ``risk.py`` for their parts);
reads that pages, commands and metrics share live in ``selectors.py``. A dispute's life cycle
is ``DisputeStatus`` with the moves allowed in ``services.TRANSITIONS``. Risk scores describe
a dispute's chance of escalating, never a person.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhucheng.appeals.models import Appeal
from zhucheng.core.fields import EncryptedCharField, HashField
from zhucheng.core.models import TimeStampedModel
from zhucheng.places.models import OrgUnit


class DisputeField(models.TextChoices):
    """The fields of the eight professional committees, plus "other" for general disputes."""

    LABOUR = "labour", _("劳动争议")
    MEDICAL = "medical", _("医疗纠纷")
    TRAFFIC = "traffic", _("道路交通事故")
    NEIGHBOURS = "neighbours", _("物业及邻里纠纷")
    FAMILY = "family", _("婚姻家庭纠纷")
    LAND = "land", _("土地征收与房屋拆迁")
    CONSUMER = "consumer", _("消费纠纷")
    ENTERPRISE = "enterprise", _("企业改制纠纷")
    OTHER = "other", _("其他纠纷")


class Sequence(models.Model):
    """One counter per (kind, year) behind dispute codes and agreement numbers."""

    name = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "year"], name="mediation_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.name} {self.year}: {self.last}"


class Committee(TimeStampedModel):
    """人民调解委员会: a mediation committee, professional by field or general, seated at a unit."""

    scope_unit_field = "unit"

    code = models.CharField(_("编码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    field = models.CharField(_("专业领域"), max_length=16, choices=DisputeField.choices)
    unit = models.ForeignKey(OrgUnit, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="mediation_committees")
    phone = models.CharField(_("办公电话"), max_length=40, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("调解委员会")
        verbose_name_plural = _("调解委员会")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Room(TimeStampedModel):
    """调解室: a room attached to a unit, with opening days and hours; sessions are booked in it."""

    scope_unit_field = "unit"

    code = models.CharField(_("编码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    committee = models.ForeignKey(
        Committee, verbose_name=_("所属调解委员会"), null=True, blank=True, on_delete=models.PROTECT, related_name="rooms"
    )
    unit = models.ForeignKey(OrgUnit, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="mediation_rooms")
    address = models.CharField(_("地址"), max_length=200, blank=True)
    # ISO weekday digits (1 = Monday): "12345" is Monday to Friday.
    open_days = models.CharField(_("开放日"), max_length=7, default="12345", help_text=_("1 为星期一，例如 12345"))
    opens_at = models.TimeField(_("开放时间"), default=time(8, 30))
    closes_at = models.TimeField(_("关闭时间"), default=time(17, 30))
    hours_note = models.CharField(_("开放时间说明"), max_length=100, blank=True)
    capacity = models.PositiveSmallIntegerField(_("可容纳人数"), default=8)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("调解室")
        verbose_name_plural = _("调解室")
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=Q(opens_at__lt=models.F("closes_at")), name="room_hours_order")]

    def __str__(self) -> str:
        return self.name


class Affiliation(models.TextChoices):
    STAFF = "staff", _("专职调解员")
    LAWYER = "lawyer", _("律师")
    HARMONY = "harmony", _("和谐促进会志愿者")


class Mediator(TimeStampedModel):
    """调解员: staff, lawyer or harmony-association volunteer; fields of expertise, languages, a load limit.

    ``fields`` holds the codes between commas (",labour,family,") so "has expertise in X" is one
    ``LIKE`` that works on every database. The current load is counted, never stored.
    """

    scope_unit_field = "unit"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mediator",
    )
    name = models.CharField(_("姓名"), max_length=60)
    phone = EncryptedCharField(_("联系电话"), blank=True, default="", hash_field="phone_hash")
    phone_hash = HashField()
    affiliation = models.CharField(_("身份"), max_length=10, choices=Affiliation.choices, default=Affiliation.STAFF)
    committee = models.ForeignKey(
        Committee, verbose_name=_("所属调解委员会"), null=True, blank=True, on_delete=models.SET_NULL, related_name="mediators"
    )
    unit = models.ForeignKey(OrgUnit, verbose_name=_("工作区域"), on_delete=models.PROTECT, related_name="mediators")
    fields = models.CharField(_("擅长领域"), max_length=200, blank=True, default=",")
    languages = models.CharField(_("语言"), max_length=100, default="普通话", blank=True)
    max_load = models.PositiveSmallIntegerField(_("同时承办上限"), default=10)
    is_active = models.BooleanField(_("在岗"), default=True)

    class Meta:
        verbose_name = _("调解员")
        verbose_name_plural = _("调解员")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def field_codes(self) -> list[str]:
        return [c for c in self.fields.split(",") if c]

    def field_labels(self) -> list[str]:
        labels = dict(DisputeField.choices)
        return [str(labels.get(c, c)) for c in self.field_codes]


class DisputeStatus(models.TextChoices):
    RECEIVED = "received", _("待指派")
    MEDIATING = "mediating", _("调解中")
    REOPENED = "reopened", _("重新调解")
    AGREED = "agreed", _("已达成协议")
    FULFILLED = "fulfilled", _("协议已履行")
    FAILED = "failed", _("调解不成")
    WITHDRAWN = "withdrawn", _("已撤回")
    HANDED_OVER = "handed_over", _("已移交处置")


OPEN_STATUSES = (DisputeStatus.RECEIVED, DisputeStatus.MEDIATING, DisputeStatus.REOPENED)
# Still someone's work: open, or agreed and waiting for performance.
ACTIVE_STATUSES = (*OPEN_STATUSES, DisputeStatus.AGREED)
# A mediation happened and ended either way (the denominator of the success rate).
MEDIATED_STATUSES = (DisputeStatus.AGREED, DisputeStatus.FULFILLED, DisputeStatus.FAILED)


class Source(models.TextChoices):
    APPEAL = "appeal", _("群众诉求转入")
    SCREENING = "screening", _("排查发现")
    WALK_IN = "walk_in", _("调解室直接受理")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")


class Referral(models.TextChoices):
    """Where parties go when mediation fails (the guidance they receive names it)."""

    ARBITRATION = "arbitration", _("仲裁")
    LABOUR_ARBITRATION = "labour_arbitration", _("劳动人事争议仲裁")
    COURT = "court", _("人民法院诉讼")
    ADMINISTRATIVE = "administrative", _("行政机关处理")
    OTHER = "other", _("其他途径")


class RiskLevel(models.TextChoices):
    LOW = "low", _("低")
    MEDIUM = "medium", _("中")
    HIGH = "high", _("高")


class Dispute(TimeStampedModel):
    """矛盾纠纷: one matter between parties, from an appeal, a screening report or a walk-in at a room."""

    scope_unit_field = "unit"

    code = models.CharField(_("纠纷编号"), max_length=20, unique=True)
    title = models.CharField(_("纠纷事项"), max_length=120)
    facts = models.TextField(_("纠纷事实"))
    field = models.CharField(_("纠纷类型"), max_length=16, choices=DisputeField.choices, default=DisputeField.OTHER)
    amount_fen = models.BigIntegerField(_("争议金额（分）"), null=True, blank=True)
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    status = models.CharField(_("状态"), max_length=16, choices=DisputeStatus.choices, default=DisputeStatus.RECEIVED)
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices)
    appeal = models.ForeignKey(
        Appeal, verbose_name=_("来源诉求"), null=True, blank=True, on_delete=models.PROTECT, related_name="disputes"
    )
    screening_report = models.ForeignKey(
        "GridReport", verbose_name=_("来源排查报告"), null=True, blank=True, on_delete=models.PROTECT, related_name="disputes"
    )
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="disputes", help_text=_("决定谁能看到")
    )
    committee = models.ForeignKey(
        Committee, verbose_name=_("调解委员会"), null=True, blank=True, on_delete=models.PROTECT, related_name="disputes"
    )
    room = models.ForeignKey(Room, verbose_name=_("调解室"), null=True, blank=True, on_delete=models.PROTECT, related_name="disputes")
    mediator = models.ForeignKey(
        Mediator, verbose_name=_("承办调解员"), null=True, blank=True, on_delete=models.PROTECT, related_name="disputes"
    )
    prior_appeals = models.PositiveSmallIntegerField(_("此前就同一事项反映次数"), default=0)
    received_at = models.DateTimeField(_("受理时间"), db_index=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("受理人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(_("指派时间"), null=True, blank=True)
    agreed_at = models.DateTimeField(_("达成协议时间"), null=True, blank=True, db_index=True)
    concluded_at = models.DateTimeField(_("办结时间"), null=True, blank=True, db_index=True)
    reopened_at = models.DateTimeField(_("重新调解时间"), null=True, blank=True)
    reopened_count = models.PositiveSmallIntegerField(_("重新调解次数"), default=0)
    referral = models.CharField(_("引导途径"), max_length=20, choices=Referral.choices, blank=True)
    referral_guidance = models.TextField(_("告知当事人的指引"), blank=True)
    withdrawn_reason = models.TextField(_("撤回理由"), blank=True)
    handed_over_to = models.CharField(_("移交单位"), max_length=120, blank=True)
    handover_reason = models.TextField(_("移交理由"), blank=True)
    # Recorded by staff: a party's threat of harm to self or others (a risk factor of the dispute).
    threat_recorded_at = models.DateTimeField(_("记录危害风险时间"), null=True, blank=True)
    threat_note = models.TextField(_("危害风险记录"), blank=True)
    # Latest risk assessment, kept here so the risk board sorts in SQL.
    risk_score = models.FloatField(_("风险得分"), null=True, blank=True, db_index=True)
    risk_level = models.CharField(_("风险等级"), max_length=8, choices=RiskLevel.choices, blank=True)
    risk_assessed_at = models.DateTimeField(_("评估时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("矛盾纠纷")
        verbose_name_plural = _("矛盾纠纷")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["unit", "status"], name="dispute_unit_status"),
            models.Index(fields=["mediator", "status"], name="dispute_mediator_status"),
            models.Index(fields=["status", "risk_score"], name="dispute_status_risk"),
        ]
        constraints = [
            # One dispute per appeal: a second "create from appeal" finds the first.
            models.UniqueConstraint(fields=["appeal"], condition=Q(appeal__isnull=False), name="dispute_one_per_appeal"),
            models.CheckConstraint(condition=Q(amount_fen__isnull=True) | Q(amount_fen__gte=0), name="dispute_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def amount_yuan(self) -> str:
        return "" if self.amount_fen is None else f"{self.amount_fen / 100:,.2f}"


class PartySide(models.TextChoices):
    APPLICANT = "applicant", _("申请人")
    RESPONDENT = "respondent", _("被申请人")
    THIRD = "third", _("第三人")


class Party(models.Model):
    """当事人: a person or organisation in the dispute; ID and phones encrypted, shown masked."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="parties")
    side = models.CharField(_("身份"), max_length=12, choices=PartySide.choices, default=PartySide.APPLICANT)
    name = models.CharField(_("姓名或名称"), max_length=100)
    is_organisation = models.BooleanField(_("单位"), default=False)
    id_number = EncryptedCharField(_("身份证号或统一社会信用代码"), blank=True, default="", hash_field="id_number_hash")
    id_number_hash = HashField()
    phone = EncryptedCharField(_("联系电话"), blank=True, default="", hash_field="phone_hash")
    phone_hash = HashField()
    address = models.CharField(_("住址"), max_length=200, blank=True)
    representative_name = models.CharField(_("代理人或法定代表人"), max_length=60, blank=True)
    representative_role = models.CharField(_("代理身份"), max_length=30, blank=True)
    representative_phone = EncryptedCharField(_("代理人电话"), blank=True, default="")

    class Meta:
        verbose_name = _("当事人")
        verbose_name_plural = _("当事人")
        ordering = ["dispute", "side", "id"]

    def __str__(self) -> str:
        return self.name


class ConflictDeclaration(models.Model):
    """利益冲突声明: a mediator's declaration on one dispute; a declared conflict bars assignment."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="conflicts")
    mediator = models.ForeignKey(Mediator, on_delete=models.CASCADE, related_name="conflicts")
    has_conflict = models.BooleanField(_("存在利益冲突"))
    note = models.TextField(_("说明"), blank=True)
    declared_at = models.DateTimeField(_("声明时间"))
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("利益冲突声明")
        verbose_name_plural = _("利益冲突声明")
        ordering = ["declared_at", "id"]

    def __str__(self) -> str:
        return f"{self.mediator} · {self.dispute_id} · {self.has_conflict}"


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("已安排")
    HELD = "held", _("已举行")
    CANCELLED = "cancelled", _("已取消")


class Session(TimeStampedModel):
    """调解会: a meeting in a room at a time; neither the room nor the mediator may be double-booked."""

    scope_unit_field = "dispute__unit"

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="sessions")
    room = models.ForeignKey(Room, verbose_name=_("调解室"), on_delete=models.PROTECT, related_name="sessions")
    mediator = models.ForeignKey(Mediator, verbose_name=_("调解员"), on_delete=models.PROTECT, related_name="sessions")
    starts_at = models.DateTimeField(_("开始时间"), db_index=True)
    ends_at = models.DateTimeField(_("结束时间"))
    status = models.CharField(_("状态"), max_length=10, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED)
    minutes = models.TextField(_("调解笔录"), blank=True)
    held_at = models.DateTimeField(_("记录时间"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("提醒时间"), null=True, blank=True)
    scheduled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("调解会")
        verbose_name_plural = _("调解会")
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["room", "starts_at"], name="session_room_time"),
            models.Index(fields=["mediator", "starts_at"], name="session_mediator_time"),
        ]
        constraints = [models.CheckConstraint(condition=Q(starts_at__lt=models.F("ends_at")), name="session_time_order")]

    def __str__(self) -> str:
        return f"{self.dispute_id} @ {self.room_id} {self.starts_at:%Y-%m-%d %H:%M}"


class Attendance(models.Model):
    """出席: who is expected at a session (a party, or another named attendee) and whether they came."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendances")
    party = models.ForeignKey(Party, null=True, blank=True, on_delete=models.CASCADE, related_name="attendances")
    name = models.CharField(_("姓名"), max_length=60, blank=True)
    role = models.CharField(_("身份"), max_length=30, blank=True)
    present = models.BooleanField(_("到场"), null=True, blank=True)

    class Meta:
        verbose_name = _("出席")
        verbose_name_plural = _("出席")
        ordering = ["session", "id"]

    def __str__(self) -> str:
        return self.party.name if self.party_id and self.party else self.name


class AgreementState(models.TextChoices):
    PERFORMING = "performing", _("履行中")
    FULFILLED = "fulfilled", _("已履行")
    BREACHED = "breached", _("未履行")


class Agreement(TimeStampedModel):
    """人民调解协议书: facts, terms with performance deadlines, the generated PDF (under MEDIA_ROOT)."""

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="agreements")
    number = models.CharField(_("协议书编号"), max_length=40, unique=True)
    facts = models.TextField(_("纠纷主要事实、争议事项"))
    signed_on = models.DateField(_("签订日期"))
    state = models.CharField(_("履行状态"), max_length=12, choices=AgreementState.choices, default=AgreementState.PERFORMING)
    pdf = models.FileField(_("协议书 PDF"), upload_to="mediation/agreements/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    judicial_requested_on = models.DateField(_("申请司法确认日期"), null=True, blank=True)
    judicial_court = models.CharField(_("受理法院"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("调解协议")
        verbose_name_plural = _("调解协议")
        ordering = ["-signed_on", "-id"]

    def __str__(self) -> str:
        return self.number


class TermResult(models.TextChoices):
    PENDING = "pending", _("待履行")
    FULFILLED = "fulfilled", _("已履行")
    BREACHED = "breached", _("未履行")


class AgreementTerm(models.Model):
    """协议条款: one obligation with its performance deadline; checked on that date (履行回访)."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="terms")
    seq = models.PositiveSmallIntegerField(_("序号"))
    text = models.TextField(_("条款内容"))
    obligor = models.ForeignKey(Party, verbose_name=_("履行人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    amount_fen = models.BigIntegerField(_("金额（分）"), null=True, blank=True)
    due_on = models.DateField(_("履行期限"), null=True, blank=True, db_index=True)
    result = models.CharField(_("履行情况"), max_length=10, choices=TermResult.choices, default=TermResult.PENDING)
    check_opened_at = models.DateTimeField(_("回访开始"), null=True, blank=True)
    checked_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    check_note = models.TextField(_("核实情况"), blank=True)

    class Meta:
        verbose_name = _("协议条款")
        verbose_name_plural = _("协议条款")
        ordering = ["agreement", "seq"]
        constraints = [models.UniqueConstraint(fields=["agreement", "seq"], name="agreement_term_seq")]

    def __str__(self) -> str:
        return f"{self.agreement_id}.{self.seq}"


class FollowUpState(models.TextChoices):
    OPEN = "open", _("待办")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


class FollowUp(TimeStampedModel):
    """跟进任务: an owner and a due date, until the dispute is resolved or handed over (处置)."""

    scope_unit_field = "dispute__unit"

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="followups")
    title = models.CharField(_("任务"), max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("负责人"), on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField(_("完成期限"), db_index=True)
    state = models.CharField(_("状态"), max_length=10, choices=FollowUpState.choices, default=FollowUpState.OPEN)
    term = models.ForeignKey(AgreementTerm, null=True, blank=True, on_delete=models.CASCADE, related_name="followups")
    note = models.TextField(_("情况说明"), blank=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("跟进任务")
        verbose_name_plural = _("跟进任务")
        ordering = ["due_on", "id"]
        constraints = [
            # The sweep opens at most one check task per term, however often it runs.
            models.UniqueConstraint(fields=["term"], condition=Q(term__isnull=False), name="followup_one_per_term")
        ]

    def __str__(self) -> str:
        return self.title


class FactorCode(models.TextChoices):
    """What the risk score can weigh; each code has its input computed in ``risk.py``."""

    PARTIES = "parties", _("当事人数量")
    AMOUNT = "amount", _("争议金额（元）")
    REPEAT_APPEALS = "repeat_appeals", _("同一事项重复反映次数")
    MISSED_DEADLINES = "missed_deadlines", _("逾期未履行或逾期未跟进次数")
    THREATS = "threats", _("工作人员记录的危害自身或他人风险")


class RiskFactor(TimeStampedModel):
    """风险因素: weight (points at full strength) and the input value at which the factor is at full strength."""

    code = models.CharField(_("因素"), max_length=20, choices=FactorCode.choices, unique=True)
    weight = models.PositiveSmallIntegerField(_("权重（分）"))
    saturation = models.FloatField(_("满分对应数值"), help_text=_("输入达到此值时计满权重，低于此值按比例计分"))
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("风险因素")
        verbose_name_plural = _("风险因素")
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=Q(saturation__gt=0), name="risk_factor_saturation_positive")]

    def __str__(self) -> str:
        return self.get_code_display()


class RiskAssessment(models.Model):
    """风险评估: the score of one assessment with each factor's input and contribution (shown on the page)."""

    scope_unit_field = "dispute__unit"

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="risk_assessments")
    assessed_at = models.DateTimeField(_("评估时间"))
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    score = models.FloatField(_("得分"))
    level = models.CharField(_("等级"), max_length=8, choices=RiskLevel.choices)
    contributions = models.JSONField(_("各因素得分"), default=list)
    note = models.TextField(_("评估意见"), blank=True)

    class Meta:
        verbose_name = _("风险评估")
        verbose_name_plural = _("风险评估")
        ordering = ["-assessed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.score:.0f}"


class RoundState(models.TextChoices):
    OPEN = "open", _("排查中")
    CLOSED = "closed", _("已结束")


class ScreeningRound(TimeStampedModel):
    """排查轮次: one month's screening in one community or township; closed only when every grid reported."""

    scope_unit_field = "unit"

    unit = models.ForeignKey(OrgUnit, verbose_name=_("社区或乡镇"), on_delete=models.PROTECT, related_name="screening_rounds")
    month = models.DateField(_("月份"), help_text=_("当月第一天"))
    state = models.CharField(_("状态"), max_length=8, choices=RoundState.choices, default=RoundState.OPEN)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("排查轮次")
        verbose_name_plural = _("排查轮次")
        ordering = ["-month", "unit__path"]
        constraints = [models.UniqueConstraint(fields=["unit", "month"], name="screening_round_unit_month")]

    def __str__(self) -> str:
        return f"{self.unit} {self.month:%Y-%m}"


class ReportState(models.TextChoices):
    PENDING = "pending", _("未上报")
    NONE_FOUND = "none_found", _("未发现")
    FOUND = "found", _("发现纠纷或风险")


class GridReport(models.Model):
    """网格排查报告: one grid's answer in a round — disputes and risks found, or "none found"."""

    scope_unit_field = "grid"

    round = models.ForeignKey(ScreeningRound, on_delete=models.CASCADE, related_name="reports")
    grid = models.ForeignKey(OrgUnit, verbose_name=_("网格"), on_delete=models.PROTECT, related_name="screening_reports")
    state = models.CharField(_("上报情况"), max_length=12, choices=ReportState.choices, default=ReportState.PENDING)
    disputes_found = models.PositiveSmallIntegerField(_("发现纠纷数"), default=0)
    risks_found = models.PositiveSmallIntegerField(_("发现风险数"), default=0)
    note = models.TextField(_("情况说明"), blank=True)
    reported_at = models.DateTimeField(_("上报时间"), null=True, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("网格排查报告")
        verbose_name_plural = _("网格排查报告")
        ordering = ["round", "grid__path"]
        constraints = [models.UniqueConstraint(fields=["round", "grid"], name="grid_report_round_grid")]
        indexes = [models.Index(fields=["round", "state"], name="grid_report_round_state")]

    def __str__(self) -> str:
        return f"{self.grid} {self.round.month:%Y-%m}"
