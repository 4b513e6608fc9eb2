"""Household acts (户): open a household, add and remove members, split (分户) and merge (并户).

A household has exactly one current head; members carry their relation to the head and the dates
they joined and left. Changes never rewrite a member row: it is ended (``to_date``, ``end_reason``)
and, when the relation changes, a new row opens. Re-exported by ``services``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record

from . import standard
from .errors import RegistryError
from .models import Household, HouseholdKind, HouseholdMember, HousingUnit, MembershipEnd, Person, Relation
from .permissions import REGISTRAR_ROLES, require


def _today() -> date:
    return timezone.localdate()


def current_membership(person: Person) -> HouseholdMember | None:
    """The household row the person belongs to now, if any."""
    return HouseholdMember.objects.select_related("household").filter(person=person, to_date__isnull=True).first()


def _new_household_number(household: Household) -> str:
    prefix = (household.unit.code + "000000")[:6]
    return f"{prefix}{household.pk:010d}"


def _refuse_deceased(person: Person) -> None:
    if person.died_on is not None:
        raise RegistryError(_("此人已登记死亡,不能再办理此事项。"), code="deceased", field="person")


def end_member(member: HouseholdMember, on: date, why: str) -> None:
    member.to_date = on
    member.end_reason = why
    member.save(update_fields=["to_date", "end_reason"])


def change_relation(member: HouseholdMember, relation: str, on: date) -> HouseholdMember:
    """A relation changes by ending the row and opening a new one (the old relation stays on record)."""
    end_member(member, on, MembershipEnd.OTHER)
    return HouseholdMember.objects.create(household=member.household, person=member.person, relation=relation, from_date=on)


def _refuse_member_elsewhere(person: Person) -> None:
    if current_membership(person) is not None:
        raise RegistryError(_("%(name)s 已在另一户中,请先办理离户或分户。") % {"name": person.name}, code="already_member", field="person")


@transaction.atomic
def household_create(
    *,
    actor: Any,
    head: Person,
    housing_unit: HousingUnit | None = None,
    kind: str = HouseholdKind.FAMILY,
    from_date: date | None = None,
    reason: str = "",
) -> Household:
    """Open a household (立户) with ``head`` as its head, registered at ``housing_unit`` (or the head's grid)."""
    unit = housing_unit.grid if housing_unit is not None else head.unit
    require(actor, unit, REGISTRAR_ROLES)
    _refuse_deceased(head)
    _refuse_member_elsewhere(head)
    on = from_date or _today()
    household = Household.objects.create(number=uuid.uuid4().hex[:20], kind=kind, housing_unit=housing_unit, unit=unit, formed_on=on)
    household.number = _new_household_number(household)
    household.save(update_fields=["number"])
    HouseholdMember.objects.create(household=household, person=head, relation=Relation.HEAD, from_date=on)
    audit_record(actor=actor, act="registry.household_create", obj=household, changed_fields=["members"], reason=reason)
    return household


@transaction.atomic
def household_add_member(
    *, actor: Any, household: Household, person: Person, relation: str, from_date: date | None = None, reason: str = ""
) -> HouseholdMember:
    require(actor, household.unit, REGISTRAR_ROLES)
    if household.dissolved_on is not None:
        raise RegistryError(_("该户已销户。"), code="dissolved", field="household")
    if relation == Relation.HEAD:
        raise standard.error("members", "head_count", count=2)
    standard.raise_for(standard.check_household([(0, Relation.HEAD), (person.pk, relation)]))
    _refuse_deceased(person)
    _refuse_member_elsewhere(person)
    member = HouseholdMember.objects.create(household=household, person=person, relation=relation, from_date=from_date or _today())
    audit_record(actor=actor, act="registry.household_add_member", obj=household, changed_fields=["members"], reason=reason)
    return member


@transaction.atomic
def household_remove_member(
    *, actor: Any, member: HouseholdMember, to_date: date | None = None, end_reason: str = MembershipEnd.MOVED, reason: str = ""
) -> HouseholdMember:
    """A member leaves (迁出户口). The head can leave only last (the household is then closed)."""
    household = member.household
    require(actor, household.unit, REGISTRAR_ROLES)
    if member.to_date is not None:
        raise RegistryError(_("此人已不在该户。"), code="not_member", field="member")
    on = to_date or _today()
    others = HouseholdMember.objects.filter(household=household, to_date__isnull=True).exclude(pk=member.pk)
    if member.relation == Relation.HEAD and others.exists():
        raise RegistryError(_("户主离户前,请先通过分户或变更户主安排新户主。"), code="head_required", field="member")
    end_member(member, on, end_reason)
    if not others.exists():
        household.dissolved_on = on
        household.dissolved_reason = reason or _("户内无人")
        household.save(update_fields=["dissolved_on", "dissolved_reason", "updated_at"])
    audit_record(actor=actor, act="registry.household_remove_member", obj=household, changed_fields=["members"], reason=reason)
    return member


@transaction.atomic
def household_split(
    *,
    actor: Any,
    household: Household,
    members: Mapping[Person, str],
    housing_unit: HousingUnit | None = None,
    remaining_head: Person | None = None,
    on: date | None = None,
    reason: str = "",
) -> Household:
    """分户: ``members`` (person → relation in the new household, exactly one ``head``) leave for a new household.

    If the old head leaves, ``remaining_head`` (one of those staying) becomes the old household's head;
    the relations of the others who stay are kept as recorded.
    """
    require(actor, household.unit, REGISTRAR_ROLES)
    if housing_unit is not None:
        require(actor, housing_unit.grid, REGISTRAR_ROLES)
    on = on or _today()
    current = {m.person_id: m for m in HouseholdMember.objects.select_related("person").filter(household=household, to_date__isnull=True)}
    for person in members:
        if person.pk not in current:
            raise RegistryError(_("%(name)s 不是该户的现有成员。") % {"name": person.name}, code="not_member", field="members")
    standard.raise_for(standard.check_household([(p.pk, rel) for p, rel in members.items()]))
    staying = {pid: m for pid, m in current.items() if pid not in {p.pk for p in members}}
    if not staying:
        raise RegistryError(_("分户后原户不能没有成员;全户迁移请办理迁入迁出。"), code="split_empty", field="members")
    old_head = next((m for m in current.values() if m.relation == Relation.HEAD), None)
    heir = None
    if old_head is not None and old_head.person_id not in staying:
        heir = staying.get(remaining_head.pk) if remaining_head is not None else None
        if heir is None:
            raise RegistryError(_("原户主分出后,请在留下的成员中指定新户主。"), code="head_required", field="remaining_head")
    for person in members:
        end_member(current[person.pk], on, MembershipEnd.SPLIT)
    if heir is not None:
        change_relation(heir, Relation.HEAD, on)
    new = Household.objects.create(
        number=uuid.uuid4().hex[:20],
        kind=household.kind,
        housing_unit=housing_unit or household.housing_unit,
        unit=housing_unit.grid if housing_unit is not None else household.unit,
        formed_on=on,
    )
    new.number = _new_household_number(new)
    new.save(update_fields=["number"])
    HouseholdMember.objects.bulk_create(
        [HouseholdMember(household=new, person=p, relation=rel, from_date=on) for p, rel in members.items()]
    )
    audit_record(actor=actor, act="registry.household_split", obj=household, changed_fields=["members"], reason=f"{reason}; new={new.number}")
    return new


@transaction.atomic
def household_merge(
    *, actor: Any, source: Household, target: Household, relations: Mapping[Person, str], on: date | None = None, reason: str = ""
) -> Household:
    """并户: every current member of ``source`` joins ``target`` with the given relation to its head; ``source`` closes."""
    require(actor, source.unit, REGISTRAR_ROLES)
    require(actor, target.unit, REGISTRAR_ROLES)
    if source.pk == target.pk:
        raise RegistryError(_("不能与本户合并。"), code="invalid", field="target")
    if source.dissolved_on or target.dissolved_on:
        raise RegistryError(_("该户已销户。"), code="dissolved", field="household")
    on = on or _today()
    moving = {m.person_id: m for m in HouseholdMember.objects.filter(household=source, to_date__isnull=True)}
    if {p.pk for p in relations} != set(moving):
        raise RegistryError(_("请为原户的每一位现有成员填写与新户主的关系。"), code="relations_incomplete", field="relations")
    staying = list(HouseholdMember.objects.filter(household=target, to_date__isnull=True).values_list("person_id", "relation"))
    standard.raise_for(standard.check_household(staying + [(p.pk, rel) for p, rel in relations.items()]))
    for member in moving.values():
        end_member(member, on, MembershipEnd.MERGED)
    HouseholdMember.objects.bulk_create([HouseholdMember(household=target, person=p, relation=rel, from_date=on) for p, rel in relations.items()])
    source.dissolved_on = on
    source.dissolved_reason = _("并入 %(number)s") % {"number": target.number}
    source.save(update_fields=["dissolved_on", "dissolved_reason", "updated_at"])
    audit_record(actor=actor, act="registry.household_merge", obj=target, changed_fields=["members"], reason=f"{reason}; from={source.number}")
    return target
