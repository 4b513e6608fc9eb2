"""Writes about places and work: buildings (门牌), housing units, rentals (出租房登记) and employment.

Each act checks the actor's post over the grid concerned, runs in one transaction, is audited,
and refreshes the five-knowns flags of the units it touches. Re-exported by ``services``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.core.context import acting_user
from zhucheng.places import geo
from zhucheng.places.models import OrgUnit

from . import completeness, standard
from .errors import RegistryError
from .models import (
    Building,
    BuildingKind,
    Employment,
    EmploymentStatus,
    HousingUnit,
    Person,
    Residence,
    Tenancy,
    TenancyUse,
    UnitUse,
)
from .permissions import REGISTRAR_ROLES, require


def _today() -> date:
    return timezone.localdate()


def normalise_door_plate(value: Any) -> str:
    """Door plates compare in one form: full-width digits and letters made ASCII, spaces removed."""
    return "".join(unicodedata.normalize("NFKC", str(value or "")).split())


@transaction.atomic
def building_register(
    *,
    actor: Any,
    door_plate: str,
    address: str,
    lat: float | None = None,
    lon: float | None = None,
    grid: OrgUnit | None = None,
    name: str = "",
    kind: str = BuildingKind.RESIDENTIAL,
    floors: int | None = None,
    reason: str = "",
) -> Building:
    """Register a building at a door plate; its point places it in a grid (``places.geo.locate``).

    Without a point the grid must be given. A point outside every unit is refused.
    """
    plate = normalise_door_plate(door_plate)
    standard.raise_for(standard.validate_building({"door_plate": plate, "address": address, "lat": lat, "lon": lon, "grid": grid}))
    if kind not in BuildingKind.values:
        raise standard.error("kind", "choice", value=kind)
    if lat is not None and lon is not None:
        located = geo.locate(float(lat), float(lon))
        if located is None:
            raise RegistryError(_("该坐标不在任何网格之内,请核对经纬度。"), code="outside", field="lat")
        grid = located
    assert grid is not None
    require(actor, grid, REGISTRAR_ROLES)
    if Building.objects.filter(door_plate=plate).exists():
        raise RegistryError(_("门牌“%(plate)s”已经登记。") % {"plate": plate}, code="duplicate", field="door_plate")
    building = Building.objects.create(
        door_plate=plate, address=standard.text(address), name=standard.text(name), kind=kind, floors=floors, lat=lat, lon=lon, grid=grid
    )
    audit_record(actor=actor, act="registry.building_register", obj=building, changed_fields=["door_plate", "address", "grid"], reason=reason)
    return building


@transaction.atomic
def housing_unit_add(
    *,
    actor: Any,
    building: Building,
    number: str,
    use: str = UnitUse.RESIDENCE,
    area_m2: float | None = None,
    owner: Person | None = None,
    owner_name: str = "",
    reason: str = "",
) -> HousingUnit:
    """Add a dwelling or premises (``3单元502``) to a building."""
    require(actor, building.grid, REGISTRAR_ROLES)
    number = standard.text(number)
    standard.raise_for(standard.validate_housing_unit({"building": building, "number": number}))
    if use not in UnitUse.values:
        raise standard.error("use", "choice", value=use)
    if HousingUnit.objects.filter(building=building, number=number).exists():
        raise RegistryError(_("该楼栋已有室号“%(number)s”。") % {"number": number}, code="duplicate", field="number")
    unit = HousingUnit.objects.create(
        building=building, grid=building.grid, number=number, use=use, area_m2=area_m2, owner=owner, owner_name=standard.text(owner_name)
    )
    completeness.refresh_units([unit.pk])
    audit_record(actor=actor, act="registry.housing_unit_add", obj=unit, changed_fields=["number", "use", "owner"], reason=reason)
    return unit


@transaction.atomic
def housing_unit_confirm_vacant(*, actor: Any, housing_unit: HousingUnit, on: date | None = None, reason: str = "") -> HousingUnit:
    """A visit found the unit empty: its occupants are known (none) until someone moves in."""
    require(actor, housing_unit.grid, REGISTRAR_ROLES)
    if Residence.objects.filter(housing_unit=housing_unit, to_date__isnull=True, is_void=False).exists():
        raise RegistryError(_("该房屋还有人登记居住,请先办理迁出。"), code="occupied", field="housing_unit")
    housing_unit.vacant_confirmed_on = on or _today()
    housing_unit.save(update_fields=["vacant_confirmed_on", "updated_at"])
    completeness.refresh_units([housing_unit.pk])
    audit_record(actor=actor, act="registry.unit_vacant", obj=housing_unit, changed_fields=["vacant_confirmed_on"], reason=reason)
    housing_unit.refresh_from_db()
    return housing_unit


# --- rentals --------------------------------------------------------------------------------------


@transaction.atomic
def tenancy_register(
    *,
    actor: Any,
    housing_unit: HousingUnit,
    tenants: Sequence[Person],
    start_date: date,
    end_date: date,
    use: str = TenancyUse.RESIDENCE,
    landlord: Person | None = None,
    landlord_name: str = "",
    rent_fen: int | None = None,
    reason: str = "",
) -> Tenancy:
    """出租房登记: who lets the unit to whom, from when to when, for what use."""
    require(actor, housing_unit.grid, REGISTRAR_ROLES)
    data = {
        "housing_unit": housing_unit,
        "landlord": landlord,
        "landlord_name": landlord_name,
        "tenants": list(tenants),
        "start_date": start_date,
        "end_date": end_date,
        "use": use,
    }
    errors = standard.validate_tenancy(data)
    if landlord is not None and any(t.pk == landlord.pk for t in tenants):
        errors.append(standard.violation("tenants", "landlord_is_tenant"))
    standard.raise_for(errors)
    use = standard.TENANCY_USE_SPELLINGS.get(use, use)
    clash = (
        Tenancy.objects.filter(housing_unit=housing_unit, ended_on__isnull=True, start_date__lt=end_date, end_date__gt=start_date)
        .order_by("start_date")
        .first()
    )
    if clash is not None:
        raise standard.error("start_date", "tenancy_overlap", other_value=clash.start_date.isoformat())
    tenancy = Tenancy.objects.create(
        housing_unit=housing_unit,
        landlord=landlord,
        landlord_name=standard.text(landlord_name),
        start_date=start_date,
        end_date=end_date,
        use=use,
        rent_fen=rent_fen,
        registered_by=acting_user(actor),
    )
    tenancy.tenants.set(tenants)
    audit_record(
        actor=actor,
        act="registry.tenancy_register",
        obj=tenancy,
        changed_fields=["landlord", "tenants", "start_date", "end_date", "use"],
        reason=reason,
    )
    return tenancy


@transaction.atomic
def tenancy_end(*, actor: Any, tenancy: Tenancy, ended_on: date, reason: str = "") -> Tenancy:
    """退租: the rental ends on ``ended_on`` (early or at term); the registration stays on record."""
    require(actor, tenancy.housing_unit.grid, REGISTRAR_ROLES)
    tenancy = Tenancy.objects.select_for_update().get(pk=tenancy.pk)
    if tenancy.ended_on is not None:
        raise RegistryError(_("该出租登记已经结束。"), code="not_current", field="tenancy")
    if ended_on < tenancy.start_date:
        raise standard.error("end_date", "dates_order", other="start_date")
    if ended_on > _today():
        raise standard.error("end_date", "date_future")
    tenancy.ended_on = ended_on
    tenancy.end_reason = reason.strip()[:200]
    tenancy.save(update_fields=["ended_on", "end_reason", "updated_at"])
    audit_record(actor=actor, act="registry.tenancy_end", obj=tenancy, changed_fields=["ended_on"], reason=reason)
    return tenancy


# --- employment -----------------------------------------------------------------------------------


def _current_unit_ids(person: Person) -> list[int]:
    return list(Residence.objects.filter(person=person, to_date__isnull=True, is_void=False).values_list("housing_unit_id", flat=True))


@transaction.atomic
def employment_start(
    *,
    actor: Any,
    person: Person,
    employer: str,
    occupation: str,
    from_date: date,
    employer_code: str = "",
    reason: str = "",
) -> Employment:
    """A person starts work: the employment is recorded and their status becomes employed."""
    require(actor, person.unit, REGISTRAR_ROLES)
    if person.died_on is not None:
        raise RegistryError(_("此人已登记死亡,不能再办理此事项。"), code="deceased", field="person")
    standard.raise_for(standard.validate_employment({"employer": employer, "occupation": occupation, "from_date": from_date}))
    if person.birth_date and from_date < person.birth_date:
        raise standard.error("from_date", "before_birth")
    employment = Employment.objects.create(
        person=person,
        employer=standard.text(employer),
        employer_code=standard.text(employer_code)[:18],
        occupation=standard.text(occupation),
        from_date=from_date,
    )
    if person.employment_status != EmploymentStatus.EMPLOYED:
        person.employment_status = EmploymentStatus.EMPLOYED
        person.save(update_fields=["employment_status", "updated_at"])
        completeness.refresh_units(_current_unit_ids(person))
    audit_record(actor=actor, act="registry.employment_start", obj=person, changed_fields=["employment", "employment_status"], reason=reason)
    return employment


@transaction.atomic
def employment_end(
    *,
    actor: Any,
    employment: Employment,
    to_date: date,
    status_after: str = EmploymentStatus.UNEMPLOYED,
    reason: str = "",
) -> Employment:
    """The job ends on ``to_date``; without another current job the person's status becomes ``status_after``."""
    person = employment.person
    require(actor, person.unit, REGISTRAR_ROLES)
    if employment.to_date is not None:
        raise RegistryError(_("该就业信息已经结束。"), code="not_current", field="employment")
    if employment.from_date and to_date < employment.from_date:
        raise standard.error("to_date", "dates_order", other="from_date")
    if to_date > _today():
        raise standard.error("to_date", "date_future")
    if status_after not in EmploymentStatus.values or status_after == EmploymentStatus.EMPLOYED:
        raise standard.error("employment_status", "choice", value=status_after)
    employment.to_date = to_date
    employment.save(update_fields=["to_date"])
    changed = ["employment"]
    if not person.employments.filter(to_date__isnull=True).exists():
        person.employment_status = status_after
        person.save(update_fields=["employment_status", "updated_at"])
        completeness.refresh_units(_current_unit_ids(person))
        changed.append("employment_status")
    audit_record(actor=actor, act="registry.employment_end", obj=person, changed_fields=changed, reason=reason)
    return employment
