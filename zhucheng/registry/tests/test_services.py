"""Registry acts: each event, its refusals, permissions, and history kept (never overwritten)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from zhucheng.accounts.models import User
from zhucheng.core.models import AuditEvent
from zhucheng.registry import services
from zhucheng.registry.errors import RegistryError
from zhucheng.registry.models import (
    CorrectionState,
    HouseholdMember,
    PermitState,
    PersonChange,
    PointsQuota,
    PointsRule,
    PointsState,
    Residence,
)

from . import factories as f

pytestmark = pytest.mark.django_db


def _refused(code: str, fn, /, **kwargs):  # type: ignore[no-untyped-def]
    with pytest.raises(RegistryError) as info:
        fn(**kwargs)
    assert info.value.code == code, (info.value.code, info.value.message)
    return info.value


# --- persons and permissions ------------------------------------------------------------------------


def test_register_validates_refuses_duplicates_and_audits(city) -> None:
    home = f.unit("a")
    p = f.person(home, actor=city.grid_worker_a, name="李四")
    assert p.unit_id == city.grid_a.pk and p.sex == "M" and p.birth_date == date(1990, 3, 7)
    assert AuditEvent.objects.filter(act="registry.person_register", object_id=str(p.pk), actor=city.grid_worker_a).exists()
    err = _refused(
        "duplicate", services.person_register, actor=None, data={"name": "李四", "id_number": p.id_number}, unit=city.grid_a
    )
    assert err.field == "id_number"
    bad = p.id_number[:-1] + ("0" if p.id_number[-1] != "0" else "1")
    err = _refused("id_checksum", services.person_register, actor=None, data={"name": "张三", "id_number": bad}, unit=city.grid_a)
    assert err.violations[0].field == "id_number" and err.violations[0].message_en


@pytest.mark.parametrize("who", ["worker_b", "handler", "supervisor", "nobody"])
def test_register_is_refused_outside_the_posts(city, who: str) -> None:
    home = f.unit("a")
    _refused(
        "forbidden",
        services.person_register,
        actor=getattr(city, who),
        data={"name": "赵六", "id_number": f.id_number()},
        housing_unit=home,
        residence_kind="permanent",
        from_date=f.today(),
    )


def test_update_keeps_the_old_value_and_marks_care_needs_known(city) -> None:
    p = f.person(f.unit("a"))
    services.person_update(actor=city.worker_a, person=p, changes={"phone": "13912345678", "care_needs": "独居老人"}, reason="走访")
    p.refresh_from_db()
    assert p.phone == "13912345678" and p.care_needs_known_at == f.today()
    change = PersonChange.objects.get(person=p, field="phone")
    assert (change.old_value, change.new_value) == ("13800138000", "13912345678")
    _refused("not_updatable", services.person_update, actor=city.worker_a, person=p, changes={"name": "王大明"})
    _refused("phone_format", services.person_update, actor=city.worker_a, person=p, changes={"phone": "12345"})


# --- residence events -------------------------------------------------------------------------------


def test_move_in_ends_the_previous_home_and_keeps_history(city) -> None:
    first = f.unit("a")
    p = f.person(first, since=date(2020, 1, 1))
    second = f.unit("b")
    moved = date(2024, 6, 1)
    services.person_move_in(actor=city.worker_b, person=p, housing_unit=second, kind="migrant", from_date=moved)
    rows = list(Residence.objects.filter(person=p).order_by("from_date"))
    assert [(r.housing_unit_id, r.from_date, r.to_date) for r in rows] == [(first.pk, date(2020, 1, 1), moved), (second.pk, moved, None)]
    assert rows[0].ended_reason == "moved" and second.building.door_plate in rows[0].departed_to
    p.refresh_from_db()
    assert p.unit_id == city.grid_b.pk
    _refused("already_resident", services.person_move_in, actor=None, person=p, housing_unit=second, kind="migrant", from_date=f.today())
    _refused("dates_order", services.person_move_in, actor=None, person=p, housing_unit=first, kind="migrant", from_date=date(2023, 1, 1))
    _refused("date_future", services.person_move_in, actor=None, person=p, housing_unit=first, kind="migrant", from_date=f.today() + timedelta(days=3))


def test_move_out_keeps_the_row_and_refuses_bad_dates(city) -> None:
    home = f.unit("a")
    p = f.person(home, since=date(2021, 5, 1))
    r = Residence.objects.get(person=p)
    _refused("dates_order", services.person_move_out, actor=city.worker_a, residence=r, to_date=date(2021, 4, 1))
    _refused("date_future", services.person_move_out, actor=city.worker_a, residence=r, to_date=f.today() + timedelta(days=1))
    _refused("forbidden", services.person_move_out, actor=city.worker_b, residence=r, to_date=f.today())
    services.person_move_out(actor=city.worker_a, residence=r, to_date=date(2024, 1, 1), departed_to="遵义市")
    r.refresh_from_db()
    assert (r.to_date, r.departed_to, Residence.objects.filter(person=p).count()) == (date(2024, 1, 1), "遵义市", 1)
    _refused("not_current", services.person_move_out, actor=city.worker_a, residence=r, to_date=f.today())


def test_void_needs_a_reason_and_keeps_the_row(city) -> None:
    p = f.person(f.unit("a"))
    r = Residence.objects.get(person=p)
    _refused("reason_required", services.residence_void, actor=city.worker_a, residence=r, reason="  ")
    services.residence_void(actor=city.worker_a, residence=r, reason="登记错误")
    r.refresh_from_db()
    assert r.is_void and r.void_reason == "登记错误" and Residence.objects.filter(person=p).count() == 1


def test_birth_joins_the_mother_home_and_household(city) -> None:
    home = f.unit("a")
    mother = f.person(home, name="刘芳", male=False, born=date(1992, 4, 4))
    services.household_create(actor=city.worker_a, head=mother, housing_unit=home)
    born = f.today() - timedelta(days=20)
    baby = services.person_birth(actor=city.grid_worker_a, data={"name": "刘小宝", "id_number": f.id_number(born), "birth_date": born}, mother=mother)
    r = Residence.objects.get(person=baby)
    assert (r.housing_unit_id, r.from_date, r.kind) == (home.pk, born, "permanent")
    assert HouseholdMember.objects.get(person=baby).relation == "child"
    assert baby.employment_status == "child"
    early = date(1980, 1, 1)
    _refused("dates_order", services.person_birth, actor=None, data={"name": "刘大宝", "id_number": f.id_number(early)}, mother=mother)
    stranger = services.person_register(actor=None, data={"name": "陈某", "id_number": f.id_number(male=False)}, unit=city.grid_a)
    _refused("no_residence", services.person_birth, actor=None, data={"name": "陈宝", "id_number": f.id_number(born)}, mother=stranger)


def test_death_ends_everything_and_needs_a_new_head(city) -> None:
    home = f.unit("a")
    head = f.person(home, name="周建国", born=date(1950, 1, 1))
    wife = f.person(home, name="吴秀英", born=date(1952, 2, 2), male=False)
    household = services.household_create(actor=None, head=head, housing_unit=home)
    services.household_add_member(actor=None, household=household, person=wife, relation="spouse")
    died = f.today() - timedelta(days=3)
    _refused("head_required", services.person_death, actor=city.worker_a, person=head, died_on=died)
    services.person_death(actor=city.worker_a, person=head, died_on=died, new_head=wife)
    head.refresh_from_db()
    assert head.died_on == died
    r = Residence.objects.get(person=head)
    assert (r.to_date, r.ended_reason) == (died, "death")
    rows = HouseholdMember.objects.filter(household=household).order_by("pk")
    assert [(m.person_id, m.relation, m.to_date) for m in rows] == [
        (head.pk, "head", died),
        (wife.pk, "spouse", died),
        (wife.pk, "head", None),
    ]
    _refused("deceased", services.person_death, actor=None, person=head, died_on=died)


# --- households -------------------------------------------------------------------------------------


def test_split_and_merge_keep_one_head_and_the_history(city) -> None:
    home, other = f.unit("a"), f.unit("a", number="2单元202")
    head = f.person(home, name="杨父", born=date(1960, 1, 1))
    son = f.person(home, name="杨子", born=date(1988, 1, 1))
    daughter_in_law = f.person(home, name="韩媳", born=date(1990, 1, 1), male=False)
    h = services.household_create(actor=city.worker_a, head=head, housing_unit=home)
    services.household_add_member(actor=city.worker_a, household=h, person=son, relation="child")
    services.household_add_member(actor=city.worker_a, household=h, person=daughter_in_law, relation="child_in_law")
    _refused("head_count", services.household_add_member, actor=None, household=h, person=son, relation="head")
    _refused("head_count", services.household_split, actor=city.worker_a, household=h, members={son: "child", daughter_in_law: "spouse"})
    _refused("head_required", services.household_split, actor=city.worker_a, household=h, members={head: "head"})
    _refused(
        "split_empty",
        services.household_split,
        actor=city.worker_a,
        household=h,
        members={head: "parent", son: "head", daughter_in_law: "spouse"},
    )
    new = services.household_split(actor=city.worker_a, household=h, members={son: "head", daughter_in_law: "spouse"}, housing_unit=other)
    assert new.housing_unit_id == other.pk and new.number != h.number
    assert HouseholdMember.objects.filter(household=h, to_date__isnull=False, end_reason="split").count() == 2
    _refused("relations_incomplete", services.household_merge, actor=city.worker_a, source=new, target=h, relations={son: "child"})
    _refused("head_count", services.household_merge, actor=city.worker_a, source=new, target=h, relations={son: "head", daughter_in_law: "child_in_law"})
    services.household_merge(actor=city.worker_a, source=new, target=h, relations={son: "child", daughter_in_law: "child_in_law"})
    new.refresh_from_db()
    assert new.dissolved_on == f.today()
    assert sorted(HouseholdMember.objects.filter(household=h, to_date__isnull=True).values_list("relation", flat=True)) == [
        "child",
        "child_in_law",
        "head",
    ]
    _refused("forbidden", services.household_create, actor=city.worker_b, head=f.person(f.unit("a"), name="外人"))


# --- rentals and employment ------------------------------------------------------------------------


def test_tenancy_rules_and_end(city) -> None:
    home = f.unit("a")
    landlord = f.person(home, name="房东", born=date(1970, 1, 1))
    tenant = f.person(f.unit("a", number="9单元909"), name="租客", kind="migrant")
    start = f.today() - timedelta(days=30)
    _refused("dates_order_strict", services.tenancy_register, actor=city.worker_a, housing_unit=home, tenants=[tenant], landlord=landlord, start_date=start, end_date=start)
    _refused("landlord_is_tenant", services.tenancy_register, actor=city.worker_a, housing_unit=home, tenants=[landlord], landlord=landlord, start_date=start, end_date=start + timedelta(days=365))
    _refused("required", services.tenancy_register, actor=city.worker_a, housing_unit=home, tenants=[], landlord=landlord, start_date=start, end_date=start + timedelta(days=365))
    t = services.tenancy_register(actor=city.worker_a, housing_unit=home, tenants=[tenant], landlord=landlord, start_date=start, end_date=start + timedelta(days=365), use="居住")
    assert t.use == "residence" and list(t.tenants.all()) == [tenant]
    _refused("tenancy_overlap", services.tenancy_register, actor=None, housing_unit=home, tenants=[tenant], landlord_name="某公司", start_date=start + timedelta(days=10), end_date=start + timedelta(days=100))
    services.tenancy_end(actor=city.worker_a, tenancy=t, ended_on=f.today(), reason="提前退租")
    t.refresh_from_db()
    assert t.ended_on == f.today() and not t.is_active
    _refused("not_current", services.tenancy_end, actor=city.worker_a, tenancy=t, ended_on=f.today())


def test_employment_changes_status(city) -> None:
    p = f.person(f.unit("a"), employment_status="unemployed")
    job = services.employment_start(actor=city.worker_a, person=p, employer="贵阳大数据有限公司", occupation="软件工程师", from_date=date(2023, 1, 1))
    p.refresh_from_db()
    assert p.employment_status == "employed"
    _refused("dates_order", services.employment_end, actor=city.worker_a, employment=job, to_date=date(2022, 1, 1))
    services.employment_end(actor=city.worker_a, employment=job, to_date=date(2024, 1, 1), status_after="retired")
    p.refresh_from_db()
    assert p.employment_status == "retired"
    _refused("required", services.employment_start, actor=None, person=p, employer="", occupation="厨师", from_date=date(2024, 2, 1))


# --- permits and points ----------------------------------------------------------------------------


def _migrant_worker(city, days: int = 400):  # type: ignore[no-untyped-def]
    p = f.person(f.unit("a"), kind="migrant", since=f.today() - timedelta(days=days), education="bachelor")
    services.employment_start(actor=None, person=p, employer="贵州电子科技有限公司", occupation="工程师", from_date=f.today() - timedelta(days=days))
    return p


def test_permit_life_cycle(city) -> None:
    native = f.person(f.unit("a"))
    _refused("not_eligible", services.permit_apply, actor=city.worker_a, person=native)
    newcomer = f.person(f.unit("a", number="3-1"), kind="migrant", since=f.today() - timedelta(days=30))
    err = _refused("not_eligible", services.permit_apply, actor=city.worker_a, person=newcomer)
    assert "半年" in err.message
    p = _migrant_worker(city)
    permit = services.permit_apply(actor=city.grid_worker_a, person=p)
    _refused("permit_open", services.permit_apply, actor=city.worker_a, person=p)
    _refused("forbidden", services.permit_issue, actor=city.grid_worker_a, permit=permit)
    issued_on = f.today() - timedelta(days=10)
    permit = services.permit_issue(actor=city.worker_a, permit=permit, issued_on=issued_on)
    assert permit.state == PermitState.ISSUED and permit.number.startswith(f"JZZ{issued_on.year}")
    assert permit.valid_until == issued_on.replace(year=issued_on.year + 1) - timedelta(days=1)
    old_until = permit.valid_until
    permit = services.permit_renew(actor=city.worker_a, permit=permit)
    assert permit.valid_until == old_until.replace(year=old_until.year + 1) and permit.renewed_count == 1
    assert services.permits_expire_due(today=permit.valid_until + timedelta(days=1)) == 1
    permit.refresh_from_db()
    assert permit.state == PermitState.EXPIRED and permit.closed_on == permit.valid_until
    out = StringIO()
    call_command("expire_permits", stdout=out)  # the daily sweep: nothing more is due today
    assert "0" in out.getvalue()
    _refused("reason_required", services.permit_revoke, actor=city.worker_a, permit=permit, reason="")
    _refused("invalid_transition", services.permit_revoke, actor=city.worker_a, permit=permit, reason="已离开")
    second = services.permit_apply(actor=None, person=p, kind="green_card")
    services.permit_refuse(actor=city.worker_a, permit=second, reason="材料不全")
    second.refresh_from_db()
    assert second.state == PermitState.REFUSED


def test_points_submit_score_and_decide_within_the_quota(city) -> None:
    PointsRule.objects.create(code="years", name="居住年限", kind="residence_years", params={"per_year": 2, "max": 20}, order=1)
    PointsRule.objects.create(code="edu", name="学历", kind="education", params={"levels": {"bachelor": 20, "senior": 5}}, order=2)
    PointsRule.objects.create(code="ins", name="社保", kind="insurance_years", params={"per_year": 3}, order=3)
    PointsRule.objects.create(code="bad", name="违法记录", kind="deduction", params={"per_item": 10}, order=4)
    PointsRule.objects.create(code="old", name="停用规则", kind="award", params={"levels": {"city": 50}}, is_active=False)
    applicants = []
    for i, years in enumerate((5, 3, 1)):
        p = _migrant_worker(city, days=int(years * 365.25) + 30)
        permit = services.permit_apply(actor=None, person=p)
        services.permit_issue(actor=None, permit=permit)
        applicants.append(services.points_submit(actor=None, person=p, year=2026, facts={"insurance_years": years, "deductions": ["交通违法"] * (i == 0), "awards": ["city"]}))
    no_permit = _migrant_worker(city)
    _refused("permit_required", services.points_submit, actor=None, person=no_permit, year=2026, facts={})
    _refused("duplicate", services.points_submit, actor=None, person=applicants[0].person, year=2026, facts={})
    _refused("number_range", services.points_submit, actor=None, person=applicants[0].person, year=2027, facts={"insurance_years": 99})
    _refused("unscored", services.points_decide, actor=None, year=2026, quota=1)
    _refused("forbidden", services.points_score, actor=city.worker_a, application=applicants[0])
    scored = [services.points_score(actor=None, application=a) for a in applicants]
    first = scored[0]
    assert [b["rule"] for b in first.breakdown] == ["years", "edu", "ins", "bad"]
    assert first.score == Decimal(2 * 5 + 20 + 3 * 5 - 10)
    _refused("quota_required", services.points_decide, actor=None, year=2026)
    PointsQuota.objects.create(year=2026, quota=2)
    decided = services.points_decide(actor=None, year=2026)
    assert [(a.rank, a.state) for a in decided] == [(1, PointsState.APPROVED), (2, PointsState.APPROVED), (3, PointsState.WAITLISTED)]
    assert all(a.decision_reasons for a in decided)
    _refused("invalid_transition", services.points_reject, actor=None, application=decided[0], reason="材料虚假")


# --- corrections and reveal ------------------------------------------------------------------------


def _resident_of(p):  # type: ignore[no-untyped-def]
    user = User.objects.create(username=f"r_{p.pk}", kind="resident", phone=f"1390000{p.pk:04d}")
    services.person_link_account(actor=None, person=p, user=user)
    p.refresh_from_db()
    return user


def test_correction_request_and_decision_keep_the_old_value(city) -> None:
    p = f.person(f.unit("a"), name="王小名")
    me = _resident_of(p)
    other = _resident_of(f.person(f.unit("a"), name="别人"))
    _refused("forbidden", services.correction_request, actor=other, person=p, field="name", requested_value="王小明", reason="错字")
    _refused("reason_required", services.correction_request, actor=me, person=p, field="name", requested_value="王小明", reason="")
    _refused("name_format", services.correction_request, actor=me, person=p, field="name", requested_value="王2明", reason="错字")
    c = services.correction_request(actor=me, person=p, field="name", requested_value="王小明", reason="户口本上是“明”")
    assert c.current_value_masked == "王**" and c.state == CorrectionState.PENDING
    _refused("pending_exists", services.correction_request, actor=me, person=p, field="name", requested_value="王晓明", reason="再次")
    _refused("forbidden", services.correction_decide, actor=city.grid_worker_a, correction=c, accept=True, reason="核实")
    services.correction_decide(actor=city.worker_a, correction=c, accept=True, reason="与户口本核对一致")
    p.refresh_from_db()
    assert p.name == "王小明"
    change = PersonChange.objects.get(person=p, correction=c)
    assert (change.field, change.old_value, change.new_value) == ("name", "王小名", "王小明")
    _refused("already_decided", services.correction_decide, actor=city.worker_a, correction=c, accept=False, reason="重复")
    c2 = services.correction_request(actor=city.worker_a, person=p, field="birth_date", requested_value="1991-01-01", reason="出生证明")
    _refused("id_birth_mismatch", services.correction_decide, actor=city.worker_a, correction=c2, accept=True, reason="核实")
    services.correction_decide(actor=city.worker_a, correction=c2, accept=False, reason="与身份证号码不符")
    c2.refresh_from_db()
    assert c2.state == CorrectionState.REJECTED and c2.decision_reason == "与身份证号码不符"


def test_reveal_needs_a_reason_is_scoped_and_audited(city) -> None:
    p = f.person(f.unit("a"))
    _refused("reason_required", services.person_reveal, actor=city.worker_a, person=p, field="id_number", reason=" ")
    _refused("forbidden", services.person_reveal, actor=city.worker_b, person=p, field="id_number", reason="核对")
    _refused("invalid", services.person_reveal, actor=city.worker_a, person=p, field="name", reason="核对")
    assert services.person_reveal(actor=city.worker_a, person=p, field="id_number", reason="办理居住证核对") == p.id_number
    assert services.person_reveal(actor=city.worker_a, person=p, field="phone", reason="联系本人") == "13800138000"
    acts = list(AuditEvent.objects.filter(object_id=str(p.pk), act__startswith="registry.reveal").values_list("act", "reason", "actor_id"))
    assert acts == [("registry.reveal_id", "办理居住证核对", city.worker_a.pk), ("registry.reveal_phone", "联系本人", city.worker_a.pk)]


def test_lookup_for_move_in_is_audited_outside_scope(city) -> None:
    p = f.person(f.unit("a"))
    assert services.person_find_for_move_in(actor=city.worker_b, id_number=p.id_number) == p
    assert AuditEvent.objects.filter(act="registry.lookup", object_id=str(p.pk), actor=city.worker_b).count() == 1
    assert services.person_find_for_move_in(actor=city.worker_a, id_number=p.id_number) == p
    assert AuditEvent.objects.filter(act="registry.lookup").count() == 1
    _refused("forbidden", services.person_find_for_move_in, actor=city.handler, id_number=p.id_number)


def test_export_is_scoped_masked_and_audited(city) -> None:
    f.person(f.unit("a"), name="甲")
    f.person(f.unit("b"), name="乙")
    rows = services.persons_export(actor=city.worker_a, reason="季度核查")
    assert [r["name"] for r in rows] == ["甲"] and "*" in rows[0]["id_number"] and rows[0]["phone"] == "138****8000"
    assert AuditEvent.objects.filter(act="registry.export", actor=city.worker_a, reason="季度核查 (1)").exists()
    _refused("reason_required", services.persons_export, actor=city.worker_a, reason="")
