"""Demo seeder for the registry: a synthetic population, and the demo resident's own story.

Sizes: ``small`` — about 4,000 people in 新华社区 and 中南社区 (the demo logins' communities);
``full`` — 100,000 people across 南明区; ``city`` — 6.48 million people in the whole city with
27.24 % migrants and about 2.4 million housing units (PostgreSQL only: everything goes in with
``COPY`` into tables whose indexes and constraints are built once at the end; measured 8.5 minutes,
9 GB of memory at peak, 10 GB of database on the 2-core machine: about 1.5 minutes generating,
3.5 minutes encrypting and copying, 3.5 minutes building indexes). Rows come from
``citygen`` (families, residences with some history, households, rentals, jobs, permits in
every state, points applications), then last year's applications are scored and ranked with the
real ``points_decide``.

The demo resident 王筑昀 (phone 13800138000, ``accounts.demo``) is linked to a record made with
the real services, so her self-service page has a story: a migrant from 织金县 who rented in
新华社区, held a residence permit renewed every year, was approved for points-based settlement
last year, moved into her own flat with her family as registered residents and opened a
household; a correction request is pending, and staff reads of her record are in the audit trail.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
from django.db import connection
from django.utils import timezone

from zhucheng.accounts.models import User
from zhucheng.accounts.services import resident_username
from zhucheng.core.audit import audit_record
from zhucheng.core.demo import DemoContext
from zhucheng.places import demo as places_demo
from zhucheng.places.models import OrgUnit

from . import citygen, services
from .generate import make_id_number
from .models import Person, PointsApplication, PointsQuota, PointsRule, PointsState, Residence
from .permits import score

ORDER = 50

PERSONS = {"small": 4_000, "full": 100_000, "city": 6_480_000}
ROOTS = {
    "small": (places_demo.DEMO_COMMUNITY_CODE, places_demo.DEMO_COMMUNITY2_CODE),
    "full": (places_demo.DEMO_DISTRICT_CODE,),
    "city": ("5201",),
}
# Points applications generated per size: (last year, this year).
POINTS = {"small": (12, 10), "full": (150, 100), "city": (3_000, 2_500)}
RESIDENT_PHONE = "13800138000"

DEFAULT_RULES: tuple[tuple[str, str, str, dict[str, Any], str], ...] = (
    ("residence_years", "居住年限", "residence_years", {"per_year": 2, "max": 20}, "在本市连续居住每满 1 年计 2 分,最高 20 分"),
    ("insurance_years", "社会保险缴纳年限", "insurance_years", {"per_year": 3, "max": 30}, "在本市缴纳社会保险每满 1 年计 3 分,最高 30 分"),
    ("education", "文化程度", "education", {"levels": {"junior": 2, "senior": 5, "vocational": 8, "college": 15, "bachelor": 20, "master": 25, "doctor": 30}}, ""),
    ("skill", "职业技能等级", "skill", {"levels": {"初级工": 3, "中级工": 6, "高级工": 10, "技师": 15, "高级技师": 20}}, ""),
    ("award", "表彰奖励", "award", {"levels": {"city": 5, "province": 10, "national": 20}, "max": 30}, "市级 5 分、省级 10 分、国家级 20 分"),
    ("deduction", "违法违规记录", "deduction", {"per_item": 10}, "每项扣 10 分"),
)


def seed_rules() -> None:
    """The default scoring rules (kept as they are if an administrator has already changed them)."""
    for order, (code, name, kind, params, description) in enumerate(DEFAULT_RULES, start=1):
        PointsRule.objects.get_or_create(code=code, defaults={"name": name, "kind": kind, "params": params, "order": order, "description": description})


def seed(ctx: DemoContext) -> None:
    if Person.objects.filter(source="demo").exists():
        ctx.log("人口数据已存在,跳过")
        return
    size = ctx.size if ctx.size in PERSONS else "small"
    if size == "city" and connection.vendor != "postgresql":
        ctx.log("城市规模(648 万人)需要 PostgreSQL,改用 full 规模")
        size = "full"
    roots = list(OrgUnit.objects.filter(code__in=ROOTS[size]))
    if not roots:
        ctx.log("找不到演示社区,跳过人口数据")
        return
    grids = [g for root in roots for g in citygen.grids_under(root)]
    rng = np.random.default_rng(ctx.rng.getrandbits(64))
    today = timezone.localdate()
    gen = citygen.CityGenerator(rng, grids, PERSONS[size], today=today)
    gen.housing()
    gen.people()
    seed_rules()
    last, this = today.year - 1, today.year
    last_n, this_n = POINTS[size]
    gen.plan.tables["registry_pointsapplication"] = pa.concat_tables([gen.points(last, last_n), gen.points(this, this_n)])
    citygen.write(gen.plan, log=ctx.log)
    resident = _resident_story(ctx, today)
    _score_generated(last, this, today)
    decided = _decide_last_year(last, resident)
    if resident is not None:
        _settle(ctx, resident, today)
    _queue_corrections()
    counts = gen.plan.counts
    audit_record(
        actor=None,
        act="registry.seed",
        changed_fields=sorted(counts),
        reason=f"demo registry size={size}: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) + f"; points decided={decided}",
    )
    ctx.shared["registry.demo_person"] = resident
    ctx.log(
        f"{counts['persons']:,} 人(流动人口 {counts['migrants'] / counts['persons']:.2%}),"
        f"房屋 {counts['housing_units']:,} 套,楼栋 {counts['buildings']:,} 栋,户 {counts['households']:,} 户,"
        f"出租登记 {counts['tenancies']:,} 条,居住证 {counts['permits']:,} 张"
    )


def _score_generated(last: int, this: int, today: date) -> None:
    """Score last year's generated applications, and half of this year's (scores only: the ranking is an act)."""
    rules = list(PointsRule.objects.filter(is_active=True).order_by("order", "code"))
    apps = list(PointsApplication.objects.select_related("person").filter(year__in=[last, this], state=PointsState.SUBMITTED).order_by("pk"))
    now = timezone.now()
    changed = []
    for i, app in enumerate(apps):
        if app.year == this and i % 2:
            continue
        on = date(last, 4, 1) if app.year == last else today
        app.score, app.breakdown = score(app.person, app.facts, rules, on)
        app.state, app.scored_at = PointsState.SCORED, now
        changed.append(app)
    PointsApplication.objects.bulk_update(changed, ["score", "breakdown", "state", "scored_at"], batch_size=1000)


def _decide_last_year(last: int, resident: Person | None) -> int:
    apps = list(PointsApplication.objects.filter(year=last, state=PointsState.SCORED).order_by("-score", "submitted_on", "pk"))
    if not apps:
        return 0
    quota = max(int(len(apps) * 0.4), 1)
    if resident is not None:
        mine = next((i for i, a in enumerate(apps, start=1) if a.person_id == resident.pk), 0)
        quota = max(quota, mine)
    PointsQuota.objects.update_or_create(year=last, defaults={"quota": quota})
    PointsQuota.objects.get_or_create(year=last + 1, defaults={"quota": quota})
    services.points_decide(actor=None, year=last, reason="年度积分入户排名(演示数据)")
    return len(apps)


def _staff(username: str) -> Any:
    return User.objects.filter(username=username).first()


def _resident_story(ctx: DemoContext, today: date) -> Person | None:
    """王筑昀's record, built act by act with the services (each act audited, as in real use)."""
    user = User.objects.filter(username=resident_username(RESIDENT_PHONE)).first()
    grid = OrgUnit.objects.filter(code=places_demo.DEMO_GRID_CODE).first()
    if user is None or grid is None or grid.lat is None or grid.lon is None:
        ctx.log("找不到演示居民账户或演示网格,跳过居民记录")
        return None
    if Person.objects.filter(user=user).exists():
        return Person.objects.get(user=user)
    community = _staff("community")
    building = services.building_register(
        actor=None, door_plate="南明区新华路88号附1号", address="贵阳市南明区新华路88号附1号翠微花园2栋", lat=grid.lat, lon=grid.lon, name="翠微花园2栋"
    )
    rented = services.housing_unit_add(actor=None, building=building, number="1单元502", area_m2=68.5)
    own = services.housing_unit_add(actor=None, building=building, number="2单元1201", area_m2=96.0)
    landlord_home = services.housing_unit_add(actor=None, building=building, number="1单元501", area_m2=88.0)
    arrived = today - timedelta(days=6 * 365 + 40)
    landlord = services.person_register(
        actor=None,
        data={"name": "陈国华", "id_number": make_id_number("520102", date(1962, 9, 3), 131), "phone": "13985001234", "employment_status": "retired", "education": "senior"},
        housing_unit=landlord_home,
        residence_kind="permanent",
        from_date=date(1998, 6, 1),
    )
    rented.owner = landlord  # he lets the flat next to his own
    rented.save(update_fields=["owner", "updated_at"])
    me = services.person_register(
        actor=None,
        data={
            "name": "王筑昀", "id_number": make_id_number("520524", date(1988, 5, 16), 246), "phone": RESIDENT_PHONE,
            "ethnicity": "汉族", "hukou_place": "贵州省毕节市织金县", "education": "bachelor",
        },  # fmt: skip
        housing_unit=rented,
        residence_kind="migrant",
        from_date=arrived,
        arrived_from="贵州省毕节市织金县",
    )
    me = services.person_link_account(actor=community, person=me, user=user, reason="持身份证到社区核验后关联账户")
    husband = services.person_register(
        actor=None,
        data={
            "name": "李明远", "id_number": make_id_number("520524", date(1986, 11, 2), 317), "phone": "13908519988",
            "ethnicity": "汉族", "hukou_place": "贵州省毕节市织金县", "education": "college",
        },  # fmt: skip
        housing_unit=rented,
        residence_kind="migrant",
        from_date=arrived,
    )
    services.employment_start(actor=None, person=me, employer="贵州筑城大数据有限公司", occupation="数据分析师", from_date=arrived + timedelta(days=30))
    services.employment_start(actor=None, person=husband, employer="贵阳市公共交通集团有限公司", occupation="公交车驾驶员", from_date=arrived + timedelta(days=60))
    daughter_born = arrived + timedelta(days=400)
    daughter = services.person_birth(
        actor=None,
        data={"name": "李思筑", "id_number": make_id_number("520102", daughter_born, 88), "birth_date": daughter_born, "sex": "F"},
        mother=me,
        father=husband,
    )
    tenancy = services.tenancy_register(
        actor=None,
        housing_unit=rented,
        tenants=[me, husband],
        landlord=landlord,
        start_date=today - timedelta(days=2 * 365),
        end_date=today + timedelta(days=60),
        rent_fen=180000,
    )
    permit = services.permit_apply(actor=None, person=me, applied_on=arrived + timedelta(days=200))
    permit = services.permit_issue(actor=None, permit=permit, issued_on=arrived + timedelta(days=210))
    for year in range(1, 6):
        renewed_on = arrived + timedelta(days=210 + 365 * year - 20)
        if renewed_on < today - timedelta(days=150):
            permit = services.permit_renew(actor=None, permit=permit, renewed_on=renewed_on, reason="年度签注")
    last = today.year - 1
    application = services.points_submit(
        actor=user, person=me, year=last, facts={"insurance_years": 5, "skill": "技师", "awards": ["city"], "deductions": []}, submitted_on=date(last, 3, 1)
    )
    services.points_score(actor=None, application=application, on=date(last, 4, 1))
    ctx.shared["registry.demo_story"] = {"own": own, "tenancy": tenancy, "permit": permit, "family": (husband, daughter)}
    return me


def _settle(ctx: DemoContext, person: Person, today: date) -> None:
    """After last year's ranking: the family moves into its own flat as registered residents."""
    story = ctx.shared.get("registry.demo_story")
    if not story:
        return
    app = PointsApplication.objects.filter(person=person, year=today.year - 1).first()
    if app is None or app.state != PointsState.APPROVED:
        return
    settled = today - timedelta(days=120)
    community, grid_worker = _staff("community"), _staff("grid")
    husband, daughter = story["family"]
    for who in (person, husband, daughter):
        services.person_move_in(actor=community, person=who, housing_unit=story["own"], kind="permanent", from_date=settled, reason="积分入户,迁入本市户籍")
    services.tenancy_end(actor=community, tenancy=story["tenancy"], ended_on=settled, reason="租户积分入户后搬入自购住房")
    services.permit_revoke(actor=community, permit=story["permit"], reason="已积分入户本市,居住证注销")
    household = services.household_create(actor=community, head=person, housing_unit=story["own"], from_date=settled, reason="积分入户立户")
    services.household_add_member(actor=community, household=household, person=husband, relation="spouse", from_date=settled)
    services.household_add_member(actor=community, household=household, person=daughter, relation="child", from_date=settled)
    for who in (person, husband, daughter):
        services.person_update(actor=community, person=who, changes={"hukou_place": "贵州省贵阳市南明区", "care_needs": ""}, reason="积分入户迁入户籍")
    earlier = services.correction_request(
        actor=person.user, person=person, field="other", requested_value="工作单位已更名为贵州筑城数据科技有限公司", reason="单位更名,附营业执照变更通知"
    )
    if community is not None:
        services.correction_decide(actor=community, correction=earlier, accept=True, reason="已核实营业执照变更,就业信息已按新名称登记")
    services.correction_request(actor=person.user, person=person, field="ethnicity", requested_value="布依族", reason="本人为布依族,登记时误填为汉族,附户口簿")
    if community is not None:
        services.person_reveal(actor=community, person=person, field="id_number", reason="办理积分入户落户手续,核对身份证号码")
        services.person_reveal(actor=community, person=person, field="phone", reason="电话通知领取户口簿")
    if grid_worker is not None:
        services.person_record_read(actor=grid_worker, person=person, purpose="入户走访,核实居住情况")


def _queue_corrections() -> None:
    """A few more requests in the staff queue, from generated residents of the demo community."""
    community = OrgUnit.objects.filter(code=places_demo.DEMO_COMMUNITY_CODE).first()
    if community is None:
        return
    picks = Person.objects.filter(source="demo", unit__path__startswith=community.path).order_by("pk")[:5]
    reasons = (
        ("education", "senior", "已取得高中毕业证书", None),
        ("hukou_place", "贵州省贵阳市云岩区", "户籍已迁至云岩区", None),
        ("phone", "13985012345", "手机号已更换", None),
        ("ethnicity", "苗族", "登记时民族填错", (True, "已核对户口簿,予以更正")),
        ("hukou_place", "贵州省遵义市红花岗区", "户籍地登记有误", (False, "户口簿记载的户籍地与现登记一致,未提供迁移证明,不予更正")),
    )
    staff = _staff("community")
    for person, (field, value, reason, decision) in zip(picks, reasons, strict=False):
        if not Residence.objects.filter(person=person, to_date__isnull=True).exists():
            continue
        correction = services.correction_request(actor=None, person=person, field=field, requested_value=value, reason=reason)
        if decision is not None and staff is not None:
            services.correction_decide(actor=staff, correction=correction, accept=decision[0], reason=decision[1])


def report(ctx: DemoContext) -> None:
    person = ctx.shared.get("registry.demo_person")
    if person is not None:
        ctx.log(f"演示居民 {person.name}(手机号 {RESIDENT_PHONE})已关联人口记录:居住史、户、居住证、积分入户、更正申请、查阅记录")


