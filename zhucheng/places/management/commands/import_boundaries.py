"""Load unit boundaries from a GeoJSON FeatureCollection: validate every feature, then write all or nothing.

Without ``--commit`` this is a dry run that writes nothing. Each feature's ``properties``
carry ``code``; an existing unit of ``--kind`` gets its boundary replaced, otherwise ``name``
and ``parent_code`` create a new unit of ``--kind`` under that parent. Writes go through
``places.services`` (which validate again and write the audit trail).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from zhucheng.places import geo, services
from zhucheng.places.models import ALLOWED_PARENT_KINDS, OrgUnit, OrgUnitKind

_CODE_MAX = OrgUnit._meta.get_field("code").max_length or 40
_NAME_MAX = OrgUnit._meta.get_field("name").max_length or 100
_IN_CHUNK = 900  # stays under SQLite's historical 999-parameter limit


@dataclass
class Rejected:
    index: int
    code: str
    reason: str


@dataclass
class Planned:
    index: int
    code: str
    action: str  # "create" | "update" | "unchanged"
    boundary: dict[str, Any]
    unit: OrgUnit | None = None
    kind: str = ""
    name: str = ""
    parent: OrgUnit | None = None


@dataclass
class Plan:
    planned: list[Planned] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for p in self.planned if p.action == action)


def _units_by_code(codes: Iterable[str]) -> dict[str, OrgUnit]:
    wanted = sorted(set(codes))
    found: dict[str, OrgUnit] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        for unit in OrgUnit.objects.filter(code__in=wanted[start : start + _IN_CHUNK]):
            found[unit.code] = unit
    return found


def _text_property(properties: dict[str, Any], key: str) -> str | None:
    """A property as stripped text; numbers are accepted for codes written without quotes."""
    value = properties.get(key)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, str)):
        return str(value).strip() or None
    return None


def plan_import(features: list[Any], kind: str) -> Plan:
    """Check every feature against the file and the database; nothing is written."""
    plan = Plan()
    staged: list[tuple[int, str, dict[str, Any], dict[str, Any]]] = []
    first_seen: dict[str, int] = {}
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            plan.rejected.append(Rejected(index, "—", _("不是 GeoJSON 要素(Feature)。")))
            continue
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            plan.rejected.append(Rejected(index, "—", _("properties 必须是对象。")))
            continue
        code = _text_property(properties, "code")
        if code is None:
            plan.rejected.append(Rejected(index, "—", _("缺少属性 code(单元编码)。")))
            continue
        if len(code) > _CODE_MAX:
            plan.rejected.append(Rejected(index, code, _("编码超过 %(max)d 个字符。") % {"max": _CODE_MAX}))
            continue
        if code in first_seen:
            plan.rejected.append(
                Rejected(index, code, _("编码在文件中重复,首次出现在 feature #%(first)d。") % {"first": first_seen[code]})
            )
            continue
        first_seen[code] = index
        try:
            geo.validate_boundary(feature.get("geometry"))
        except geo.BoundaryError as exc:
            plan.rejected.append(Rejected(index, code, exc.reason))
            continue
        staged.append((index, code, properties, feature["geometry"]))

    existing = _units_by_code(code for _i, code, _p, _g in staged)
    parent_codes = {
        pc for _i, code, props, _g in staged if code not in existing and (pc := _text_property(props, "parent_code"))
    }
    parents = _units_by_code(parent_codes)
    allowed_parent_kinds = ALLOWED_PARENT_KINDS.get(kind, set())
    kind_label = OrgUnitKind(kind).label

    for index, code, properties, boundary in staged:
        unit = existing.get(code)
        if unit is not None:
            if unit.kind != kind:
                plan.rejected.append(
                    Rejected(
                        index,
                        code,
                        _("单元 %(code)s 已存在,类型是“%(actual)s”,与 --kind “%(kind)s”不符。")
                        % {"code": code, "actual": unit.get_kind_display(), "kind": kind_label},
                    )
                )
                continue
            action = "unchanged" if unit.boundary == boundary else "update"
            plan.planned.append(Planned(index, code, action, boundary, unit=unit))
            continue
        name = _text_property(properties, "name")
        parent_code = _text_property(properties, "parent_code")
        if name is None:
            plan.rejected.append(Rejected(index, code, _("单元不存在;新建单元需要属性 name(名称)。")))
            continue
        if len(name) > _NAME_MAX:
            plan.rejected.append(Rejected(index, code, _("名称超过 %(max)d 个字符。") % {"max": _NAME_MAX}))
            continue
        parent: OrgUnit | None = None
        if parent_code is None:
            if None not in allowed_parent_kinds:
                plan.rejected.append(Rejected(index, code, _("单元不存在;新建单元需要属性 parent_code(上级编码)。")))
                continue
        else:
            parent = parents.get(parent_code)
            if parent is None:
                plan.rejected.append(Rejected(index, code, _("上级编码 %(parent)s 不存在。") % {"parent": parent_code}))
                continue
            if parent.kind not in allowed_parent_kinds:
                plan.rejected.append(
                    Rejected(
                        index,
                        code,
                        _("上级 %(parent)s 是“%(parent_kind)s”,其下不能设“%(kind)s”。")
                        % {"parent": parent_code, "parent_kind": parent.get_kind_display(), "kind": kind_label},
                    )
                )
                continue
        plan.planned.append(Planned(index, code, "create", boundary, kind=kind, name=name, parent=parent))
    plan.rejected.sort(key=lambda r: r.index)
    return plan


def _read_features(path: str) -> list[Any]:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CommandError(_("无法读取文件 %(path)s:%(error)s") % {"path": path, "error": exc.strerror or exc}) from exc
    except UnicodeDecodeError as exc:
        raise CommandError(_("文件 %(path)s 不是 UTF-8 编码。") % {"path": path}) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            _("文件 %(path)s 不是有效的 JSON:第 %(line)d 行第 %(col)d 列,%(msg)s。")
            % {"path": path, "line": exc.lineno, "col": exc.colno, "msg": exc.msg}
        ) from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
        raise CommandError(_("文件 %(path)s 不是 GeoJSON FeatureCollection(需要 type 为 FeatureCollection 且含 features 列表)。") % {"path": path})
    return data["features"]


class Command(BaseCommand):
    help = _("从 GeoJSON FeatureCollection 导入区划单元边界(默认试运行;加 --commit 才写入,且全部成功或全部不写)。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=_("GeoJSON 文件(FeatureCollection)"))
        parser.add_argument("--kind", required=True, choices=OrgUnitKind.values, help=_("要素对应的单元类型,例如 grid"))
        parser.add_argument("--commit", action="store_true", help=_("写入数据库;不加则只试运行"))

    def handle(self, *args: Any, **options: Any) -> None:
        features = _read_features(options["file"])
        kind: str = options["kind"]
        plan = plan_import(features, kind)
        for bad in plan.rejected:
            self.stderr.write(_("feature #%(index)d (code=%(code)s): %(reason)s") % {"index": bad.index, "code": bad.code, "reason": bad.reason})
        counts = {
            "total": len(features),
            "created": plan.count("create"),
            "updated": plan.count("update"),
            "unchanged": plan.count("unchanged"),
            "rejected": len(plan.rejected),
        }
        would = _("共 %(total)d 个要素:将新建 %(created)d 个,将更新边界 %(updated)d 个,边界不变 %(unchanged)d 个,拒绝 %(rejected)d 个。") % counts
        if plan.rejected:
            self.stdout.write(_("检查未通过。") + would)
            raise CommandError(_("有 %(rejected)d 个要素被拒绝,未写入任何数据。请修正后重新导入。") % counts)
        if not options["commit"]:
            self.stdout.write(_("试运行,未写入任何数据。") + would)
            self.stdout.write(_("确认无误后加 --commit 写入。"))
            return
        self._write(plan)
        done = _("已写入:共 %(total)d 个要素,新建 %(created)d 个,更新边界 %(updated)d 个,边界不变 %(unchanged)d 个。") % counts
        self.stdout.write(self.style.SUCCESS(done))

    @transaction.atomic
    def _write(self, plan: Plan) -> None:
        for item in plan.planned:
            try:
                if item.action == "create":
                    services.unit_create(
                        actor=None, code=item.code, name=item.name, kind=item.kind, parent=item.parent, boundary=item.boundary
                    )
                elif item.action == "update":
                    assert item.unit is not None
                    services.unit_update(actor=None, unit=item.unit, boundary=item.boundary, reason=_("边界导入"))
            except (services.PlacesError, geo.BoundaryError) as exc:
                # Raising inside the atomic block rolls back every feature written so far.
                message = getattr(exc, "message", None) or getattr(exc, "reason", str(exc))
                raise CommandError(
                    _("写入 feature #%(index)d (code=%(code)s) 时失败:%(reason)s;已全部回滚。")
                    % {"index": item.index, "code": item.code, "reason": message}
                ) from exc
