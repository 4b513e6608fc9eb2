"""OrgUnit tree (city → district → community/township → residents' committee/village → grid),
city departments, and staff memberships that grant a role over a unit subtree or a department."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhucheng.core.models import TimeStampedModel


class OrgUnitKind(models.TextChoices):
    CITY = "city", _("市")
    DISTRICT = "district", _("区(县、市)")
    COMMUNITY = "community", _("社区")
    TOWNSHIP = "township", _("乡镇")
    RESIDENTS_COMMITTEE = "residents_committee", _("居委会")
    VILLAGE = "village", _("村")
    GRID = "grid", _("网格")


# Which kinds may sit directly under which (四级联动 plus grids).
ALLOWED_PARENT_KINDS: dict[str, set[str | None]] = {
    OrgUnitKind.CITY: {None},
    OrgUnitKind.DISTRICT: {OrgUnitKind.CITY},
    OrgUnitKind.COMMUNITY: {OrgUnitKind.DISTRICT},
    OrgUnitKind.TOWNSHIP: {OrgUnitKind.DISTRICT},
    OrgUnitKind.RESIDENTS_COMMITTEE: {OrgUnitKind.COMMUNITY, OrgUnitKind.TOWNSHIP},
    OrgUnitKind.VILLAGE: {OrgUnitKind.TOWNSHIP, OrgUnitKind.COMMUNITY},
    OrgUnitKind.GRID: {OrgUnitKind.RESIDENTS_COMMITTEE, OrgUnitKind.VILLAGE, OrgUnitKind.COMMUNITY, OrgUnitKind.TOWNSHIP},
}

PATH_SEP = "/"


class OrgUnit(TimeStampedModel):
    """区划单元: one node of the administrative hierarchy.

    ``path`` is the materialized path of codes (``/5201/520102/…/``) so a whole subtree is
    one indexed prefix query (``path__startswith``); ``depth`` is 0 for the city.
    """

    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=24, choices=OrgUnitKind.choices, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(_("路径"), max_length=400, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("层级"), default=0, editable=False)
    boundary = models.JSONField(_("边界 (GeoJSON)"), null=True, blank=True)
    # Representative point (inside the boundary) for maps and demo data.
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    # A unit is scoped by its own path (``scoped(..., unit_field="")``).
    scope_unit_field = ""

    class Meta:
        verbose_name = _("区划单元")
        verbose_name_plural = _("区划单元")
        ordering = ["path"]
        indexes = [models.Index(fields=["kind", "path"])]

    def __str__(self) -> str:
        return self.name

    def compute_path(self) -> tuple[str, int]:
        if self.parent_id is None:
            return f"{PATH_SEP}{self.code}{PATH_SEP}", 0
        parent = self.parent
        assert parent is not None
        return f"{parent.path}{self.code}{PATH_SEP}", parent.depth + 1

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.path, self.depth = self.compute_path()
        super().save(*args, **kwargs)

    def is_within(self, other: OrgUnit) -> bool:
        """True if this unit is ``other`` or lies in its subtree."""
        return self.path.startswith(other.path)


class Department(TimeStampedModel):
    """市直部门: one of the city's functional departments (群众工作中心 when ``is_dispatch_centre``)."""

    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100, unique=True)
    short_name = models.CharField(_("简称"), max_length=40, blank=True)
    is_dispatch_centre = models.BooleanField(_("群众工作中心"), default=False)
    phone = models.CharField(_("办公电话"), max_length=40, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("市直部门")
        verbose_name_plural = _("市直部门")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    GRID_WORKER = "grid_worker", _("网格员")
    COMMUNITY_STAFF = "community_staff", _("社区工作人员")
    DEPARTMENT_HANDLER = "department_handler", _("部门承办人")
    MEDIATOR = "mediator", _("调解员")
    SUPERVISOR = "supervisor", _("督办人员")
    LEADER = "leader", _("领导")
    ADMIN = "admin", _("系统管理员")


class MembershipQuerySet(models.QuerySet["Membership"]):
    def active(self) -> MembershipQuerySet:
        return self.filter(is_active=True)


class Membership(TimeStampedModel):
    """岗位: a staff member's role over a unit (and its subtree) or over a department."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("人员"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("角色"), max_length=24, choices=Role.choices)
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("区划单元"), null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    is_active = models.BooleanField(_("有效"), default=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("岗位")
        verbose_name_plural = _("岗位")
        constraints = [
            models.CheckConstraint(
                condition=Q(unit__isnull=False) | Q(department__isnull=False),
                name="membership_has_unit_or_department",
            ),
            models.UniqueConstraint(fields=["user", "role", "unit", "department"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        where = self.unit or self.department
        return f"{self.user} · {self.get_role_display()} · {where}"
