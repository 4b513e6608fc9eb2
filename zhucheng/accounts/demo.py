"""Demo seeder for accounts: one login per role (and one resident), all with ``DEMO_PASSWORD``.

``demo_logins()`` lists them with where each works, for ``seed_demo`` and ``demo_logins`` to print.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.core.demo import DemoContext
from zhucheng.places import demo as places_demo
from zhucheng.places.data import guiyang
from zhucheng.places.models import Department, Membership, OrgUnit, Role
from zhucheng.places.services import membership_grant

from .models import AccountKind, User
from .services import resident_username, staff_create

ORDER = 20

# Public on purpose: the demo is for trying the platform, never for production data.
DEMO_PASSWORD = "zhucheng-demo-2026"  # noqa: S105
RESIDENT = "resident"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    phone: str
    role: str  # a places Role, or RESIDENT
    unit_code: str = ""
    department_code: str = ""
    superuser: bool = False

    @property
    def login(self) -> str:
        """What one types in the login form: residents use their phone number."""
        return self.phone if self.role == RESIDENT else self.username


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", "周建国", "13908510001", Role.ADMIN, unit_code=guiyang.CITY_CODE, superuser=True),
    DemoAccount("leader", "陈卫东", "13908510002", Role.LEADER, unit_code=guiyang.CITY_CODE),
    DemoAccount("supervisor", "赵敏", "13908510003", Role.SUPERVISOR, unit_code=places_demo.DEMO_DISTRICT_CODE),
    DemoAccount("community", "李娟", "13908510004", Role.COMMUNITY_STAFF, unit_code=places_demo.DEMO_COMMUNITY_CODE),
    DemoAccount("community2", "王芳", "13908510005", Role.COMMUNITY_STAFF, unit_code=places_demo.DEMO_COMMUNITY2_CODE),
    DemoAccount("grid", "张伟", "13908510006", Role.GRID_WORKER, unit_code=places_demo.DEMO_GRID_CODE),
    DemoAccount("dept", "刘洋", "13908510007", Role.DEPARTMENT_HANDLER, department_code=places_demo.DEMO_DEPARTMENT_CODE),
    DemoAccount("mediator", "杨秀英", "13908510008", Role.MEDIATOR, unit_code=places_demo.DEMO_COMMUNITY_CODE),
    # 王筑昀 is the resident the reference article quotes.
    DemoAccount(resident_username("13800138000"), "王筑昀", "13800138000", RESIDENT),
)


def _role_label(account: DemoAccount) -> str:
    return _("居民") if account.role == RESIDENT else str(Role(account.role).label)


def demo_logins() -> list[dict[str, str]]:
    """The demo logins: ``username``, ``login`` (what to type), ``role``, ``where``, ``display_name``.

    ``where`` names the unit's chain below the city (南明区 / 新华社区 / …) when the city is in
    the database, else the unit code.
    """
    unit_codes = {a.unit_code for a in DEMO_ACCOUNTS if a.unit_code}
    paths = dict(OrgUnit.objects.filter(code__in=unit_codes).values_list("code", "path"))
    chain_codes = {c for p in paths.values() for c in p.strip("/").split("/")}
    names = dict(OrgUnit.objects.filter(code__in=chain_codes).values_list("code", "name"))
    depts = dict(Department.objects.filter(code__in={a.department_code for a in DEMO_ACCOUNTS}).values_list("code", "name"))
    rows: list[dict[str, str]] = []
    for a in DEMO_ACCOUNTS:
        if a.unit_code:
            codes = paths.get(a.unit_code, f"/{a.unit_code}/").strip("/").split("/")
            # The city alone when the post is city-wide; otherwise the chain below it.
            shown = codes if len(codes) == 1 else codes[1:]
            where = " / ".join(names.get(c, c) for c in shown)
        elif a.department_code:
            where = depts.get(a.department_code, a.department_code)
        else:
            where = _("手机号登录")
        rows.append(
            {"username": a.username, "login": a.login, "role": _role_label(a), "where": where, "display_name": a.display_name}
        )
    return rows


def _ensure_user(account: DemoAccount, password_hash: str) -> tuple[User, bool]:
    """The account, created if missing (an existing one is left as it is)."""
    user = User.objects.filter(username=account.username).first()
    if user is not None:
        return user, False
    if account.role == RESIDENT:
        user = User(
            username=account.username,
            kind=AccountKind.RESIDENT,
            display_name=account.display_name,
            phone=account.phone,
            phone_verified_at=timezone.now(),
            password=password_hash,
        )
        user.save()
        audit_record(actor=None, act="accounts.seed", obj=user, changed_fields=["phone", "password"], reason="demo resident")
        return user, True
    user = staff_create(actor=None, username=account.username, display_name=account.display_name, phone=account.phone)
    user.password = password_hash
    user.is_superuser = user.is_staff = account.superuser
    user.save(update_fields=["password", "is_superuser", "is_staff"])
    return user, True


def seed(ctx: DemoContext) -> None:
    created = granted = 0
    usernames = [a.username for a in DEMO_ACCOUNTS]
    missing = set(usernames) - set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    # One (deliberately slow) password hash shared by the new demo accounts, not one each.
    password_hash = make_password(DEMO_PASSWORD) if missing else ""
    for account in DEMO_ACCOUNTS:
        user, new = _ensure_user(account, password_hash)
        created += new
        if account.role == RESIDENT:
            continue
        unit = OrgUnit.objects.filter(code=account.unit_code).first() if account.unit_code else None
        dept = Department.objects.filter(code=account.department_code).first() if account.department_code else None
        if unit is None and dept is None:
            ctx.log(_("找不到 %(user)s 的工作单位,未分配岗位") % {"user": account.username})
            continue
        if not Membership.objects.filter(user=user, role=account.role, unit=unit, department=dept, is_active=True).exists():
            membership_grant(actor=None, user=user, role=account.role, unit=unit, department=dept)
            granted += 1
    ctx.log(_("演示账户 %(n)d 个(新建 %(c)d 个,新授岗位 %(g)d 个)") % {"n": len(DEMO_ACCOUNTS), "c": created, "g": granted})


def _pad(text: str, width: int) -> str:
    """Left-justify in terminal columns (a Chinese character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 1)


def logins_table() -> list[str]:
    """The demo logins as aligned lines (Chinese and English), for the terminal."""
    lines = [
        _("演示账户(密码均为 %(password)s):") % {"password": DEMO_PASSWORD},
        "  " + _pad(_("登录名") + " login", 16) + _pad(_("姓名"), 8) + _pad(_("角色") + " role", 20) + _("工作范围"),
    ]
    for r in demo_logins():
        lines.append("  " + _pad(r["login"], 16) + _pad(r["display_name"], 8) + _pad(r["role"], 20) + r["where"])
    return lines
