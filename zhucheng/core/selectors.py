"""Shared reads: what a user's home page offers, by role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from zhucheng.places.models import Role
from zhucheng.places.selectors import scope_for, unit_roots_for


@dataclass(frozen=True)
class HomeSection:
    title: str
    description: str
    url: str


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:  # the domain app is not installed in this deployment
        return None


# (url name, title, description, who: "units" | "departments" | "any")
DOMAIN_SECTIONS: list[tuple[str, Any, Any, str]] = [
    ("appeals:inbox", _("诉求办理"), _("待办诉求：本部门、本辖区、待受理和超期"), "any"),
    ("appeals:search", _("诉求检索与导出"), _("按编号、内容、分类、区划、部门、状态和日期检索"), "any"),
    ("appeals:backlog", _("积案与督办"), _("超期积案按账龄分布，督办和领导包案"), "any"),
    ("appeals:map", _("诉求地图"), _("辖区内未办结诉求按网格分布"), "any"),
    ("registry:search", _("全员人口"), _("人、房、户、业、证：检索与五个清楚"), "units"),
    ("mediation:mine", _("矛盾纠纷调解"), _("纠纷、调解场次、排查与风险"), "units"),
    ("care:home", _("特殊人群关爱"), _("关爱对象、走访、服务、亲情联系点与流浪救助"), "any"),
    ("participation:home", _("群众点菜"), _("社区项目的提议、投票和监督"), "units"),
    ("exchange:home", _("数据交换"), _("部门报送文件的逐行校验、隔离与人员比对"), "any"),
    ("exchange:review_queue", _("人工复核"), _("疑似同一人的比对：两条记录对照，一键确认"), "units"),
    ("exchange:reports", _("日交换与月调度"), _("各部门交换量、隔离原因、匹配率和复核积压"), "any"),
]


def home_sections_for(user: Any) -> dict[str, Any]:
    """The places and tools the user's roles reach, for the staff home page."""
    scope = scope_for(user)
    links: list[HomeSection] = []
    for name, title, description, who in DOMAIN_SECTIONS:
        allowed = scope.everything or (
            bool(scope.paths or scope.department_ids) if who == "any" else bool(scope.paths)
        )
        url = _url(name) if allowed else None
        if url:
            links.append(HomeSection(str(title), str(description), url))
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
