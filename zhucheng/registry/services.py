"""Every write to the registry's people: one function per act, in one transaction, permission-checked, audited.

Persons, residence events (move in, move out, birth, death), households (create, add, remove,
split, merge), corrections, and the audited reads (reveal a full identifier, open a record,
export). Buildings, housing units, rentals and employment live in ``housing.py``; permits and
points in ``permits.py``; both are re-exported here, so callers import acts from one place.

History is kept, never overwritten: a move ends one ``Residence`` and opens another, household
changes end ``HouseholdMember`` rows and open new ones, changed person fields leave ``PersonChange``
rows with the old value. Each act refreshes the five-knowns flags of the units it touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.core.context import acting_user
from zhucheng.core.crypto import keyed_hash
from zhucheng.core.identifiers import normalise_resident_id
from zhucheng.core.masking import mask_id_number, mask_name, mask_phone
from zhucheng.places.models import OrgUnit
from zhucheng.places.selectors import scoped

from . import completeness, standard
from .errors import RegistryError, require_reason
from .households import (  # noqa: F401  (re-export)
    change_relation,
    current_membership,
    end_member,
    household_add_member,
    household_create,
    household_merge,
    household_remove_member,
    household_split,
)
from .housing import (  # noqa: F401  (re-export)
    building_register,
    employment_end,
    employment_start,
    housing_unit_add,
    housing_unit_confirm_vacant,
    tenancy_end,
    tenancy_register,
)
from .models import (
    CorrectionField,
    CorrectionRequest,
    CorrectionState,
    DocType,
    EmploymentStatus,
    Household,
    HouseholdMember,
    HousingUnit,
    MembershipEnd,
    PermitState,
    Person,
    PersonChange,
    PointsApplication,
    PointsState,
    Relation,
    Residence,
    ResidenceEnd,
    ResidencePermit,
    Source,
)
from .permissions import DECIDER_ROLES, REGISTRAR_ROLES, can, is_resident_self, is_system, posts_of, require
from .permits import (  # noqa: F401  (re-export)
    permit_apply,
    permit_issue,
    permit_refuse,
    permit_renew,
    permit_revoke,
    permits_expire_due,
    points_decide,
    points_reject,
    points_score,
    points_submit,
)

PERSON_FIELDS = (
    "name", "doc_type", "id_number", "doc_number", "nationality", "phone", "sex", "birth_date", "ethnicity",
    "hukou_place", "education", "employment_status",
)  # fmt: skip
# Fields staff may change directly (with a PersonChange row); identity fields change only by correction.
UPDATABLE_FIELDS = ("phone", "ethnicity", "hukou_place", "education", "employment_status", "care_needs")
REVEAL_ACTS = {"id_number": "registry.reveal_id", "doc_number": "registry.reveal_doc", "phone": "registry.reveal_phone"}
READ_ACTS = ("registry.read", "registry.reveal_id", "registry.reveal_doc", "registry.reveal_phone", "registry.lookup")


# --- shared steps ---------------------------------------------------------------------------------


def _today() -> date:
    return timezone.localdate()


def _lock(person: Person) -> Person:
    """The person's row, locked, so two acts on one person run one after the other."""
    return Person.objects.select_for_update().get(pk=person.pk)


def _refuse_deceased(person: Person) -> None:
    if person.died_on is not None:
        raise RegistryError(_("此人已登记死亡,不能再办理此事项。"), code="deceased", field="person")


def _refuse_duplicate(cleaned: Mapping[str, Any], exclude_pk: int | None = None) -> None:
    qs = Person.objects.exclude(pk=exclude_pk) if exclude_pk else Person.objects.all()
    if cleaned.get("id_number") and qs.filter(id_number_hash=keyed_hash(cleaned["id_number"])).exists():
        raise RegistryError(_("该公民身份号码已经登记,请查找已有人员。"), code="duplicate", field="id_number")
    if cleaned.get("doc_number") and qs.filter(doc_type=cleaned["doc_type"], doc_number_hash=keyed_hash(cleaned["doc_number"])).exists():
        raise RegistryError(_("该证件号码已经登记,请查找已有人员。"), code="duplicate", field="doc_number")


def _person_data(person: Person) -> dict[str, Any]:
    return {f: getattr(person, f) for f in PERSON_FIELDS}


def _stays(person: Person) -> list[standard.ResidenceFacts]:
    return [
        standard.ResidenceFacts(r.pk, r.housing_unit_id, r.is_primary, r.from_date, r.to_date, r.is_void)
        for r in Residence.objects.filter(person=person, is_void=False)
    ]


def _current_units(person: Person) -> list[int]:
    return list(Residence.objects.filter(person=person, to_date__isnull=True, is_void=False).values_list("housing_unit_id", flat=True))


def _place_label(unit: HousingUnit) -> str:
    return f"{unit.building.door_plate} {unit.number}"


def _visible(actor: Any, person: Person) -> bool:
    return scoped(Person.objects.filter(pk=person.pk), actor).exists()


# --- persons --------------------------------------------------------------------------------------


@transaction.atomic
def person_register(
    *,
    actor: Any,
    data: Mapping[str, Any],
    unit: OrgUnit | None = None,
    housing_unit: HousingUnit | None = None,
    residence_kind: str = "",
    from_date: date | None = None,
    arrived_from: str = "",
    reason: str = "",
) -> Person:
    """Register a person (validated by the collection standard) living at ``housing_unit``, or known to ``unit``."""
    if housing_unit is None and unit is None:
        raise RegistryError(_("请指定居住的房屋单元或所属网格。"), code="required", field="housing_unit")
    home = housing_unit.grid if housing_unit is not None else unit
    require(actor, home, REGISTRAR_ROLES)
    cleaned, errors = standard.clean_person(data)
    residence: dict[str, Any] = {}
    if housing_unit is not None:
        residence, more = standard.clean_residence({"housing_unit": housing_unit, "kind": residence_kind, "from_date": from_date})
        errors += more
        if residence.get("from_date") and cleaned.get("birth_date") and residence["from_date"] < cleaned["birth_date"]:
            errors.append(standard.violation("from_date", "before_birth"))
    standard.raise_for(errors)
    _refuse_duplicate(cleaned)
    assert home is not None
    person = Person(**{f: cleaned[f] for f in PERSON_FIELDS}, unit=home)
    person.save()
    changed = list(PERSON_FIELDS) + ["unit"]
    if housing_unit is not None:
        Residence.objects.create(
            person=person,
            housing_unit=housing_unit,
            kind=residence["kind"],
            from_date=residence["from_date"],
            arrived_from=arrived_from.strip()[:200],
            recorded_by=acting_user(actor),
        )
        HousingUnit.objects.filter(pk=housing_unit.pk).update(vacant_confirmed_on=None)
        completeness.refresh_units([housing_unit.pk])
        changed.append("residence")
    audit_record(actor=actor, act="registry.person_register", obj=person, changed_fields=changed, reason=reason)
    return person


@transaction.atomic
def person_update(*, actor: Any, person: Person, changes: Mapping[str, Any], reason: str = "") -> Person:
    """Change non-identity fields (phone, ethnicity, …, care needs); each change leaves a ``PersonChange`` row.

    Giving ``care_needs`` (even empty, meaning "asked: none") records that care needs are known today.
    """
    require(actor, person.unit, REGISTRAR_ROLES)
    unknown = sorted(set(changes) - set(UPDATABLE_FIELDS))
    if unknown:
        raise RegistryError(_("此项不能直接修改,请通过更正申请办理。"), code="not_updatable", field=unknown[0])
    person = _lock(person)
    _refuse_deceased(person)
    data = {**_person_data(person), **{k: v for k, v in changes.items() if k != "care_needs"}}
    cleaned, errors = standard.clean_person(data)
    standard.raise_for([v for v in errors if v.field in changes])
    cleaned["care_needs"] = (changes.get("care_needs") or "").strip()
    changed: list[str] = []
    who = acting_user(actor)
    for field in changes:
        old, new = getattr(person, field) or "", cleaned[field]
        if str(old) != str(new):
            PersonChange.objects.create(person=person, field=field, old_value=str(old), new_value=str(new), changed_by=who, reason=reason)
            setattr(person, field, new)
            changed.append(field)
    if "care_needs" in changes:
        person.care_needs_known_at = _today()
        changed.append("care_needs_known_at")
    if changed:
        person.save()
        completeness.refresh_units(_current_units(person))
        audit_record(actor=actor, act="registry.person_update", obj=person, changed_fields=changed, reason=reason)
    return person


@transaction.atomic
def person_link_account(*, actor: Any, person: Person, user: Any, reason: str = "") -> Person:
    """Link a resident's account to their record (staff, after checking their identity document)."""
    require(actor, person.unit, REGISTRAR_ROLES)
    if getattr(user, "kind", "") != "resident":
        raise RegistryError(_("只能关联居民账户。"), code="invalid", field="user")
    if Person.objects.filter(user=user).exclude(pk=person.pk).exists():
        raise RegistryError(_("该账户已关联其他人员。"), code="duplicate", field="user")
    person = _lock(person)
    person.user = user
    person.save(update_fields=["user", "updated_at"])
    audit_record(actor=actor, act="registry.link_account", obj=person, changed_fields=["user"], reason=reason)
    return person


# --- audited reads --------------------------------------------------------------------------------


def person_reveal(*, actor: Any, person: Person, field: str, reason: str) -> str:
    """The full ID number, document number or phone ("break the glass"): needs a reason, leaves an audit row."""
    if field not in REVEAL_ACTS:
        raise RegistryError(_("该字段不能查看完整内容。"), code="invalid", field="field")
    reason = require_reason(reason)
    if actor is None or not _visible(actor, person):
        raise RegistryError(_("找不到该人员,或不在您的管辖范围内。"), code="forbidden", field="person")
    audit_record(actor=actor, act=REVEAL_ACTS[field], obj=person, changed_fields=[field], reason=reason)
    return str(getattr(person, field) or "")


def person_record_read(*, actor: Any, person: Person, purpose: str = "") -> None:
    """Note that a staff member opened this person's record (the resident sees it in their access log)."""
    if is_resident_self(actor, person):
        return
    if actor is None or not _visible(actor, person):
        raise RegistryError(_("找不到该人员,或不在您的管辖范围内。"), code="forbidden", field="person")
    audit_record(actor=actor, act="registry.read", obj=person, reason=purpose.strip() or _("查看人员信息"))


def person_find_for_move_in(*, actor: Any, id_number: str, reason: str = "") -> Person | None:
    """A person registered anywhere in the city, by exact ID number, for a registrar about to take them in.

    Registering someone who moves in from another community needs their existing record; a hit
    outside the actor's scope is audited (``registry.lookup``), so the resident sees it.
    """
    if not is_system(actor) and not any(role in REGISTRAR_ROLES for role, _path in posts_of(actor)):
        raise RegistryError(_("您的岗位不能办理迁入登记。"), code="forbidden")
    number = normalise_resident_id(id_number)
    person = Person.objects.select_related("unit").filter(id_number_hash=keyed_hash(number)).first() if number else None
    if person is not None and actor is not None and not _visible(actor, person):
        audit_record(actor=actor, act="registry.lookup", obj=person, changed_fields=["id_number"], reason=reason.strip() or _("迁入登记查询"))
    return person


def persons_export(*, actor: Any, reason: str, unit: OrgUnit | None = None) -> list[dict[str, str]]:
    """Rows of the persons ``actor`` may see (in ``unit``'s subtree when given), identifiers masked; audited."""
    reason = require_reason(reason)
    qs = scoped(Person.objects.select_related("unit"), actor).filter(died_on__isnull=True)
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    rows = [
        {
            "name": p.name,
            "sex": p.get_sex_display(),
            "birth_date": p.birth_date.isoformat() if p.birth_date else "",
            "id_number": mask_id_number(p.identifier),
            "phone": mask_phone(p.phone),
            "unit": p.unit.name,
        }
        for p in qs.order_by("unit__path", "name", "pk")
    ]
    audit_record(
        actor=actor,
        act="registry.export",
        obj=unit,
        changed_fields=["name", "sex", "birth_date", "unit"],
        reason=f"{reason} ({len(rows)})",
    )
    return rows


# --- residence events -----------------------------------------------------------------------------


@transaction.atomic
def person_move_in(
    *,
    actor: Any,
    person: Person,
    housing_unit: HousingUnit,
    kind: str,
    from_date: date,
    is_primary: bool = True,
    arrived_from: str = "",
    reason: str = "",
) -> Residence:
    """Record that a person lives at ``housing_unit`` from ``from_date``.

    A new primary residence ends the current one on the same day (kept in the history, with
    where the person went); the receiving grid's staff may do this for someone registered elsewhere.
    """
    require(actor, housing_unit.grid, REGISTRAR_ROLES)
    person = _lock(person)
    _refuse_deceased(person)
    cleaned, errors = standard.clean_residence({"housing_unit": housing_unit, "kind": kind, "from_date": from_date})
    if cleaned.get("from_date") and person.birth_date and cleaned["from_date"] < person.birth_date:
        errors.append(standard.violation("from_date", "before_birth"))
    standard.raise_for(errors)
    start: date = cleaned["from_date"]
    previous = None
    if is_primary:
        previous = Residence.objects.select_related("housing_unit").filter(
            person=person, is_primary=True, to_date__isnull=True, is_void=False
        ).first()
    if Residence.objects.filter(person=person, housing_unit=housing_unit, to_date__isnull=True, is_void=False).exists():
        raise RegistryError(_("此人已登记居住在该房屋。"), code="already_resident", field="housing_unit")
    if previous is not None and previous.from_date and start < previous.from_date:
        raise standard.error("from_date", "dates_order", other_value=previous.from_date.isoformat())
    stays = [s for s in _stays(person) if previous is None or s.key != previous.pk]
    if previous is not None:
        stays.append(standard.ResidenceFacts(previous.pk, previous.housing_unit_id, True, previous.from_date, start))
    stays.append(standard.ResidenceFacts(None, housing_unit.pk, is_primary, start, None))
    standard.raise_for(standard.check_residences(stays))
    touched = [housing_unit.pk]
    if previous is not None:
        previous.to_date = start
        previous.ended_reason = ResidenceEnd.MOVED
        previous.departed_to = _place_label(housing_unit)[:200]
        previous.save(update_fields=["to_date", "ended_reason", "departed_to"])
        touched.append(previous.housing_unit_id)
    residence = Residence.objects.create(
        person=person,
        housing_unit=housing_unit,
        kind=cleaned["kind"],
        is_primary=is_primary,
        from_date=start,
        arrived_from=(arrived_from.strip() or (_place_label(previous.housing_unit) if previous else ""))[:200],
        recorded_by=acting_user(actor),
    )
    HousingUnit.objects.filter(pk=housing_unit.pk).update(vacant_confirmed_on=None)
    if is_primary and person.unit_id != housing_unit.grid_id:
        person.unit_id = housing_unit.grid_id
        person.save(update_fields=["unit", "updated_at"])
    completeness.refresh_units(touched)
    audit_record(actor=actor, act="registry.move_in", obj=person, changed_fields=["residence", "unit"], reason=reason)
    return residence


@transaction.atomic
def person_move_out(*, actor: Any, residence: Residence, to_date: date, departed_to: str = "", reason: str = "") -> Residence:
    """End a current residence on ``to_date`` (the row stays in the history with where the person went)."""
    person = residence.person
    if not (can(actor, residence.housing_unit.grid, REGISTRAR_ROLES) or can(actor, person.unit, REGISTRAR_ROLES)):
        require(actor, residence.housing_unit.grid, REGISTRAR_ROLES)
    _lock(person)
    residence = Residence.objects.select_for_update().get(pk=residence.pk)
    if not residence.is_current:
        raise RegistryError(_("这条居住登记已经结束,不能再次迁出。"), code="not_current", field="residence")
    if to_date > _today():
        raise standard.error("to_date", "date_future")
    if residence.from_date and to_date < residence.from_date:
        raise standard.error("to_date", "dates_order", other="from_date")
    residence.to_date = to_date
    residence.ended_reason = ResidenceEnd.MOVED
    residence.departed_to = departed_to.strip()[:200]
    residence.save(update_fields=["to_date", "ended_reason", "departed_to"])
    completeness.refresh_units([residence.housing_unit_id])
    audit_record(actor=actor, act="registry.move_out", obj=person, changed_fields=["residence"], reason=reason)
    return residence


@transaction.atomic
def residence_void(*, actor: Any, residence: Residence, reason: str) -> Residence:
    """Mark a wrongly recorded residence void (kept, with the reason) instead of deleting or editing it."""
    reason = require_reason(reason)
    require(actor, residence.housing_unit.grid, REGISTRAR_ROLES)
    residence = Residence.objects.select_for_update().get(pk=residence.pk)
    if residence.is_void:
        raise RegistryError(_("这条居住登记已经作废。"), code="not_current", field="residence")
    residence.is_void = True
    residence.void_reason = reason[:200]
    residence.save(update_fields=["is_void", "void_reason"])
    completeness.refresh_units([residence.housing_unit_id])
    audit_record(actor=actor, act="registry.residence_void", obj=residence.person, changed_fields=["residence"], reason=reason)
    return residence


def _relation_of_newborn(mother_relation: str) -> str:
    if mother_relation in (Relation.HEAD, Relation.SPOUSE):
        return Relation.CHILD
    if mother_relation in (Relation.CHILD, Relation.CHILD_IN_LAW):
        return Relation.GRANDCHILD
    return Relation.OTHER_RELATIVE


@transaction.atomic
def person_birth(*, actor: Any, data: Mapping[str, Any], mother: Person, father: Person | None = None, reason: str = "") -> Person:
    """Register a newborn (name, sex, birth date and the ID number issued at registration) at the mother's home.

    The baby lives where the mother lives, as the same kind of resident, and joins her household.
    """
    home = Residence.objects.select_related("housing_unit").filter(person=mother, is_primary=True, to_date__isnull=True, is_void=False).first()
    if home is None:
        raise RegistryError(_("母亲没有当前居住登记,请先登记其居住地。"), code="no_residence", field="mother")
    require(actor, home.housing_unit.grid, REGISTRAR_ROLES)
    values = {"employment_status": EmploymentStatus.CHILD, "hukou_place": mother.hukou_place, **data}
    cleaned, errors = standard.clean_person(values)
    if cleaned.get("birth_date") and mother.birth_date and cleaned["birth_date"] <= mother.birth_date:
        errors.append(standard.violation("birth_date", "dates_order", other_value=mother.birth_date.isoformat()))
    standard.raise_for(errors)
    _refuse_duplicate(cleaned)
    person = Person.objects.create(**{f: cleaned[f] for f in PERSON_FIELDS}, unit=home.housing_unit.grid)
    Residence.objects.create(
        person=person,
        housing_unit=home.housing_unit,
        kind=home.kind,
        from_date=cleaned["birth_date"],
        arrived_from=_("出生"),
        recorded_by=acting_user(actor),
    )
    membership = current_membership(mother)
    if membership is not None:
        HouseholdMember.objects.create(
            household=membership.household,
            person=person,
            relation=_relation_of_newborn(membership.relation),
            from_date=cleaned["birth_date"],
        )
    completeness.refresh_units([home.housing_unit_id])
    parents = f"mother={mother.pk}" + (f"; father={father.pk}" if father else "")
    audit_record(
        actor=actor,
        act="registry.birth",
        obj=person,
        changed_fields=list(PERSON_FIELDS) + ["residence", "household"],
        reason=(reason + "; " if reason else "") + parents,
    )
    return person


@transaction.atomic
def person_death(*, actor: Any, person: Person, died_on: date, new_head: Person | None = None, reason: str = "") -> Person:
    """Record a death: residences, household membership and employment end; open permits and points lapse.

    When the deceased headed a household with other members, ``new_head`` (one of them) must be named.
    """
    require(actor, person.unit, REGISTRAR_ROLES)
    person = _lock(person)
    _refuse_deceased(person)
    if died_on > _today():
        raise standard.error("to_date", "date_future")
    if person.birth_date and died_on < person.birth_date:
        raise standard.error("to_date", "before_birth")
    current = list(Residence.objects.filter(person=person, to_date__isnull=True, is_void=False))
    for r in current:
        if r.from_date and died_on < r.from_date:
            raise standard.error("to_date", "dates_order", other="from_date")
    membership = current_membership(person)
    if membership is not None and membership.relation == Relation.HEAD:
        others = HouseholdMember.objects.filter(household=membership.household, to_date__isnull=True).exclude(person=person)
        if others.exists():
            heir = others.filter(person=new_head).first() if new_head is not None else None
            if heir is None:
                raise RegistryError(_("此人是户主,户内还有其他成员:请指定新户主。"), code="head_required", field="new_head")
            end_member(membership, died_on, MembershipEnd.DEATH)
            change_relation(heir, Relation.HEAD, died_on)
            membership = None
    if membership is not None:
        end_member(membership, died_on, MembershipEnd.DEATH)
        if not HouseholdMember.objects.filter(household=membership.household, to_date__isnull=True).exists():
            Household.objects.filter(pk=membership.household_id).update(dissolved_on=died_on, dissolved_reason=_("户内无人"))
    Residence.objects.filter(pk__in=[r.pk for r in current]).update(to_date=died_on, ended_reason=ResidenceEnd.DEATH)
    person.employments.filter(to_date__isnull=True).update(to_date=died_on)
    ResidencePermit.objects.filter(person=person, state__in=[PermitState.APPLIED, PermitState.ISSUED]).update(
        state=PermitState.REVOKED, closed_on=died_on, reason=_("持证人死亡")
    )
    PointsApplication.objects.filter(person=person, state__in=[PointsState.SUBMITTED, PointsState.SCORED]).update(
        state=PointsState.REJECTED, decision_reasons=_("申请人死亡")
    )
    person.died_on = died_on
    person.save(update_fields=["died_on", "updated_at"])
    completeness.refresh_units([r.housing_unit_id for r in current])
    audit_record(actor=actor, act="registry.death", obj=person, changed_fields=["died_on", "residence", "household"], reason=reason)
    return person


# --- corrections (PIPL right to correction) -------------------------------------------------------


def _masked(person: Person, field: str) -> str:
    value = getattr(person, field, "") if field != CorrectionField.OTHER else ""
    if field == CorrectionField.ID_NUMBER:
        return mask_id_number(person.identifier)
    if field == CorrectionField.PHONE:
        return mask_phone(value)
    if field == CorrectionField.NAME:
        return mask_name(value)
    if field in (CorrectionField.SEX, CorrectionField.EDUCATION):
        return str(getattr(person, f"get_{field}_display")())
    return str(value or "")


@transaction.atomic
def correction_request(*, actor: Any, person: Person, field: str, requested_value: str, reason: str) -> CorrectionRequest:
    """A resident (for their own record) or staff (for them) asks to correct one field; it waits in the staff queue."""
    if not (is_resident_self(actor, person) or can(actor, person.unit, REGISTRAR_ROLES)):
        raise RegistryError(_("找不到该人员,或不在您的管辖范围内。"), code="forbidden", field="person")
    reason = require_reason(reason)
    if field not in CorrectionField.values or (field == CorrectionField.ID_NUMBER and person.doc_type != DocType.RESIDENT_ID):
        raise standard.error("field", "choice", value=field)
    value = (requested_value or "").strip()
    if not value:
        raise standard.error("requested_value", "required")
    if field not in (CorrectionField.OTHER,):
        # Format rules of the field itself; cross-field rules are checked when the change is applied.
        _cleaned, errors = standard.clean_person({**_person_data(person), field: value})
        own = [v for v in errors if v.field == field and v.code not in ("id_birth_mismatch", "id_sex_mismatch")]
        standard.raise_for(own)
    if CorrectionRequest.objects.filter(person=person, field=field, state=CorrectionState.PENDING).exists():
        raise RegistryError(_("该事项已有一份待处理的更正申请。"), code="pending_exists", field="field")
    correction = CorrectionRequest.objects.create(
        person=person,
        field=field,
        current_value_masked=_masked(person, field)[:200],
        requested_value=value,
        reason=reason,
        requested_by=acting_user(actor),
    )
    audit_record(actor=actor, act="registry.correction_request", obj=person, changed_fields=[field], reason=reason)
    return correction


@transaction.atomic
def correction_decide(*, actor: Any, correction: CorrectionRequest, accept: bool, reason: str) -> CorrectionRequest:
    """Accept (the field is changed, the old value kept in a ``PersonChange``) or reject, with a reason."""
    person = correction.person
    require(actor, person.unit, DECIDER_ROLES)
    reason = require_reason(reason)
    correction = CorrectionRequest.objects.select_for_update().get(pk=correction.pk)
    if correction.state != CorrectionState.PENDING:
        raise RegistryError(_("该更正申请已经处理。"), code="already_decided", field="state")
    changed: list[str] = []
    if accept and correction.field != CorrectionField.OTHER:
        person = _lock(person)
        field = correction.field
        data = _person_data(person)
        data[field] = correction.requested_value
        # A corrected ID number brings its own birth date and sex unless those are corrected too.
        if field == CorrectionField.ID_NUMBER:
            data["birth_date"], data["sex"] = "", ""
        cleaned, errors = standard.clean_person(data)
        standard.raise_for(errors)
        if field == CorrectionField.ID_NUMBER:
            _refuse_duplicate(cleaned, exclude_pk=person.pk)
        who = acting_user(actor)
        fields = [field] + (["birth_date", "sex"] if field == CorrectionField.ID_NUMBER else [])
        for f in fields:
            old, new = getattr(person, f), cleaned[f]
            if str(old or "") != str(new or ""):
                PersonChange.objects.create(
                    person=person, field=f, old_value=str(old or ""), new_value=str(new or ""), changed_by=who, reason=reason, correction=correction
                )
                setattr(person, f, new)
                changed.append(f)
        if changed:
            person.save()
    correction.state = CorrectionState.ACCEPTED if accept else CorrectionState.REJECTED
    correction.decided_by = acting_user(actor)
    correction.decided_at = timezone.now()
    correction.decision_reason = reason
    correction.save(update_fields=["state", "decided_by", "decided_at", "decision_reason", "updated_at"])
    audit_record(actor=actor, act="registry.correction_decide", obj=person, changed_fields=["state", *changed], reason=reason)
    return correction


__all__ = [
    "PERSON_FIELDS",
    "READ_ACTS",
    "Source",
    "building_register",
    "correction_decide",
    "correction_request",
    "employment_end",
    "employment_start",
    "household_add_member",
    "household_create",
    "household_merge",
    "household_remove_member",
    "household_split",
    "housing_unit_add",
    "housing_unit_confirm_vacant",
    "permit_apply",
    "permit_issue",
    "permit_refuse",
    "permit_renew",
    "permit_revoke",
    "permits_expire_due",
    "person_birth",
    "person_death",
    "person_find_for_move_in",
    "person_link_account",
    "person_move_in",
    "person_move_out",
    "person_record_read",
    "person_register",
    "person_reveal",
    "person_update",
    "persons_export",
    "points_decide",
    "points_reject",
    "points_score",
    "points_submit",
    "residence_void",
    "tenancy_end",
    "tenancy_register",
]
