"""Every read of the registry that pages, exports and the API share, all within the reader's scope.

``<things>_visible_to(user)`` return scoped querysets; ``<thing>_get_for_user(user, pk)`` raise
``places.selectors.NotVisible`` alike for missing and out-of-scope rows. Searches: by name
(substring through a trigram index on PostgreSQL, prefix for two characters; ``icontains`` on
SQLite), by ID number, document or phone (exact, through the keyed hash), by address. Timelines:
a person's residence history, a unit's occupants over time. For residents: ``my_record`` and
``reads_of_person`` (who read their record, when and why).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Prefetch, Q, QuerySet, Value, When, prefetch_related_objects
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhucheng.core.crypto import keyed_hash
from zhucheng.core.identifiers import normalise_resident_id
from zhucheng.core.models import AuditEvent
from zhucheng.places.models import Membership, OrgUnit
from zhucheng.places.selectors import NotVisible, get_scoped, scoped, units_for

from . import completeness
from .completeness import Completeness
from .models import (
    Building,
    CorrectionRequest,
    CorrectionState,
    Employment,
    Household,
    HouseholdMember,
    HousingUnit,
    PermitState,
    Person,
    PersonChange,
    PointsApplication,
    PointsQuota,
    Residence,
    ResidencePermit,
    Tenancy,
)
from .standard import normalise_name, normalise_phone

NAME_SEARCH_MIN = 2  # a single character (a surname) matches too many people to be a search
READ_ACT_LABELS: dict[str, Any] = {
    "registry.read": _("查看了您的信息"),
    "registry.reveal_id": _("查看了您的完整身份证号码"),
    "registry.reveal_doc": _("查看了您的完整证件号码"),
    "registry.reveal_phone": _("查看了您的完整联系电话"),
    "registry.lookup": _("按身份证号码查询了您的登记(迁入登记)"),
}


# --- persons --------------------------------------------------------------------------------------


# Apps built on the registry may merge duplicate records of one person (exchange's 人员合并). The
# registry knows nothing of them: such an app registers the ids of the persons merged away and how
# to find the record each was merged into. Lists and searches leave merged-away records out; their
# own page still opens (links and audit trails point at it) and says where the person now is.
_merged_away: list[Callable[[], QuerySet[Any]]] = []
_merged_into: list[Callable[[Person], Person | None]] = []


def register_merges(*, merged_away: Callable[[], QuerySet[Any]], merged_into: Callable[[Person], Person | None]) -> None:
    """``merged_away()``: a query of person ids (one column); ``merged_into(person)``: the survivor or None."""
    if merged_away not in _merged_away:
        _merged_away.append(merged_away)
        _merged_into.append(merged_into)


def person_merged_into(person: Person) -> Person | None:
    """The record this person's record was merged into, or None while it stands on its own."""
    for lookup in _merged_into:
        survivor = lookup(person)
        if survivor is not None:
            return survivor
    return None


@functools.cache
def _merged_away_statement(ids: Callable[[], QuerySet[Any]], vendor: str) -> tuple[str, tuple[Any, ...]]:
    """The query of merged-away ids as SQL and parameters, compiled once per process and vendor.

    Building the subquery through the ORM on every call cost more than the whole indexed lookup
    it is part of (about 1 ms of Python); the statement itself never changes.
    """
    sql, params = ids().query.sql_with_params()
    return sql, tuple(params)


def persons_visible_to(user: Any) -> QuerySet[Person]:
    """Persons in the user's scope, without records merged into another (see ``register_merges``)."""
    qs = scoped(Person.objects.select_related("unit"), user)
    for ids in _merged_away:
        qs = qs.exclude(pk__in=RawSQL(*_merged_away_statement(ids, connection.vendor)))  # noqa: S611 - compiled by the ORM
    return qs


def _one(qs: QuerySet[Person]) -> Person | None:
    """The row of a lookup by a unique key, or None (no ORDER BY, unlike ``first()``)."""
    return next(iter(qs[:1]), None)


def person_get_for_user(user: Any, pk: Any) -> Person:
    return get_scoped(Person.objects.select_related("unit", "user"), user, pk)


def persons_search_name(user: Any, query: str, *, within: OrgUnit | None = None, limit: int = 50) -> list[Person]:
    """People whose name contains ``query`` (from its start for two characters), exact matches first."""
    q = normalise_name(query)
    if len(q) < NAME_SEARCH_MIN:
        return []
    qs = persons_visible_to(user)
    if within is not None:
        qs = qs.filter(unit__path__startswith=within.path)
    exact_first = Case(When(name=q, then=Value(0)), default=Value(1), output_field=IntegerField())
    if connection.vendor == "postgresql":
        # LIKE '%q%' is served by the gin_trgm_ops index once q has a whole trigram (3 characters);
        # shorter queries use the varchar_pattern_ops b-tree from the start of the name.
        cond = Q(name__contains=q) if len(q) >= 3 else Q(name__startswith=q)
        qs = qs.filter(cond).annotate(_exact=exact_first, _sim=TrigramSimilarity("name", q)).order_by("_exact", "-_sim", "name", "pk")
    else:
        qs = qs.filter(name__icontains=q).annotate(_exact=exact_first).order_by("_exact", "name", "pk")
    return list(qs[:limit])


def person_find_by_id_number(user: Any, id_number: str) -> Person | None:
    """The person with this resident ID number, if within the user's scope (exact, by keyed hash)."""
    number = normalise_resident_id(id_number)
    if not number:
        return None
    return _one(persons_visible_to(user).filter(id_number_hash=keyed_hash(number)))


def person_find_by_document(user: Any, doc_type: str, number: str) -> Person | None:
    cleaned = "".join(str(number or "").split()).replace("-", "").upper()
    if not cleaned:
        return None
    return _one(persons_visible_to(user).filter(doc_type=doc_type, doc_number_hash=keyed_hash(cleaned)))


def persons_find_by_phone(user: Any, phone: str) -> list[Person]:
    """People registered with this phone number (a family may share one), within scope."""
    digits = normalise_phone(phone)
    if not digits:
        return []
    return list(persons_visible_to(user).filter(phone_hash=keyed_hash(digits)).order_by("name", "pk")[:50])


def persons_search_address(user: Any, query: str, *, limit: int = 100) -> list[Residence]:
    """Current residences at buildings whose door plate, address or estate name contains ``query``."""
    q = "".join(str(query or "").split())
    if len(q) < 2:
        return []
    buildings = Building.objects.filter(Q(door_plate__contains=q) | Q(address__contains=q) | Q(name__contains=q))
    qs = scoped(
        Residence.objects.select_related("person", "housing_unit__building").filter(
            housing_unit__building__in=buildings, to_date__isnull=True, is_void=False
        ),
        user,
    )
    return list(qs.order_by("housing_unit__building__door_plate", "housing_unit__number", "person__name", "pk")[:limit])


# --- timelines ------------------------------------------------------------------------------------


def residence_history(person: Person) -> list[Residence]:
    """Every stay of the person, oldest first (void rows included, marked): the residence history."""
    return list(
        Residence.objects.select_related("housing_unit__building", "housing_unit__grid")
        .filter(person=person)
        .order_by(Case(When(from_date__isnull=True, then=Value(0)), default=Value(1)), "from_date", "pk")
    )


def unit_occupants(housing_unit: HousingUnit, *, on: date | None = None) -> list[Residence]:
    """Who lives at the unit now (or lived there on ``on``)."""
    qs = Residence.objects.select_related("person").filter(housing_unit=housing_unit, is_void=False)
    if on is None:
        qs = qs.filter(to_date__isnull=True)
    else:
        qs = qs.filter(Q(from_date__isnull=True) | Q(from_date__lte=on), Q(to_date__isnull=True) | Q(to_date__gt=on))
    return list(qs.order_by("from_date", "pk"))


def unit_timeline(housing_unit: HousingUnit) -> list[Residence]:
    """Everyone who ever lived at the unit, by arrival (current and past occupants)."""
    return list(
        Residence.objects.select_related("person")
        .filter(housing_unit=housing_unit)
        .order_by(Case(When(from_date__isnull=True, then=Value(0)), default=Value(1)), "from_date", "pk")
    )


def employment_history(person: Person) -> list[Employment]:
    return list(Employment.objects.filter(person=person).order_by("-from_date", "-pk"))


def changes_of_person(person: Person) -> list[PersonChange]:
    """Field changes (corrections included), oldest first, with the old values (decrypted: show masked)."""
    return list(PersonChange.objects.select_related("changed_by", "correction").filter(person=person).order_by("changed_at", "pk"))


# --- housing --------------------------------------------------------------------------------------


def buildings_visible_to(user: Any) -> QuerySet[Building]:
    return scoped(Building.objects.select_related("grid"), user)


def building_get_for_user(user: Any, pk: Any) -> Building:
    return get_scoped(Building.objects.select_related("grid"), user, pk)


def housing_units_visible_to(user: Any) -> QuerySet[HousingUnit]:
    return scoped(HousingUnit.objects.select_related("building", "grid"), user)


def housing_unit_get_for_user(user: Any, pk: Any) -> HousingUnit:
    return get_scoped(HousingUnit.objects.select_related("building", "grid", "owner"), user, pk)


def units_in(user: Any, unit: OrgUnit) -> QuerySet[HousingUnit]:
    """Housing units in ``unit``'s subtree (a grid page), with the count of current occupants."""
    if not units_for(user).filter(pk=unit.pk).exists():
        raise NotVisible()
    return (
        housing_units_visible_to(user)
        .filter(grid__path__startswith=unit.path)
        .annotate(occupants=Count("residences", filter=Q(residences__to_date__isnull=True, residences__is_void=False)))
        .order_by("building__door_plate", "number", "pk")
    )


def completeness_for(user: Any, unit: OrgUnit) -> Completeness:
    """The five knowns of a grid, community, district (or the city) the user may see."""
    if not units_for(user).filter(pk=unit.pk).exists():
        raise NotVisible()
    return completeness.completeness_of(unit)


def completeness_children_for(user: Any, unit: OrgUnit) -> list[Completeness]:
    """One completeness row per child of ``unit`` (communities of a district, grids of a committee …)."""
    if not units_for(user).filter(pk=unit.pk).exists():
        raise NotVisible()
    return completeness.completeness_of_children(unit)


def tenancies_visible_to(user: Any) -> QuerySet[Tenancy]:
    return scoped(Tenancy.objects.select_related("housing_unit__building", "landlord"), user)


def tenancy_get_for_user(user: Any, pk: Any) -> Tenancy:
    return get_scoped(Tenancy.objects.select_related("housing_unit__building", "landlord").prefetch_related("tenants"), user, pk)


def tenancies_ending_soon(user: Any, *, within_days: int = 30, today: date | None = None) -> QuerySet[Tenancy]:
    """Open rentals whose term ends within ``within_days`` (or has ended without a recorded move-out)."""
    today = today or timezone.localdate()
    return (
        tenancies_visible_to(user)
        .filter(ended_on__isnull=True, end_date__lte=today + timedelta(days=within_days))
        .prefetch_related("tenants")
        .order_by("end_date", "pk")
    )


# --- permits and points ---------------------------------------------------------------------------


def permits_visible_to(user: Any) -> QuerySet[ResidencePermit]:
    return scoped(ResidencePermit.objects.select_related("person", "housing_unit__building"), user)


def permit_get_for_user(user: Any, pk: Any) -> ResidencePermit:
    return get_scoped(ResidencePermit.objects.select_related("person", "housing_unit__building"), user, pk)


def permits_expiring_soon(user: Any, *, within_days: int = 30, today: date | None = None) -> QuerySet[ResidencePermit]:
    """Valid permits whose validity ends within ``within_days``, soonest first."""
    today = today or timezone.localdate()
    return permits_visible_to(user).filter(
        state=PermitState.ISSUED, valid_until__gte=today, valid_until__lte=today + timedelta(days=within_days)
    ).order_by("valid_until", "pk")


def points_ranking(user: Any, year: int) -> QuerySet[PointsApplication]:
    """The year's applications, ranked ones first by rank, then the others by score."""
    return (
        scoped(PointsApplication.objects.select_related("person"), user)
        .filter(year=year)
        .order_by(Case(When(rank__isnull=True, then=Value(1)), default=Value(0)), "rank", "-score", "pk")
    )


def points_application_get_for_user(user: Any, pk: Any) -> PointsApplication:
    return get_scoped(PointsApplication.objects.select_related("person"), user, pk)


# --- households -----------------------------------------------------------------------------------


def households_visible_to(user: Any) -> QuerySet[Household]:
    return scoped(Household.objects.select_related("unit", "housing_unit__building"), user)


def household_get_for_user(user: Any, pk: Any) -> Household:
    return get_scoped(Household.objects.select_related("unit", "housing_unit__building"), user, pk)


def household_of(person: Person) -> Household | None:
    row = HouseholdMember.objects.select_related("household").filter(person=person, to_date__isnull=True).first()
    return row.household if row else None


def household_members(household: Household, *, current_only: bool = True) -> list[HouseholdMember]:
    """Members with their relation to the head (head first); with ``current_only=False`` the whole history."""
    qs = HouseholdMember.objects.select_related("person").filter(household=household)
    if current_only:
        qs = qs.filter(to_date__isnull=True)
    head_first = Case(When(relation="head", then=Value(0)), default=Value(1), output_field=IntegerField())
    return list(qs.order_by("to_date", head_first, "from_date", "pk"))


# --- corrections and the resident's own record ----------------------------------------------------


def corrections_pending_visible_to(user: Any) -> QuerySet[CorrectionRequest]:
    """The staff queue: pending correction requests in scope, oldest first."""
    return scoped(CorrectionRequest.objects.select_related("person", "requested_by"), user).filter(
        state=CorrectionState.PENDING
    ).order_by("created_at", "pk")


def correction_get_for_user(user: Any, pk: Any) -> CorrectionRequest:
    return get_scoped(CorrectionRequest.objects.select_related("person", "requested_by", "decided_by"), user, pk)


@dataclass(frozen=True)
class StaffRead:
    """One staff read of a person's record, as the resident sees it."""

    at: datetime
    who: str
    act: str
    what: str
    why: str
    posts: str = ""  # the reader's posts (role · unit), so the resident knows which office read it


def reads_of_person(person: Person) -> list[StaffRead]:
    """Every staff read of the record (opened, full number revealed): who, when, why; newest first."""
    from .services import READ_ACTS

    events = AuditEvent.objects.select_related("actor").filter(
        object_type=Person._meta.label_lower, object_id=str(person.pk), act__in=READ_ACTS
    )
    if person.user_id:
        events = events.exclude(actor_id=person.user_id)
    rows = list(events.order_by("-occurred_at", "-pk"))
    posts = staff_posts_labels({e.actor_id for e in rows if e.actor_id})
    out: list[StaffRead] = []
    for e in rows:
        who = (getattr(e.actor, "display_name", "") or e.actor_label) if e.actor_id else e.actor_label
        out.append(
            StaffRead(
                at=e.occurred_at,
                who=who,
                act=e.act,
                what=str(READ_ACT_LABELS.get(e.act, e.act)),
                why=e.reason,
                posts=posts.get(e.actor_id, "") if e.actor_id else "",
            )
        )
    return out


@dataclass
class MyRecord:
    """What the registry holds about a resident (PIPL access right), for their self-service page."""

    person: Person
    household: Household | None
    members: list[HouseholdMember] = field(default_factory=list)
    residences: list[Residence] = field(default_factory=list)
    employments: list[Employment] = field(default_factory=list)
    permits: list[ResidencePermit] = field(default_factory=list)
    points_applications: list[PointsApplication] = field(default_factory=list)
    corrections: list[CorrectionRequest] = field(default_factory=list)
    changes: list[PersonChange] = field(default_factory=list)
    reads: list[StaffRead] = field(default_factory=list)


def my_record(user: Any) -> MyRecord | None:
    """The logged-in resident's own record, or None when no record is linked to the account."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    person = Person.objects.select_related("unit").filter(user=user).first()
    if person is None:
        return None
    return record_of(person)


def record_of(person: Person) -> MyRecord:
    """Everything the registry holds about one person (the resident's page and the staff person page)."""
    household = household_of(person)
    return MyRecord(
        person=person,
        household=household,
        members=household_members(household) if household else [],
        residences=residence_history(person),
        employments=employment_history(person),
        permits=list(ResidencePermit.objects.filter(person=person).order_by("-applied_on", "-pk")),
        points_applications=list(PointsApplication.objects.filter(person=person).order_by("-year")),
        corrections=list(CorrectionRequest.objects.filter(person=person).order_by("-created_at", "-pk")),
        changes=changes_of_person(person),
        reads=reads_of_person(person),
    )


# --- pages ----------------------------------------------------------------------------------------


def staff_posts_labels(user_ids: Iterable[int]) -> dict[int, str]:
    """For each staff user id, their active posts as text (``社区工作人员 · 新华社区``), for read logs."""
    ids = sorted({int(i) for i in user_ids})
    out: dict[int, list[str]] = {}
    if not ids:
        return {}
    rows = (
        Membership.objects.active()
        .filter(user_id__in=ids)
        .select_related("unit", "department")
        .order_by("user_id", "role", "pk")
    )
    for m in rows:
        where = m.unit.name if m.unit is not None else (m.department.name if m.department is not None else "")
        out.setdefault(m.user_id, []).append(f"{m.get_role_display()} · {where}" if where else str(m.get_role_display()))
    return {uid: "; ".join(labels) for uid, labels in out.items()}


def with_current_residence(persons: list[Person]) -> list[Person]:
    """Attach ``current_residences`` (current, not void, with unit and building) to each person: one query."""
    prefetch_related_objects(
        persons,
        Prefetch(
            "residences",
            queryset=Residence.objects.select_related("housing_unit__building").filter(to_date__isnull=True, is_void=False),
            to_attr="current_residences",
        ),
    )
    return persons


def search_kind(query: str) -> str:
    """What a free-text search looks like: ``id`` (an ID or document number), ``phone`` or ``name``."""
    text = "".join(str(query or "").split()).replace("-", "").upper()
    if text.startswith("+86"):
        text = text[3:]
    if text.isdigit():
        return "phone" if len(text) <= 13 else "id"
    if text.isascii() and any(c.isdigit() for c in text):
        return "id"  # 17 digits and X, or a passport / travel permit number
    return "name"


def persons_search(user: Any, query: str, *, kind: str = "", within: OrgUnit | None = None) -> tuple[str, list[Person]]:
    """One search box: by ID number or phone (exact, keyed hash) or by name; returns (kind used, persons)."""
    kind = kind if kind in ("name", "id", "phone") else search_kind(query)
    if kind == "id":
        found = person_find_by_id_number(user, query)
        if found is None and str(query or "").strip():
            found = next(
                (p for p in (person_find_by_document(user, t, query) for t in ("passport", "hk_macao", "taiwan")) if p), None
            )
        persons = [found] if found is not None else []
        if within is not None:
            persons = [p for p in persons if p.unit.path.startswith(within.path)]
    elif kind == "phone":
        persons = persons_find_by_phone(user, query)
        if within is not None:
            persons = [p for p in persons if p.unit.path.startswith(within.path)]
    else:
        persons = persons_search_name(user, query, within=within)
    return kind, with_current_residence(persons)


def corrections_decided_visible_to(user: Any, *, limit: int = 50) -> list[CorrectionRequest]:
    """Recently decided correction requests in scope (the queue's history), newest first."""
    return list(
        scoped(CorrectionRequest.objects.select_related("person", "decided_by"), user)
        .exclude(state=CorrectionState.PENDING)
        .order_by("-decided_at", "-pk")[:limit]
    )


def points_years(user: Any) -> list[int]:
    """Years with points applications in scope, newest first."""
    return sorted(
        set(scoped(PointsApplication.objects.all(), user).values_list("year", flat=True).distinct()), reverse=True
    )


def points_latest_ranked_year(user: Any) -> int | None:
    """The most recent year whose applications in scope have been ranked (what the ranking page opens on)."""
    return scoped(PointsApplication.objects.filter(rank__isnull=False), user).order_by("-year").values_list("year", flat=True).first()


def points_quota(year: int) -> int | None:
    row = PointsQuota.objects.filter(year=year).first()
    return row.quota if row else None


def unit_tenancies(housing_unit: HousingUnit) -> list[Tenancy]:
    """Rentals of a housing unit, newest first, with their tenants."""
    return list(
        Tenancy.objects.select_related("landlord").prefetch_related("tenants").filter(housing_unit=housing_unit).order_by("-start_date", "-pk")
    )


def unit_households(housing_unit: HousingUnit) -> list[Household]:
    """Households registered at the unit (current first)."""
    return list(Household.objects.filter(housing_unit=housing_unit).order_by(F("dissolved_on").desc(nulls_first=True), "number"))
