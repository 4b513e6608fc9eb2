"""Writes to the hierarchy and staff posts: one function per act, audited, in one transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record

from . import geo
from .models import ALLOWED_PARENT_KINDS, Department, Membership, OrgUnit, Role
from .selectors import forget_scope, has_role, scope_for, units_for


class PlacesError(Exception):
    """A refused act on the hierarchy, with the field and a translated reason."""

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code


def _require_unit_in_scope(actor: Any, unit: OrgUnit) -> None:
    if actor is None:  # system acts (commands, seeding) are not scoped
        return
    if not units_for(actor).filter(pk=unit.pk).exists():
        raise PlacesError("unit", _("该区划单元不在您的管辖范围内。"), code="forbidden")


def _require_editor(actor: Any) -> None:
    if actor is None:
        return
    if not (scope_for(actor).everything or has_role(actor, Role.ADMIN, Role.COMMUNITY_STAFF, Role.LEADER)):
        raise PlacesError("unit", _("您的角色不能修改区划单元。"), code="forbidden")


def _check_parent(kind: str, parent: OrgUnit | None) -> None:
    allowed = ALLOWED_PARENT_KINDS.get(kind, set())
    parent_kind = parent.kind if parent else None
    if parent_kind not in allowed:
        raise PlacesError("parent", _("“%(kind)s”不能设在“%(parent)s”之下。") % {"kind": kind, "parent": parent_kind or "—"})


@transaction.atomic
def unit_create(
    *,
    actor: Any,
    code: str,
    name: str,
    kind: str,
    parent: OrgUnit | None,
    boundary: dict[str, Any] | None = None,
    lat: float | None = None,
    lon: float | None = None,
) -> OrgUnit:
    _check_parent(kind, parent)
    if parent is not None:
        _require_editor(actor)
        _require_unit_in_scope(actor, parent)
    elif actor is not None and not scope_for(actor).everything:
        raise PlacesError("parent", _("只有系统管理员可以创建顶级单元。"), code="forbidden")
    if OrgUnit.objects.filter(code=code).exists():
        raise PlacesError("code", _("编码 %(code)s 已被使用。") % {"code": code})
    if boundary is not None:
        shape = geo.validate_boundary(boundary)
        if lat is None or lon is None:
            point = shape.representative_point()
            lat, lon = point.y, point.x
    unit = OrgUnit.objects.create(code=code, name=name, kind=kind, parent=parent, boundary=boundary, lat=lat, lon=lon)
    audit_record(actor=actor, act="places.unit_create", obj=unit, changed_fields=["code", "name", "kind", "parent"] + (["boundary"] if boundary else []))
    return unit


@transaction.atomic
def unit_update(*, actor: Any, unit: OrgUnit, reason: str = "", **changes: Any) -> OrgUnit:
    """Rename a unit or replace its boundary (validated); the code and parent do not change here."""
    _require_editor(actor)
    _require_unit_in_scope(actor, unit)
    allowed = {"name", "boundary", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise PlacesError(sorted(unknown)[0], _("该字段不能在此修改。"))
    changed: list[str] = []
    for field, value in changes.items():
        if field == "name" and not str(value).strip():
            raise PlacesError("name", _("名称不能为空。"))
        if field == "boundary" and value is not None:
            shape = geo.validate_boundary(value)
            point = shape.representative_point()
            unit.lat, unit.lon = point.y, point.x
        if getattr(unit, field) != value:
            setattr(unit, field, value)
            changed.append(field)
    if changed:
        unit.save()
        audit_record(actor=actor, act="places.unit_update", obj=unit, changed_fields=changed, reason=reason)
    return unit


@transaction.atomic
def membership_grant(
    *, actor: Any, user: Any, role: str, unit: OrgUnit | None = None, department: Department | None = None
) -> Membership:
    if role not in Role.values:
        raise PlacesError("role", _("未知角色:%(role)s") % {"role": role})
    if unit is None and department is None:
        raise PlacesError("unit", _("岗位必须属于一个区划单元或一个部门。"))
    if actor is not None and not scope_for(actor).everything:
        if not has_role(actor, Role.ADMIN):
            raise PlacesError("role", _("只有系统管理员可以分配岗位。"), code="forbidden")
        if unit is not None:
            _require_unit_in_scope(actor, unit)
    membership, _created = Membership.objects.update_or_create(
        user=user, role=role, unit=unit, department=department, defaults={"is_active": True}
    )
    forget_scope(user)
    audit_record(actor=actor, act="places.membership_grant", obj=membership, changed_fields=["role", "unit", "department"])
    return membership


@transaction.atomic
def membership_revoke(*, actor: Any, membership: Membership, reason: str = "") -> None:
    if actor is not None and not scope_for(actor).everything and not has_role(actor, Role.ADMIN):
        raise PlacesError("role", _("只有系统管理员可以撤销岗位。"), code="forbidden")
    membership.is_active = False
    membership.save(update_fields=["is_active", "updated_at"])
    forget_scope(membership.user)
    audit_record(actor=actor, act="places.membership_revoke", obj=membership, changed_fields=["is_active"], reason=reason)
