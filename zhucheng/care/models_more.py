"""Care records beyond enrolments: family video-link points (亲情联系点) and bookings, children's and women's
homes (留守儿童之家、妇女之家) with activities and attendance, proxy parents (代理妈妈), homeless cases (流浪乞讨人员救助)."""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhucheng.core.fields import EncryptedCharField, HashField
from zhucheng.core.models import TimeStampedModel
from zhucheng.places.models import Department, OrgUnit

# --- family video-link points ---------------------------------------------------------------


class LinkPoint(TimeStampedModel):
    """亲情联系点: a room in a community with video equipment, its opening hours and fixed booking slots."""

    code = models.CharField(_("编码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    unit = models.ForeignKey(OrgUnit, verbose_name=_("所在社区"), on_delete=models.PROTECT, related_name="care_link_points")
    address = models.CharField(_("地址"), max_length=200)
    equipment = models.CharField(_("设备"), max_length=200)
    open_days = models.CharField(_("开放日(1=周一)"), max_length=7, default="12345")
    opens_at = models.TimeField(_("开放时间"), default=time(9, 0))
    closes_at = models.TimeField(_("关闭时间"), default=time(17, 0))
    slot_minutes = models.PositiveSmallIntegerField(_("每次时长(分钟)"), default=30)
    is_active = models.BooleanField(_("启用"), default=True)

    scope_unit_field = "unit"

    class Meta:
        verbose_name = _("亲情联系点")
        verbose_name_plural = _("亲情联系点")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class BookingState(models.TextChoices):
    BOOKED = "booked", _("已预约")
    USED = "used", _("已使用")
    NO_SHOW = "no_show", _("未到")
    CANCELLED = "cancelled", _("已取消")


class LinkBooking(TimeStampedModel):
    """亲情联系预约: one slot at a point for an elderly person or a child, with the family member to call.

    One live booking per point and slot start: the partial unique index refuses a double booking
    on every backend, and the service checks first under the point's row lock for a clear message.
    """

    point = models.ForeignKey(LinkPoint, verbose_name=_("联系点"), on_delete=models.PROTECT, related_name="bookings")
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    person = models.ForeignKey("registry.Person", verbose_name=_("老人/儿童"), on_delete=models.PROTECT, related_name="+")
    family_name = models.CharField(_("亲属姓名"), max_length=60)
    family_relation = models.CharField(_("关系"), max_length=30)
    family_phone = EncryptedCharField(_("亲属联系方式"), hash_field="family_phone_hash")
    family_phone_hash = HashField(blank=True, default="")
    family_place = models.CharField(_("亲属所在地"), max_length=100, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=BookingState.choices, default=BookingState.BOOKED)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("预约人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    used_minutes = models.PositiveSmallIntegerField(_("通话时长(分钟)"), null=True, blank=True)
    usage_note = models.CharField(_("使用记录"), max_length=200, blank=True)

    scope_unit_field = "point__unit"

    class Meta:
        verbose_name = _("亲情联系预约")
        verbose_name_plural = _("亲情联系预约")
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["point", "starts_at"], condition=~Q(state="cancelled"), name="care_booking_one_per_slot"),
        ]


# --- children's and women's homes ----------------------------------------------------------


class HomeKind(models.TextChoices):
    CHILDREN = "children", _("留守儿童之家")
    WOMEN = "women", _("妇女之家")


class CareHome(TimeStampedModel):
    """留守儿童之家 / 妇女之家: a place in a community with a keeper, running activities."""

    kind = models.CharField(_("类型"), max_length=10, choices=HomeKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    unit = models.ForeignKey(OrgUnit, verbose_name=_("所在社区"), on_delete=models.PROTECT, related_name="care_homes")
    address = models.CharField(_("地址"), max_length=200)
    keeper = models.CharField(_("负责人"), max_length=60)
    is_active = models.BooleanField(_("启用"), default=True)

    scope_unit_field = "unit"

    class Meta:
        verbose_name = _("关爱之家")
        verbose_name_plural = _("关爱之家")
        ordering = ["unit__path", "name"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="care_home_unique_name")]

    def __str__(self) -> str:
        return self.name


class HomeActivity(TimeStampedModel):
    """活动: one activity held at a home (homework help, a festival, a health talk)."""

    home = models.ForeignKey(CareHome, verbose_name=_("关爱之家"), on_delete=models.CASCADE, related_name="activities")
    held_on = models.DateField(_("日期"))
    title = models.CharField(_("活动名称"), max_length=100)
    description = models.TextField(_("内容"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("记录人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    scope_unit_field = "home__unit"

    class Meta:
        verbose_name = _("活动")
        verbose_name_plural = _("活动")
        ordering = ["-held_on", "-id"]


class HomeAttendance(models.Model):
    activity = models.ForeignKey(HomeActivity, verbose_name=_("活动"), on_delete=models.CASCADE, related_name="attendance")
    person = models.ForeignKey("registry.Person", verbose_name=_("参加人"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("参加记录")
        verbose_name_plural = _("参加记录")
        constraints = [models.UniqueConstraint(fields=["activity", "person"], name="care_attendance_once")]

    def __str__(self) -> str:
        return f"{self.activity_id} · {self.person_id}"


# --- proxy parents ---------------------------------------------------------------------------


class ProxyParent(TimeStampedModel):
    """代理妈妈(代理家长): a volunteer who looks after left-behind children."""

    name = models.CharField(_("姓名"), max_length=60)
    phone = EncryptedCharField(_("联系电话"), blank=True, default="")
    unit = models.ForeignKey(OrgUnit, verbose_name=_("所在社区"), on_delete=models.PROTECT, related_name="care_proxy_parents")
    occupation = models.CharField(_("职业"), max_length=60, blank=True)
    is_active = models.BooleanField(_("在岗"), default=True)

    scope_unit_field = "unit"

    class Meta:
        verbose_name = _("代理家长")
        verbose_name_plural = _("代理家长")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProxyPairing(TimeStampedModel):
    """结对: a proxy parent paired with a child, reviewed periodically (``review_due_on``)."""

    parent = models.ForeignKey(ProxyParent, verbose_name=_("代理家长"), on_delete=models.PROTECT, related_name="pairings")
    child = models.ForeignKey("registry.Person", verbose_name=_("儿童"), on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(OrgUnit, verbose_name=_("所属网格"), on_delete=models.PROTECT, related_name="+")
    started_on = models.DateField(_("结对日期"))
    review_due_on = models.DateField(_("下次评议"))
    ended_on = models.DateField(_("解除日期"), null=True, blank=True)
    end_reason = models.CharField(_("解除原因"), max_length=200, blank=True)

    scope_unit_field = "unit"

    class Meta:
        verbose_name = _("代理家长结对")
        verbose_name_plural = _("代理家长结对")
        constraints = [models.UniqueConstraint(fields=["child"], condition=Q(ended_on__isnull=True), name="care_pairing_one_active")]


class ProxyMeeting(TimeStampedModel):
    pairing = models.ForeignKey(ProxyPairing, verbose_name=_("结对"), on_delete=models.CASCADE, related_name="meetings")
    met_on = models.DateField(_("日期"))
    note = models.TextField(_("情况"))

    class Meta:
        verbose_name = _("见面记录")
        verbose_name_plural = _("见面记录")
        ordering = ["-met_on", "-id"]


class ProxyReview(TimeStampedModel):
    pairing = models.ForeignKey(ProxyPairing, verbose_name=_("结对"), on_delete=models.CASCADE, related_name="reviews")
    reviewed_on = models.DateField(_("评议日期"))
    keep = models.BooleanField(_("继续结对"), default=True)
    note = models.TextField(_("评议意见"))
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("评议人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("结对评议")
        verbose_name_plural = _("结对评议")
        ordering = ["-reviewed_on", "-id"]


# --- homeless assistance -----------------------------------------------------------------------


class HomelessSide(models.TextChoices):
    CIVIL_AFFAIRS = "civil_affairs", _("民政救助")
    POLICE = "police", _("公安")
    CITY_MANAGEMENT = "city_management", _("城市管理")
    HEALTH = "health", _("卫生健康")


class HomelessOutcome(models.TextChoices):
    RETURNED_HOME = "returned_home", _("护送返乡")
    PLACED_IN_CARE = "placed_in_care", _("安置供养")
    MEDICAL = "medical", _("送医救治")


class HomelessAgency(models.Model):
    """Which city department plays which side in homeless assistance (configured, not hard-coded)."""

    department = models.OneToOneField(Department, verbose_name=_("部门"), on_delete=models.CASCADE, related_name="care_homeless_side")
    side = models.CharField(_("职责"), max_length=16, choices=HomelessSide.choices)

    class Meta:
        verbose_name = _("流浪救助职责部门")
        verbose_name_plural = _("流浪救助职责部门")

    def __str__(self) -> str:
        return f"{self.department} · {self.get_side_display()}"


class HomelessCase(TimeStampedModel):
    """流浪乞讨人员救助: a case handed between civil affairs, police, city management and health until its outcome."""

    code = models.CharField(_("编号"), max_length=20, unique=True)
    found_at = models.DateTimeField(_("发现时间"))
    found_place = models.CharField(_("发现地点"), max_length=200)
    unit = models.ForeignKey(OrgUnit, verbose_name=_("发现地区划"), on_delete=models.PROTECT, related_name="+")
    description = models.TextField(_("现场情况"))
    sex = models.CharField(_("性别"), max_length=1, blank=True)
    apparent_age = models.CharField(_("估计年龄"), max_length=20, blank=True)
    # Identity (police's part): the name given, the registry match, the check done.
    name_given = models.CharField(_("自述姓名"), max_length=60, blank=True)
    person = models.ForeignKey("registry.Person", verbose_name=_("核实身份"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    identity_notes = models.TextField(_("身份核查情况"), blank=True)
    # Health (health's part).
    health_notes = models.TextField(_("健康状况"), blank=True)
    # Assistance (civil affairs' part).
    assistance_notes = models.TextField(_("救助情况"), blank=True)
    holder = models.ForeignKey(Department, verbose_name=_("当前承办部门"), on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("结果"), max_length=16, choices=HomelessOutcome.choices, blank=True)
    outcome_on = models.DateField(_("办结日期"), null=True, blank=True)
    outcome_note = models.TextField(_("办结说明"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    scope_unit_field = "unit"
    scope_department_field = "holder"

    class Meta:
        verbose_name = _("流浪救助个案")
        verbose_name_plural = _("流浪救助个案")
        ordering = ["-found_at"]


class HomelessHandOff(TimeStampedModel):
    """移交: the case passes from one department to another, with what was done and why."""

    case = models.ForeignKey(HomelessCase, verbose_name=_("个案"), on_delete=models.CASCADE, related_name="handoffs")
    from_department = models.ForeignKey(Department, verbose_name=_("移交部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_department = models.ForeignKey(Department, verbose_name=_("接收部门"), on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("移交说明"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("经办人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("移交记录")
        verbose_name_plural = _("移交记录")
        ordering = ["created_at", "id"]
