"""Demo seeder for care: categories (two sensitive) with questionnaires, a grant to 李娟 (``community``) for the
sensitive ones in 新华社区, enrolments of the registry's demo people in every state, visits on time and late,
services, video-link points with bookings, children's and women's homes, proxy parents, homeless cases.

Two layers, as in the mediation seeder:

* **Stories** through the real services, for the demo grid worker 张伟 (``grid``) in 新华社区's first grid:
  empty-nest elderly at each risk level, one long overdue, a visit that raised an appeal and a referral,
  cataract surgery and hearing aids, a left-behind child enrolled with the grandmother's consent and paired
  with a proxy mother, one enrolment withdrawn, one ended, one reviewed, one sensitive enrolment only 李娟 sees.
* **Volume** with ``bulk_create``: enrolments across both demo communities with consent, a needs assessment,
  a plan, a history of visits (some late, about a fifth now overdue) and services.

Idempotent: when the questionnaire ``ELDERLY`` exists the seeder does nothing.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from zhucheng.accounts.models import User
from zhucheng.core.audit import audit_record
from zhucheng.core.calendar import add_calendar_days
from zhucheng.core.demo import DemoContext
from zhucheng.places.models import Department, OrgUnit

from . import services, services_more
from .models import (
    BookingState,
    CareCategory,
    CareHome,
    CarePlan,
    Consent,
    Enrolment,
    EnrolmentState,
    HomeActivity,
    HomeAttendance,
    HomelessAgency,
    LinkBooking,
    LinkPoint,
    NeedsAssessment,
    ProxyMeeting,
    ProxyPairing,
    ProxyParent,
    Questionnaire,
    RiskLevel,
    Sensitivity,
    ServiceDelivery,
    Visit,
)

ORDER = 80
COMMUNITY = "520102001"  # 新华社区 (places.demo.DEMO_COMMUNITY_CODE)
COMMUNITY2 = "520102002"  # 中南社区
DISTRICT = "520102"
GRID = "520102001001001"
SCALE = {"small": 1, "full": 5, "city": 5}

QUESTIONNAIRES = {
    "ELDERLY": ("老年人关爱需求评估", 4, 8, [
        ("是否独居", [("否", 0), ("是", 3)]),
        ("日常生活能否自理", [("完全自理", 0), ("部分自理", 2), ("不能自理", 5)]),
        ("患有慢性病", [("无", 0), ("有，病情稳定", 1), ("有，需要经常就医", 3)]),
        ("子女多久联系一次", [("每周", 0), ("每月", 1), ("很少联系", 2)]),
    ]),
    "CHILD": ("留守儿童关爱需求评估", 3, 6, [
        ("父母外出情况", [("一方外出", 1), ("双方外出", 3)]),
        ("监护人身体状况", [("良好", 0), ("一般", 1), ("较差", 3)]),
        ("学习与心理", [("正常", 0), ("成绩下滑", 1), ("情绪低落、孤僻", 3)]),
    ]),
    "GENERAL": ("困难群众关爱需求评估", 3, 6, [
        ("家庭收入", [("稳定", 0), ("低于低保线", 3)]),
        ("医疗负担", [("无", 0), ("较重", 2), ("很重", 3)]),
        ("居住条件", [("安全", 0), ("存在隐患", 2)]),
    ]),
    "HEALTH": ("精神卫生随访评估", 3, 6, [
        ("服药情况", [("规律服药", 0), ("间断服药", 2), ("不服药", 4)]),
        ("近期病情", [("稳定", 0), ("波动", 2), ("有肇事肇祸倾向", 4)]),
        ("监护情况", [("监护到位", 0), ("监护不足", 2)]),
    ]),
}
# code, name, sensitivity, questionnaire, intervals (high, medium, low), order
CATEGORIES = (
    ("empty_nest", "空巢老人", Sensitivity.ORDINARY, "ELDERLY", (7, 15, 30), 1),
    ("left_behind_child", "留守儿童", Sensitivity.ORDINARY, "CHILD", (7, 15, 30), 2),
    ("left_behind_woman", "留守妇女", Sensitivity.ORDINARY, "GENERAL", (15, 30, 60), 3),
    ("disabled", "残疾人", Sensitivity.ORDINARY, "GENERAL", (7, 15, 30), 4),
    ("poor", "困难群众", Sensitivity.ORDINARY, "GENERAL", (15, 30, 60), 5),
    ("mental", "严重精神障碍患者", Sensitivity.SENSITIVE, "HEALTH", (7, 14, 30), 6),
    ("hiv", "艾滋病感染者及家庭", Sensitivity.SENSITIVE, "HEALTH", (15, 30, 60), 7),
)
AGENCIES = (("D06", "civil_affairs"), ("D02", "police"), ("D07", "city_management"), ("D05", "health"))

SITUATIONS = {
    "empty_nest": ["老人独居，身体尚可，能自己做饭", "老伴去年去世，情绪低落，子女在广东务工", "高血压，按时服药，家中整洁", "腿脚不便，下楼困难，需要帮助买菜", "老两口相依为命，儿子在上海"],
    "left_behind_child": ["父母在浙江打工，由奶奶照看，学习正常", "父亲外出务工，母亲改嫁，爷爷年迈", "孩子性格内向，放学后常独自在家", "成绩中等，喜欢画画"],
    "left_behind_woman": ["丈夫在外务工，独自照顾两个孩子和公婆", "想在家附近找份工作", "身体有腰伤，农忙时吃力"],
    "disabled": ["肢体二级残疾，使用轮椅", "视力残疾，需要定期复查", "听力残疾，助听器需要更换"],
    "poor": ["家庭收入低于低保线，孩子上学开支大", "因病致贫，医疗费负担重", "住房老旧，屋顶漏雨"],
    "mental": ["规律服药，病情稳定，家属监护到位", "近期间断服药，家属反映情绪波动"],
    "hiv": ["规律服药，身体状况良好", "孩子上学，家庭需要生活帮扶"],
}
NEEDS = ["需要帮忙联系子女", "希望申请居家养老服务", "屋内电线老化需要检修", "需要代购药品", "希望参加社区老年活动", "", "", ""]
FOLLOW_UPS = ["下周电话回访", "联系社区卫生服务中心上门", "已告知子女，约定每周视频", "", ""]
SERVICES = (
    ("rehabilitation", "白内障复明手术", "贵阳市第一人民医院", 350_000),
    ("aid", "助听器验配", "南明区残疾人联合会", 120_000),
    ("aid", "轮椅", "南明区残疾人联合会", 80_000),
    ("subsidy", "高龄津贴", "南明区民政局", 30_000),
    ("subsidy", "临时救助金", "南明区民政局", 100_000),
    ("material", "米、油、棉被", "新华社区居委会", 25_000),
    ("hospitalisation", "住院医疗救助", "贵州省人民医院", 450_000),
    ("rehabilitation", "康复训练（10 次）", "社区卫生服务中心", 60_000),
)


def seed(ctx: DemoContext) -> None:
    if Questionnaire.objects.filter(code="ELDERLY").exists():
        ctx.log("关爱数据已存在，跳过")
        return
    community = OrgUnit.objects.filter(code=COMMUNITY).first()
    community2 = OrgUnit.objects.filter(code=COMMUNITY2).first()
    grid = OrgUnit.objects.filter(code=GRID).first()
    if community is None or community2 is None or grid is None:
        ctx.log("找不到演示社区，跳过关爱数据")
        return
    _PEOPLE.clear()
    cats = _reference()
    users = {u.username: u for u in User.objects.filter(username__in=["grid", "community", "community2", "admin"])}
    if "community" in users:
        for code in ("mental", "hiv"):
            services.grant_create(actor=None, category=cats[code], unit=community, user=users["community"], reason="社区精防、疾控专干（演示）")
    today = timezone.localdate()
    stories = _stories(ctx, cats, grid, community, users, today)
    n = _volume(ctx, cats, [community, community2], users, today)
    points, bookings = _link_points(ctx, [community, community2], users, today)
    homes, pairings = _homes_and_proxies(ctx, [community, community2], today)
    cases = _homeless(ctx, community, today)
    audit_record(
        actor=None, act="care.seed", changed_fields=["enrolment", "visit", "service"],
        reason=f"demo size={ctx.size}: enrolments={n + stories} points={points} bookings={bookings} homes={homes} pairings={pairings} homeless={cases}",
    )
    ctx.log(f"关爱对象 {n + stories} 人（含敏感类别，仅授权人员可见）；亲情联系点 {points} 个、预约 {bookings} 次；关爱之家 {homes} 个；代理家长结对 {pairings} 对；流浪救助 {cases} 件")


def _reference() -> dict[str, CareCategory]:
    qs = {}
    for code, (name, medium, high, questions) in QUESTIONNAIRES.items():
        qs[code] = Questionnaire.objects.create(
            code=code, name=name, medium_from=medium, high_from=high,
            questions=[{"text": t, "choices": [[label, score] for label, score in choices]} for t, choices in questions],
        )
    cats = {}
    for code, name, sensitivity, q, (hi, me, lo), order in CATEGORIES:
        cats[code] = CareCategory.objects.create(
            code=code, name=name, sensitivity=sensitivity, questionnaire=qs[q], interval_high=hi, interval_medium=me, interval_low=lo, order=order
        )
    for code, side in AGENCIES:
        dept = Department.objects.filter(code=code).first()
        if dept is not None:
            HomelessAgency.objects.get_or_create(department=dept, defaults={"side": side})
    return cats


_PEOPLE: dict[tuple[str, date], dict[str, list[Any]]] = {}


def _people(root: OrgUnit, today: date) -> dict[str, list[Any]]:
    """The registry's people under ``root`` by group (copies of a per-run cache: callers shuffle them)."""
    if (root.path, today) not in _PEOPLE:
        _PEOPLE[(root.path, today)] = _load_people(root, today)
    return {k: list(v) for k, v in _PEOPLE[(root.path, today)].items()}


def _load_people(root: OrgUnit, today: date) -> dict[str, list[Any]]:
    from zhucheng.registry.models import Person

    rows = list(
        Person.objects.filter(unit__path__startswith=root.path, died_on__isnull=True, birth_date__isnull=False)
        .select_related("unit")
        .defer("id_number", "doc_number", "phone", "unit__boundary")
        .order_by("pk")
    )
    out: dict[str, list[Any]] = {"old": [], "child": [], "woman": [], "adult": []}
    for p in rows:
        age = services.age_on(p.birth_date, today) or 0
        if age >= 65:
            out["old"].append(p)
        elif age < 16:
            out["child"].append(p)
        elif p.sex == "F" and 22 <= age <= 55:
            out["woman"].append(p)
        elif 18 <= age < 65:
            out["adult"].append(p)
    return out


def _consent(rng: random.Random, on: date, guardian: bool) -> services.ConsentInput:
    if guardian:
        return services.ConsentInput(
            given_by="guardian", given_on=on, form="written", guardian_name=rng.choice(["王秀兰", "李桂芳", "张德明", "刘玉珍"]),
            guardian_relation=rng.choice(["祖母", "祖父", "母亲", "配偶"]), guardian_phone=f"139{rng.randrange(10**8):08d}",
            withdrawal_method="随时可致电新华社区居委会 0851-85812345 或告知网格员撤回", document_ref=f"TY{on:%Y%m}{rng.randrange(1000):03d}",
        )
    return services.ConsentInput(
        given_by="self", given_on=on, form=rng.choice(["written", "written", "thumbprint", "oral"]),
        withdrawal_method="随时可致电社区居委会或告知网格员撤回，撤回后不再走访、记录封存", document_ref=f"TY{on:%Y%m}{rng.randrange(1000):03d}",
    )


def _answers(rng: random.Random, q: Questionnaire, risk: str) -> list[int]:
    """Answers that land in ``risk`` (tries a few random ones, then takes the closest)."""
    best: list[int] = []
    for _ in range(40):
        a = [rng.randrange(len(x["choices"])) for x in q.questions]
        _, level = services.score_answers(q, a)
        best = a
        if level == risk:
            break
    return best


def _stories(ctx: DemoContext, cats: dict[str, CareCategory], grid: OrgUnit, community: OrgUnit, users: dict[str, User], today: date) -> int:
    """A dozen enrolments through the real services, for 张伟's grid."""
    rng = ctx.rng
    people = _people(grid, today)
    carer = users.get("grid")
    manager = users.get("community")
    if carer is None or not people["old"]:
        return 0
    made = 0
    olds = people["old"][:8]
    risks = [RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.LOW, RiskLevel.HIGH, RiskLevel.LOW, RiskLevel.LOW]
    for i, p in enumerate(olds):
        start = today - timedelta(days=120 - i * 7)
        e = services.enrolment_create(
            actor=None, person=p, category=cats["empty_nest"], consent=_consent(rng, start, False), carer=carer, enrolled_on=start,
            situation=SITUATIONS["empty_nest"][i % 5], goals="每月至少走访一次，帮助联系子女，关注用药",
        )
        services.assessment_record(actor=None, enrolment=e, answers=_answers(rng, cats["empty_nest"].questionnaire, risks[i]), assessed_on=start)  # type: ignore[arg-type]
        e.refresh_from_db()
        made += 1
        if i == 0:
            continue  # never visited since enrolment: long overdue
        day = start
        while True:
            plan = CarePlan.objects.get(enrolment=e)
            day = plan.next_due_on - timedelta(days=rng.randrange(0, 3)) if i % 3 else plan.next_due_on + timedelta(days=rng.randrange(1, 6))
            if day > today - timedelta(days=2) or (i == 5 and day > today - timedelta(days=25)):
                break
            services.visit_record(actor=carer, enrolment=e, visited_on=day, kind=rng.choice(["home", "home", "phone", "video"]),
                                  situation=rng.choice(SITUATIONS["empty_nest"]), needs=rng.choice(NEEDS), follow_up=rng.choice(FOLLOW_UPS))
        if i == 1:
            services.visit_record(
                actor=carer, enrolment=e, visited_on=today - timedelta(days=1), kind="home", situation="老人家中楼道灯已坏多日，晚上上下楼摔过一跤",
                needs="楼道照明损坏，请物业或社区尽快维修", follow_up="已上报诉求，三天后回访", raise_appeal=True, appeal_title="老旧小区楼道灯损坏，独居老人夜间摔倒",
                refer_to=Department.objects.filter(code="D06").first(), referral_note="申请居家养老服务补贴评估",
            )
        if i in (2, 3):
            kind, desc, provider, fen = SERVICES[0] if i == 2 else SERVICES[1]
            services.service_record(actor=None, enrolment=e, kind=kind, description=desc, provider=provider, delivered_on=today - timedelta(days=20 + i), amount_fen=fen)
        if i == 4 and manager is not None:
            services.enrolment_review(actor=manager, enrolment=e, note="老人身体稳定，子女每周视频，继续关爱", reviewed_on=today - timedelta(days=3))
        if i == 6:
            services.consent_withdraw(actor=None, enrolment=e, withdrawn_on=today - timedelta(days=10), via="本人来电，表示子女已接回同住")
        if i == 7:
            services.enrolment_end(actor=None, enrolment=e, reason="随子女迁往遵义居住", ended_on=today - timedelta(days=5))
    for j, child in enumerate(people["child"][:2]):
        start = today - timedelta(days=200)
        e = services.enrolment_create(actor=None, person=child, category=cats["left_behind_child"], consent=_consent(rng, start, True), carer=carer,
                                      enrolled_on=start, situation=SITUATIONS["left_behind_child"][j])
        services.visit_record(actor=carer, enrolment=e, visited_on=today - timedelta(days=6 + j), kind="home", situation="孩子在奶奶家写作业，状态不错")
        made += 1
    if people["adult"] and "community" in users:
        p = people["adult"][0]
        start = today - timedelta(days=90)
        e = services.enrolment_create(actor=users["community"], person=p, category=cats["mental"], consent=_consent(rng, start, True), carer=users["community"],
                                      enrolled_on=start, situation=SITUATIONS["mental"][0])
        services.visit_record(actor=users["community"], enrolment=e, visited_on=today - timedelta(days=4), kind="home", situation="按时服药，情绪稳定，家属陪同")
        made += 1
    return made


def _volume(ctx: DemoContext, cats: dict[str, CareCategory], communities: list[OrgUnit], users: dict[str, User], today: date) -> int:
    """Enrolments in bulk, with consent, assessment, plan, visits and services."""
    rng = ctx.rng
    scale = SCALE.get(ctx.size, 1)
    taken = set(Enrolment.objects.values_list("person_id", flat=True))
    quota = {"empty_nest": 110, "left_behind_child": 50, "left_behind_woman": 25, "disabled": 25, "poor": 20, "mental": 10, "hiv": 5}
    source = {"empty_nest": "old", "left_behind_child": "child", "left_behind_woman": "woman", "disabled": "adult", "poor": "adult", "mental": "adult", "hiv": "adult"}
    volunteers = ["罗志愿", "吴红梅", "杨晓东", "陈丽", "周海燕"]
    enrolments: list[Enrolment] = []
    extra: list[tuple[Enrolment, bool, date]] = []
    for community in communities:
        pool = _people(community, today)
        for key in pool:
            rng.shuffle(pool[key])
        staff = users.get("community" if community.code == COMMUNITY else "community2")
        for code, n in quota.items():
            cat = cats[code]
            picked = [p for p in pool[source[code]] if p.pk not in taken][: n * scale // 2 + 1]
            for p in picked:
                taken.add(p.pk)
                start = today - timedelta(days=rng.randrange(30, 540))
                guardian = code in ("left_behind_child", "mental") and (code == "left_behind_child" or rng.random() < 0.5)
                risk = rng.choices(RiskLevel.values, weights=[5, 3, 2])[0]
                use_volunteer = staff is None or rng.random() < 0.15
                sensitive = cat.is_sensitive
                e = Enrolment(
                    person=p, category=cat, unit=p.unit, enrolled_on=start, carer=None if use_volunteer else staff,
                    volunteer_name=rng.choice(volunteers) if use_volunteer else "", volunteer_phone=f"137{rng.randrange(10**8):08d}" if use_volunteer else "",
                    risk_level=risk, review_on=services._add_months(start, cat.review_months), situation=rng.choice(SITUATIONS[code]),
                )
                if sensitive and use_volunteer and staff is not None:
                    e.carer, e.volunteer_name, e.volunteer_phone = staff, "", ""
                state_roll = rng.random()
                if state_roll < 0.05:
                    e.state, e.ended_on, e.end_reason = EnrolmentState.WITHDRAWN, today - timedelta(days=rng.randrange(1, 30)), "本人或监护人撤回同意"
                elif state_roll < 0.12:
                    e.state, e.ended_on, e.end_reason = EnrolmentState.ENDED, today - timedelta(days=rng.randrange(1, 30)), rng.choice(["迁出本社区", "子女接回同住", "家庭情况好转"])
                if e.review_on < today and rng.random() < 0.6:
                    e.reviewed_on = e.review_on
                    e.review_on = services._add_months(e.review_on, cat.review_months)
                enrolments.append(e)
                extra.append((e, guardian, start))
    Enrolment.objects.bulk_create(enrolments, batch_size=500)
    consents, assessments, plans, visits, deliveries = [], [], [], [], []
    for e, guardian, start in extra:
        c = _consent(rng, start, guardian)
        consents.append(Consent(
            enrolment=e, given_by=c.given_by, guardian_name=c.guardian_name, guardian_relation=c.guardian_relation, guardian_phone=c.guardian_phone,
            lacks_capacity=guardian and e.category.code == "mental", given_on=start, form=c.form, document_ref=c.document_ref, withdrawal_method=c.withdrawal_method,
            withdrawn_on=e.ended_on if e.state == EnrolmentState.WITHDRAWN else None, withdrawn_via="本人来电" if e.state == EnrolmentState.WITHDRAWN else "",
        ))
        q = e.category.questionnaire
        answers = _answers(rng, q, e.risk_level)  # type: ignore[arg-type]
        score, level = services.score_answers(q, answers)
        e.risk_level = level
        assessments.append(NeedsAssessment(enrolment=e, questionnaire=q, answers=answers, score=score, risk_level=level, assessed_on=start))
        interval = e.category.interval_for(level)
        # A visit history: mostly on time, some late; about one in five has lapsed (now overdue).
        lapses = rng.random() < 0.2
        stop = e.ended_on or today
        if lapses:
            stop = stop - timedelta(days=interval + rng.randrange(3, 40))
        due = add_calendar_days(start, interval).date
        last = None
        while True:
            day = due + timedelta(days=rng.choice([-3, -2, -1, 0, 0, 1, 4, 9]))
            if day >= stop or day > today - timedelta(days=1):
                break
            day = max(day, (last or start) + timedelta(days=1))
            visits.append(Visit(enrolment=e, visited_on=day, due_on=due, kind=rng.choice(["home", "home", "home", "phone", "video"]),
                                situation=rng.choice(SITUATIONS[e.category.code]), needs=rng.choice(NEEDS), follow_up=rng.choice(FOLLOW_UPS),
                                recorded_by=e.carer))
            last = day
            due = add_calendar_days(day, interval).date
        plans.append(CarePlan(enrolment=e, interval_days=interval, last_visit_on=last, next_due_on=due))
        if rng.random() < 0.4:
            for _ in range(rng.randrange(1, 4)):
                kind, desc, provider, fen = rng.choice(SERVICES)
                deliveries.append(ServiceDelivery(enrolment=e, kind=kind, description=desc, provider=provider, delivered_on=start + timedelta(days=rng.randrange(0, max((stop - start).days, 1))),
                                                  amount_fen=fen + rng.randrange(0, 5) * 1000))
    Enrolment.objects.bulk_update([e for e, _, _ in extra], ["risk_level"], batch_size=500)
    Consent.objects.bulk_create(consents, batch_size=500)
    NeedsAssessment.objects.bulk_create(assessments, batch_size=500)
    CarePlan.objects.bulk_create(plans, batch_size=500)
    Visit.objects.bulk_create(visits, batch_size=1000)
    ServiceDelivery.objects.bulk_create(deliveries, batch_size=500)
    return len(enrolments)


def _link_points(ctx: DemoContext, communities: list[OrgUnit], users: dict[str, User], today: date) -> tuple[int, int]:
    rng = ctx.rng
    tz = timezone.get_current_timezone()
    points = []
    for i, c in enumerate(communities):
        points.append(LinkPoint.objects.create(
            code=f"QQ-{c.code}", name=f"{c.name}亲情联系点", unit=c, address=f"{c.name}居委会二楼{201 + i}室",
            equipment="电脑 2 台、高清摄像头、耳麦、大屏电视", open_days="123456", opens_at=time(9, 0), closes_at=time(17, 0), slot_minutes=30,
        ))
    people = []
    for c in communities:
        pool = _people(c, today)
        people += pool["old"][:15] + pool["child"][:10]
    family = [("李建华", "儿子", "浙江宁波"), ("王芳", "女儿", "广东东莞"), ("张强", "父亲", "福建晋江"), ("刘梅", "母亲", "江苏苏州"), ("陈伟", "孙子", "上海")]
    rows = []
    for d in range(-30, 8):
        day = today + timedelta(days=d)
        for point in points:
            if str(day.isoweekday()) not in point.open_days or not people:
                continue
            for slot in rng.sample(range(16), k=rng.randrange(0, 4)):
                start = datetime.combine(day, time(9, 0), tzinfo=tz) + timedelta(minutes=30 * slot)
                if 12 <= start.hour < 13:
                    continue
                name, relation, place = rng.choice(family)
                if d < 0:
                    state = rng.choices([BookingState.USED, BookingState.NO_SHOW, BookingState.CANCELLED], weights=[8, 1, 1])[0]
                else:
                    state = BookingState.BOOKED
                rows.append(LinkBooking(
                    point=point, starts_at=start, ends_at=start + timedelta(minutes=30), person=rng.choice(people), family_name=name,
                    family_relation=relation, family_phone=f"13{rng.randrange(5, 9)}{rng.randrange(10**8):08d}", family_place=place, state=state,
                    booked_by=users.get("community"), used_minutes=rng.randrange(10, 31) if state == BookingState.USED else None,
                    usage_note="视频通话顺利" if state == BookingState.USED else "",
                ))
    LinkBooking.objects.bulk_create(rows, batch_size=500)
    return len(points), len(rows)


def _homes_and_proxies(ctx: DemoContext, communities: list[OrgUnit], today: date) -> tuple[int, int]:
    rng = ctx.rng
    homes = 0
    pairings = 0
    titles = {"children": ["周末作业辅导", "亲子视频连线", "安全教育课", "手工兴趣小组", "中秋节联欢"], "women": ["家政技能培训", "妇女健康讲座", "刺绣手工坊", "法律知识讲座"]}
    for c in communities:
        pool = _people(c, today)
        kinds = ["children", "women"] if c.code == COMMUNITY else ["children"]
        for kind in kinds:
            home = CareHome.objects.create(kind=kind, name=f"{c.name}{'留守儿童之家' if kind == 'children' else '妇女之家'}", unit=c,
                                           address=f"{c.name}综合服务中心一楼", keeper=rng.choice(["周老师", "龙主任", "杨大姐"]))
            homes += 1
            attendees = pool["child"][:25] if kind == "children" else pool["woman"][:20]
            for k in range(8):
                act = HomeActivity.objects.create(home=home, held_on=today - timedelta(days=7 * k + rng.randrange(0, 3)), title=rng.choice(titles[kind]),
                                                  description="志愿者和社区工作人员组织")
                HomeAttendance.objects.bulk_create([HomeAttendance(activity=act, person=p) for p in rng.sample(attendees, k=min(len(attendees), rng.randrange(5, 15)))])
        parents = [ProxyParent.objects.create(name=n, phone=f"139{rng.randrange(10**8):08d}", unit=c, occupation=o)
                   for n, o in (("黄秀梅", "小学教师"), ("吴丽萍", "社区医生"), ("罗春燕", "个体经营"))]
        for i, child in enumerate(pool["child"][30:38]):
            start = today - timedelta(days=rng.randrange(40, 400))
            p = ProxyPairing.objects.create(parent=parents[i % 3], child=child, unit=child.unit, started_on=start,
                                            review_due_on=start + timedelta(days=90 * (1 + (today - start).days // 90)) - timedelta(days=rng.choice([0, 0, 95])))
            for k in range(rng.randrange(2, 6)):
                ProxyMeeting.objects.create(pairing=p, met_on=min(today, start + timedelta(days=20 * (k + 1))), note=rng.choice(["陪孩子写作业、谈心", "一起去图书馆", "带孩子体检", "和孩子父母视频通话"]))
            if i == 7:
                p.ended_on, p.end_reason = today - timedelta(days=3), "父母返乡，孩子回到父母身边"
                p.save(update_fields=["ended_on", "end_reason"])
            pairings += 1
    return homes, pairings


def _homeless(ctx: DemoContext, community: OrgUnit, today: date) -> int:
    depts = {side: Department.objects.filter(code=code).first() for code, side in AGENCIES}
    if any(d is None for d in depts.values()):
        return 0
    now = timezone.now()
    stories = [
        ("中华北路地下通道", "一名六十岁左右男子夜宿通道，衣着单薄", "returned_home"),
        ("河滨公园长椅", "一名中年女子言语混乱，无法说出住址", "placed_in_care"),
        ("火车站广场", "一名老年男子咳嗽不止，发热", "medical"),
        ("大西门天桥下", "一名青年男子露宿，自述找工作未果", ""),
    ]
    for i, (place, desc, outcome) in enumerate(stories):
        case = services_more.homeless_open(actor=None, found_at=now - timedelta(days=10 - 2 * i, hours=3), found_place=place, unit=community,
                                           description=desc, holder=depts["city_management"], sex="M" if i != 1 else "F", apparent_age="60岁左右" if i in (0, 2) else "40岁左右")
        services_more.homeless_hand_off(actor=None, case=case, to_department=depts["police"], note="劝导救助，请协助核实身份")  # type: ignore[arg-type]
        services_more.homeless_update(actor=None, case=case, changes={"name_given": ["刘某", "无法说清", "赵某", "陈某"][i], "identity_notes": "经人像比对核实户籍" if i != 1 else "未能核实身份"})
        if outcome == "medical":
            services_more.homeless_hand_off(actor=None, case=case, to_department=depts["health"], note="发热咳嗽，送定点医院")  # type: ignore[arg-type]
            services_more.homeless_update(actor=None, case=case, changes={"health_notes": "肺部感染，住院治疗"})
            services_more.homeless_close(actor=None, case=case, outcome=outcome, note="定点医院收治，费用由救助资金保障", on=today - timedelta(days=2))
            continue
        if outcome:
            services_more.homeless_hand_off(actor=None, case=case, to_department=depts["civil_affairs"], note="身份已核实，移交救助站")  # type: ignore[arg-type]
            services_more.homeless_update(actor=None, case=case, changes={"assistance_notes": "提供食宿，联系家属" if outcome == "returned_home" else "联系未果，安置到市社会福利院"})
            services_more.homeless_close(actor=None, case=case, outcome=outcome, note="家属到站接回" if outcome == "returned_home" else "安置到市社会福利院长期供养",
                                         on=today - timedelta(days=1))
    return len(stories)


def report(ctx: DemoContext) -> None:
    counts = dict(Enrolment.objects.order_by().values_list("state").annotate(n=Count("id")))
    ctx.stdout.write("关爱对象：" + "，".join(f"{EnrolmentState(s).label} {counts.get(s, 0)}" for s in EnrolmentState.values))
