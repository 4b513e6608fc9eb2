"""Shared reads: what a user's home page offers, by role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zhucheng.places.models import Role
from zhucheng.places.selectors import scope_for, unit_roots_for


@dataclass(frozen=True)
class HomeSection:
    title: str
    description: str
    url: str


def home_sections_for(user: Any) -> dict[str, Any]:
    """The places and tools the user's roles reach, for the staff home page."""
    scope = scope_for(user)
    links: list[HomeSection] = []
    if scope.paths or scope.everything:
        links.append(HomeSection(str(_("区划与网格")), str(_("查看辖区内的区划单元、网格和边界")), reverse("places:unit_list")))
        links.append(HomeSection(str(_("工作人员")), str(_("辖区内的工作人员和岗位")), reverse("places:staff_list")))
    if scope.department_ids or scope.everything:
        links.append(HomeSection(str(_("市直部门")), str(_("本部门的人员和岗位")), reverse("places:staff_list")))
    if Role.ADMIN in scope.roles or getattr(user, "is_staff", False):
        links.append(HomeSection(str(_("系统管理")), str(_("参考数据、节假日、审计记录")), reverse("admin:index")))
    return {
        "roles": [Role(r).label for r in sorted(scope.roles)],
        "units": unit_roots_for(user),
        "links": links,
    }
