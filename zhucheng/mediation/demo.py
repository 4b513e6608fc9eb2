"""Demo seeder for mediation: eight committees, 137 rooms, mediators, a year of disputes in every state,
this week's sessions for the demo login ``mediator`` (杨秀英, 新华社区), agreements with PDFs, screening
rounds (last month complete, this month partly reported in 南明区) and risk assessments.

Two layers, as in the appeals seeder:

* **Stories** through the real services (a dozen disputes in 新华社区 for 杨秀英, some made from
  appeals when the appeals seeder left any): every state, agreements with their PDFs, a breach that
  reopened a dispute, a recorded threat, a conflict declaration, follow-ups, sessions this week.
* **Volume** with ``bulk_create``: disputes across the city's grids with parties (encrypted),
  sessions that never double-book a room or a mediator, agreements and terms, one risk assessment
  each. Their PDFs are drawn on first download.

Idempotent: when committee ``GY-LD`` exists the seeder does nothing.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, F, Q
from django.utils import timezone

from zhucheng.accounts.models import User
from zhucheng.core.audit import audit_record
from zhucheng.core.demo import DemoContext
from zhucheng.places.models import OrgUnit, OrgUnitKind

from . import data, outcomes, risk, screening, services
from .models import (
    Affiliation,
    Agreement,
    AgreementState,
    AgreementTerm,
    Attendance,
    Committee,
    ConflictDeclaration,
    Dispute,
    DisputeField,
    DisputeStatus,
    FollowUp,
    GridReport,
    Mediator,
    Party,
    PartySide,
    Referral,
    ReportState,
    RiskAssessment,
    Room,
    RoundState,
    ScreeningRound,
    Sequence,
    Session,
    SessionStatus,
    Source,
    TermResult,
)

ORDER = 60
ROOMS = 137
DEMO_COMMUNITY_CODE = "520102001"  # 新华社区 (places.demo.DEMO_COMMUNITY_CODE)
DEMO_DISTRICT_CODE = "520102"
DEMO_GRID_CODE = "520102001001001"
SLOTS = (9, 10, 11, 14, 15, 16)  # session start hours; each session takes one hour


@dataclass(frozen=True)
class Plan:
    disputes: int
    lawyers: int
    volunteers: int


PLANS = {"small": Plan(disputes=420, lawyers=20, volunteers=40), "full": Plan(disputes=6000, lawyers=60, volunteers=150)}


@dataclass
class Calendar:
    """Occupied (room, day, hour) and (mediator, day, hour) slots, so demo sessions never clash."""

    rooms: set[tuple[int, date, int]] = field(default_factory=set)
    mediators: set[tuple[int, date, int]] = field(default_factory=set)

    def take(self, room: int, mediator: int, day: date, hour: int) -> bool:
        if (room, day, hour) in self.rooms or (mediator, day, hour) in self.mediators:
            return False
        self.rooms.add((room, day, hour))
        self.mediators.add((mediator, day, hour))
        return True

    def find(self, rng: random.Random, room: int, mediator: int, after: date, *, days: int = 10) -> tuple[date, int] | None:
        for offset in range(days * 3):
            day = after + timedelta(days=1 + offset // 3)
            if day.weekday() >= 5:
                continue
            hour = rng.choice(SLOTS)
            if self.take(room, mediator, day, hour):
                return day, hour
        return None


def _moment(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _name(rng: random.Random) -> str:
    return rng.choice(data.SURNAMES) + "".join(rng.choice(data.GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"


def _id_number(rng: random.Random) -> str:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 50))
    tail = f"{rng.randrange(1000):03d}{rng.choice('0123456789X')}"
    return f"520102{born:%Y%m%d}{tail}"


# --- organisation -----------------------------------------------------------------------------------


def _committees(city: OrgUnit) -> dict[str, Committee]:
    Committee.objects.bulk_create(
        [Committee(code=code, name=name, field=f, unit=city, phone="0851-12348") for code, name, f in data.COMMITTEES]
    )
    return {c.field: c for c in Committee.objects.filter(code__in=[c[0] for c in data.COMMITTEES])}


def _rooms(committees: dict[str, Committee]) -> list[Room]:
    units = list(OrgUnit.objects.filter(kind__in=screening.ROUND_KINDS, is_active=True).order_by("code")[:ROOMS])
    rooms = []
    for i, unit in enumerate(units):
        if unit.kind == OrgUnitKind.TOWNSHIP:
            f = DisputeField.LAND
        else:
            f = data.COMMUNITY_ROOM_FIELDS[i % len(data.COMMUNITY_ROOM_FIELDS)]
        saturday = i % 5 == 4
        rooms.append(
            Room(
                code=f"R{unit.code}",
                name=f"{unit.name}人民调解室",
                committee=committees[f],
                unit=unit,
                address=f"{unit.name}便民服务中心二楼",
                open_days="123456" if saturday else "12345",
                hours_note="周六上午需预约" if saturday else "",
            )
        )
    Room.objects.bulk_create(rooms)
    return list(Room.objects.select_related("unit", "committee").order_by("code"))


def _mediators(ctx: DemoContext, plan: Plan, rooms: list[Room], committees: dict[str, Committee]) -> tuple[list[Mediator], Mediator]:
    rng = ctx.rng
    demo_user = User.objects.filter(username="mediator").first()
    districts = list(OrgUnit.objects.filter(kind=OrgUnitKind.DISTRICT).order_by("code"))
    rows: list[Mediator] = []
    for room in rooms:
        f = room.committee.field if room.committee else DisputeField.OTHER
        if room.unit.code == DEMO_COMMUNITY_CODE and demo_user is not None:
            rows.append(
                Mediator(
                    user=demo_user, name=demo_user.display_name or "杨秀英", phone=demo_user.phone, unit=room.unit,
                    committee=committees[DisputeField.NEIGHBOURS], fields=",neighbours,family,labour,consumer,",
                    languages="普通话、贵州方言", max_load=12,
                )
            )
            continue
        rows.append(
            Mediator(
                name=_name(rng), phone=_phone(rng), unit=room.unit, committee=room.committee,
                fields=f",{f},other,", languages=rng.choice(data.LANGUAGES[:3]), max_load=10,
            )
        )
    specialist = [DisputeField.LABOUR, DisputeField.MEDICAL, DisputeField.TRAFFIC, DisputeField.LAND, DisputeField.ENTERPRISE, DisputeField.FAMILY]
    for i in range(plan.lawyers):
        fields = rng.sample(specialist, 2)
        district = districts[0] if i < 4 else rng.choice(districts)  # a few lawyers on duty in 南明区
        rows.append(
            Mediator(
                name=_name(rng), phone=_phone(rng), unit=district, affiliation=Affiliation.LAWYER,
                committee=committees[fields[0]], fields="," + ",".join(fields) + ",", languages="普通话", max_load=6,
            )
        )
    community_rooms = [r for r in rooms if r.unit.kind == OrgUnitKind.COMMUNITY]
    demo_room = next((r for r in rooms if r.unit.code == DEMO_COMMUNITY_CODE), rooms[0])
    for i in range(plan.volunteers):
        room = demo_room if i < 3 else rng.choice(community_rooms)
        rows.append(
            Mediator(
                name=_name(rng), phone=_phone(rng), unit=room.unit, affiliation=Affiliation.HARMONY,
                fields=rng.choice((",family,neighbours,", ",neighbours,", ",family,")), languages=rng.choice(data.LANGUAGES), max_load=4,
            )
        )
    Mediator.objects.bulk_create(rows)
    mediators = list(Mediator.objects.select_related("unit", "user").order_by("pk"))
    demo = next((m for m in mediators if demo_user is not None and m.user_id == demo_user.pk), mediators[0])
    return mediators, demo


# --- stories through the services ---------------------------------------------------------------


def _story_parties(rng: random.Random, company: bool = False) -> list[services.PartyInput]:
    respondent = (
        services.PartyInput(name=rng.choice(data.COMPANIES), side=PartySide.RESPONDENT, phone=_phone(rng), is_organisation=True,
                            representative_name=_name(rng), representative_role="委托代理人")
        if company
        else services.PartyInput(name=_name(rng), side=PartySide.RESPONDENT, phone=_phone(rng), id_number=_id_number(rng))
    )
    return [services.PartyInput(name=_name(rng), side=PartySide.APPLICANT, phone=_phone(rng), id_number=_id_number(rng), address="南明区新华路"), respondent]


def _stories(ctx: DemoContext, demo: Mediator, room: Room, cal: Calendar) -> list[Dispute]:
    rng = ctx.rng
    today = timezone.localdate()
    now = timezone.now()
    monday = today - timedelta(days=today.weekday())
    grids = list(OrgUnit.objects.filter(kind=OrgUnitKind.GRID, path__startswith=room.unit.path).order_by("code"))
    volunteer = Mediator.objects.filter(unit=room.unit, affiliation=Affiliation.HARMONY).first()
    made: list[Dispute] = []

    def new(title: str, f: str, amount: int | None, *, company: bool = False, days_ago: int = 20, prior: int = 0, assign: bool = True) -> Dispute:
        facts = next((fx for t, fx in data.STORIES[f][2] if t == title), data.STORIES[f][2][0][1])
        d = services.dispute_create(
            actor=None, title=title, facts=facts, unit=rng.choice(grids) if grids else room.unit, parties=_story_parties(rng, company),
            field=f, amount_fen=None if amount is None else amount * 100, room=room, prior_appeals=prior,
        )
        received = now - timedelta(days=days_ago, hours=rng.randrange(1, 6))
        Dispute.objects.filter(pk=d.pk).update(received_at=received)
        if assign:
            services.dispute_assign(actor=None, dispute=d, mediator=demo, room=room)
            Dispute.objects.filter(pk=d.pk).update(assigned_at=received + timedelta(hours=3))
        d.refresh_from_db()
        made.append(d)
        return d

    def agree(d: Dispute, signed_days_ago: int, due_days: int | None, text: str, amount: int | None) -> Agreement:
        signed = today - timedelta(days=signed_days_ago)
        respondent = d.parties.filter(side=PartySide.RESPONDENT).first()
        terms = [outcomes.TermInput(text=text, amount_fen=None if amount is None else amount * 100,
                                    due_on=None if due_days is None else today + timedelta(days=due_days),
                                    obligor_id=respondent.pk if respondent else None),
                 outcomes.TermInput(text="双方就本纠纷再无其他争议，互不追究")]
        a = outcomes.agreement_create(actor=None, dispute=d, facts=d.facts, terms=terms, signed_on=signed)
        Dispute.objects.filter(pk=d.pk).update(agreed_at=_moment(signed, 16))
        return a

    # This week's sessions for 杨秀英 (held when already past, with minutes and attendance).
    week = [(0, 9), (1, 15), (2, 14), (3, 10), (4, 9)]

    def session(d: Dispute, weekday: int, hour: int) -> None:
        day = monday + timedelta(days=weekday)
        cal.take(room.pk, demo.pk, day, hour)
        start = _moment(day, hour, 0)
        held = start + timedelta(hours=1) < now
        s = Session.objects.create(
            dispute=d, room=room, mediator=demo, starts_at=start, ends_at=start + timedelta(hours=1),
            status=SessionStatus.HELD if held else SessionStatus.SCHEDULED, minutes=rng.choice(data.MINUTES) if held else "",
            held_at=start + timedelta(hours=1) if held else None,
        )
        Attendance.objects.bulk_create([Attendance(session=s, party=p, role=p.get_side_display(), present=True if held else None) for p in d.parties.all()])

    leak = new("楼上漏水纠纷", DisputeField.NEIGHBOURS, 8_000, days_ago=9)
    session(leak, *week[0])
    if demo.user is not None:
        services.followup_create(actor=None, dispute=leak, title="上门查看漏水维修进度", owner=demo.user, due_on=today)
        FollowUp.objects.filter(dispute=leak).update(due_on=today - timedelta(days=1))  # one overdue task on the page
    decor = new("装修质量纠纷", DisputeField.CONSUMER, 26_000, company=True, days_ago=12)
    session(decor, *week[2])
    elders = new("赡养老人纠纷", DisputeField.FAMILY, None, days_ago=15, prior=3)
    for _ in range(2):  # the elder's three children
        services.party_add(actor=None, dispute=elders, party=services.PartyInput(name=_name(rng), side=PartySide.RESPONDENT, phone=_phone(rng)))
    if volunteer is not None:
        services.conflict_declare(actor=None, dispute=elders, mediator=volunteer, has_conflict=True, note="志愿者与被申请人系同村亲属，申请回避")
    services.threat_record(actor=None, dispute=elders, note="老人称子女再不管就去跳河，已联系社区网格员每日探望")
    session(elders, *week[3])
    if demo.user:
        services.followup_create(actor=None, dispute=elders, title="每周走访老人，了解子女履行赡养情况", owner=demo.user, due_on=today + timedelta(days=2))
    injury = new("工伤赔偿纠纷", DisputeField.LABOUR, 60_000, company=True, days_ago=30)
    agree(injury, 6, 10, "公司向申请人一次性支付工伤赔偿金人民币 45,000 元", 45_000)
    parking = new("物业费纠纷", DisputeField.NEIGHBOURS, 3_600, company=True, days_ago=35)
    agree(parking, 20, -3, "业主补缴物业费人民币 3,600 元，物业公司于同日完成电梯维修", 3_600)
    deposit = new("租房押金纠纷", DisputeField.CONSUMER, 4_000, days_ago=50)
    broken = agree(deposit, 40, -10, "房东退还押金人民币 4,000 元", 4_000)
    outcomes.term_check(actor=None, term=broken.terms.get(seq=1), fulfilled=False, note="房东仅退还 1,000 元，余款拒不退还")
    session(deposit, *week[4])
    noise = new("噪音扰民纠纷", DisputeField.NEIGHBOURS, None, days_ago=60)
    done = agree(noise, 45, -20, "被申请人晚上十点后停止经营麻将室", None)
    outcomes.term_check(actor=None, term=done.terms.get(seq=1), fulfilled=True, note="回访确认已停止夜间经营")
    crash = new("交通事故赔偿纠纷", DisputeField.TRAFFIC, 85_000, days_ago=40)
    outcomes.dispute_fail(actor=None, dispute=crash, referral=Referral.COURT)
    path = new("相邻通行纠纷", DisputeField.NEIGHBOURS, None, days_ago=25)
    outcomes.dispute_withdraw(actor=None, dispute=path, reason="双方已自行清理通道，申请人撤回调解申请")
    land = new("征收补偿纠纷", DisputeField.LAND, 380_000, days_ago=45)
    services.dispute_hand_over(actor=None, dispute=land, body="南明区房屋征收管理办公室", reason="涉及征收补偿标准认定，依法由征收部门处理")
    new("邻里口角纠纷", DisputeField.OTHER, None, days_ago=1, assign=False)

    # Disputes made of appeals in 新华社区, when the appeals seeder left any (one action each).
    from zhucheng.appeals.models import Appeal

    sample = [a for a in ctx.shared.get("appeals.sample", []) if getattr(a, "unit", None) is not None]
    in_community = [a for a in sample if a.unit.path.startswith(room.unit.path)]
    if not in_community:
        in_community = list(Appeal.objects.filter(unit__path__startswith=room.unit.path).order_by("-submitted_at")[:3])
    linked = 0
    for appeal in in_community[:3]:
        if Dispute.objects.filter(appeal=appeal).exists():
            continue
        d = services.dispute_create_from_appeal(actor=None, appeal_id=appeal.pk, field=DisputeField.NEIGHBOURS)
        services.party_add(actor=None, dispute=d, party=services.PartyInput(name=_name(rng), side=PartySide.RESPONDENT, phone=_phone(rng)))
        services.dispute_assign(actor=None, dispute=d, mediator=demo, room=room)
        if linked == 0:
            session(d, *week[1])
        made.append(d)
        linked += 1
    ctx.log(f"杨秀英的纠纷 {len(made)} 件（其中由诉求转入 {linked} 件），本周调解 {len(week) if linked else len(week) - 1} 场")
    return made


# --- volume with bulk_create ---------------------------------------------------------------------


@dataclass
class Bulk:
    disputes: list[Dispute] = field(default_factory=list)
    parties: list[list[Party]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)


def _codes(prefix: str, name: str, years: list[int], fmt: str) -> list[str]:
    """Reserve numbers of a per-year counter for bulk rows (in the given order)."""
    per_year = Counter(years)
    start: dict[int, int] = {}
    for year, n in per_year.items():
        seq, _ = Sequence.objects.get_or_create(name=name, year=year)
        start[year] = seq.last
        Sequence.objects.filter(pk=seq.pk).update(last=F("last") + n)
    out = []
    for year in years:
        start[year] += 1
        out.append(fmt.format(prefix=prefix, year=year, n=start[year]))
    return out


def _fate(rng: random.Random, age_days: float) -> str:
    if age_days < 7:
        return rng.choice((DisputeStatus.RECEIVED, DisputeStatus.MEDIATING, DisputeStatus.MEDIATING))
    return rng.choices(
        ["fulfilled", "performing", "failed", "withdrawn", "handed_over", "reopened", "mediating"],
        weights=[55, 10, 14, 7, 3, 3, 8],
    )[0]


def _volume(ctx: DemoContext, plan: Plan, rooms: list[Room], mediators: list[Mediator], demo: Mediator, committees: dict[str, Committee], cal: Calendar) -> int:
    rng = ctx.rng
    now = timezone.now()
    today = timezone.localdate()
    room_by_code = {r.unit.code: r for r in rooms}
    staff_by_unit = {m.unit_id: m for m in mediators if m.affiliation == Affiliation.STAFF and m.pk != demo.pk}
    lawyers_by_district: dict[str, list[Mediator]] = {}
    for m in mediators:
        if m.affiliation == Affiliation.LAWYER:
            lawyers_by_district.setdefault(m.unit.code, []).append(m)
    all_lawyers = [m for ms in lawyers_by_district.values() for m in ms]
    grids = list(OrgUnit.objects.filter(kind=OrgUnitKind.GRID, is_active=True).values_list("pk", "path"))
    demo_district = [g for g in grids if f"/{DEMO_DISTRICT_CODE}/" in g[1]]
    fields = list(data.STORIES)
    weights = [data.STORIES[f][0] for f in fields]
    specs = risk.factors()
    bulk = Bulk()
    for _ in range(plan.disputes):
        grid_id, path = rng.choice(demo_district) if rng.random() < 0.35 else rng.choice(grids)
        codes = path.strip("/").split("/")
        room = next((room_by_code[c] for c in codes if c in room_by_code), None)
        f = rng.choices(fields, weights=weights)[0]
        _, amounts, stories = data.STORIES[f]
        title, facts = rng.choice(stories)
        received = now - timedelta(days=rng.uniform(0.2, 365))
        age = (now - received).total_seconds() / 86400
        fate = _fate(rng, age)
        mediator = None
        if fate != DisputeStatus.RECEIVED:
            district = codes[1] if len(codes) > 1 else ""
            local = staff_by_unit.get(room.unit_id) if room is not None else None
            mediator = local if local is not None and rng.random() < 0.75 else rng.choice(lawyers_by_district.get(district) or all_lawyers)
        amount = rng.randrange(*amounts) * 100 if amounts and rng.random() < 0.85 else None
        prior = rng.choices((0, 1, 2, 3), weights=(70, 18, 8, 4))[0]
        threat = fate in (DisputeStatus.MEDIATING, "reopened") and rng.random() < 0.06
        d = Dispute(
            title=title, facts=facts, field=f, amount_fen=amount, urgency="urgent" if rng.random() < 0.08 else "normal",
            source=Source.WALK_IN, unit_id=grid_id, room=room, mediator=mediator,
            committee=committees.get(f) or (room.committee if room else None), prior_appeals=prior,
            received_at=received, assigned_at=received + timedelta(hours=rng.randrange(2, 30)) if mediator else None,
            threat_recorded_at=received + timedelta(days=1) if threat else None,
            threat_note="当事人情绪激动，扬言采取过激行为，已报告社区" if threat else "",
        )
        bulk.disputes.append(d)
        bulk.plans.append({"fate": fate, "age": age})
        bulk.parties.append([
            Party(side=PartySide.APPLICANT, name=_name(rng), phone=_phone(rng), id_number=_id_number(rng)),
            Party(side=PartySide.RESPONDENT, name=_name(rng) if rng.random() < 0.7 else rng.choice(data.COMPANIES), phone=_phone(rng)),
        ])

    # Outcomes, in memory first.
    for d, p in zip(bulk.disputes, bulk.plans, strict=True):
        fate, received = p["fate"], d.received_at
        if fate == DisputeStatus.RECEIVED:
            continue
        agreed = received + timedelta(days=rng.uniform(1, 25))
        if fate in ("fulfilled", "performing", "reopened") and agreed < now - timedelta(hours=2):
            d.agreed_at = agreed
            signed = timezone.localdate(agreed)
            if fate == "fulfilled":
                due = signed + timedelta(days=rng.randrange(0, 30))
                if due >= today:
                    fate = "performing"
            elif fate == "reopened":
                due = signed + timedelta(days=rng.randrange(0, 20))
                if due >= today:
                    fate = "performing"
            if fate == "performing":
                due = max(signed, today) + timedelta(days=rng.randrange(-5, 40))
            p.update(fate=fate, signed=signed, due=due)
            if fate == "fulfilled":
                d.status = DisputeStatus.FULFILLED
                d.concluded_at = min(now, _moment(due, 17))
            elif fate == "reopened":
                d.status = DisputeStatus.REOPENED
                d.reopened_at, d.reopened_count = min(now, _moment(due + timedelta(days=2), 10)), 1
            else:
                d.status = DisputeStatus.AGREED
        elif fate == "failed" and agreed < now:
            d.status, d.concluded_at, d.referral = DisputeStatus.FAILED, agreed, Referral.COURT
            d.referral_guidance = outcomes.default_guidance(Referral.COURT, d.field)
        elif fate == "withdrawn" and agreed < now:
            d.status, d.concluded_at, d.withdrawn_reason = DisputeStatus.WITHDRAWN, agreed, "双方自行和解，申请人撤回"
        elif fate == "handed_over" and agreed < now:
            d.status, d.concluded_at = DisputeStatus.HANDED_OVER, agreed
            d.handed_over_to, d.handover_reason = "区信访局", "涉及多个部门职责，移交综合处置"
        else:
            d.status = DisputeStatus.MEDIATING
            p["fate"] = "mediating"
        # Risk from the same inputs the assessment uses (two parties each; a breach is a missed deadline).
        values = {
            "parties": 2.0,
            "amount": (d.amount_fen or 0) / 100,
            "repeat_appeals": float(d.prior_appeals),
            "missed_deadlines": 1.0 if d.status == DisputeStatus.REOPENED else 0.0,
            "threats": 1.0 if d.threat_recorded_at else 0.0,
        }
        total, contributions = risk.score(values, specs)
        d.risk_score, d.risk_level, d.risk_assessed_at = total, risk.level_for(total), d.assigned_at or received
        p["contributions"] = [asdict(c) for c in contributions]
    for d in bulk.disputes:
        if d.risk_score is None:
            total, contributions = risk.score({"parties": 2.0, "amount": (d.amount_fen or 0) / 100, "repeat_appeals": float(d.prior_appeals)}, specs)
            d.risk_score, d.risk_level, d.risk_assessed_at = total, risk.level_for(total), d.received_at

    order = sorted(range(len(bulk.disputes)), key=lambda i: bulk.disputes[i].received_at)
    codes = _codes("TJ", "dispute", [timezone.localtime(bulk.disputes[i].received_at).year for i in order], "{prefix}{year}-{n:06d}")
    for i, code in zip(order, codes, strict=True):
        bulk.disputes[i].code = code
    Dispute.objects.bulk_create(bulk.disputes, batch_size=500)
    for d, ps in zip(bulk.disputes, bulk.parties, strict=True):
        for party in ps:
            party.dispute = d
    Party.objects.bulk_create([p for ps in bulk.parties for p in ps], batch_size=500)
    RiskAssessment.objects.bulk_create(
        [
            RiskAssessment(dispute=d, assessed_at=d.risk_assessed_at or d.received_at, score=d.risk_score, level=d.risk_level, contributions=p.get("contributions", []), note="受理时自动评估")
            for d, p in zip(bulk.disputes, bulk.plans, strict=True)
            if d.risk_score is not None
        ],
        batch_size=500,
    )

    # Sessions: one held before each outcome, and one ahead for disputes still being mediated.
    sessions: list[Session] = []
    session_parties: list[list[Party]] = []
    for d, ps, p in zip(bulk.disputes, bulk.parties, bulk.plans, strict=True):
        if d.mediator_id is None or d.room_id is None:
            continue
        start_day = timezone.localdate(d.received_at)
        slot = cal.find(rng, d.room_id, d.mediator_id, start_day)
        if slot is not None and _moment(*slot) + timedelta(hours=1) < now:
            start = _moment(*slot)
            sessions.append(Session(dispute=d, room_id=d.room_id, mediator_id=d.mediator_id, starts_at=start, ends_at=start + timedelta(hours=1),
                                    status=SessionStatus.HELD, minutes=rng.choice(data.MINUTES), held_at=start + timedelta(hours=1)))
            session_parties.append(ps)
        if p["fate"] in ("mediating", "reopened") and rng.random() < 0.5:
            slot = cal.find(rng, d.room_id, d.mediator_id, today, days=12)
            if slot is not None and _moment(*slot) > now:
                start = _moment(*slot)
                sessions.append(Session(dispute=d, room_id=d.room_id, mediator_id=d.mediator_id, starts_at=start, ends_at=start + timedelta(hours=1)))
                session_parties.append(ps)
    Session.objects.bulk_create(sessions, batch_size=500)
    Attendance.objects.bulk_create(
        [
            Attendance(session=s, party=party, role=party.get_side_display(), present=True if s.status == SessionStatus.HELD else None)
            for s, ps in zip(sessions, session_parties, strict=True)
            for party in ps
        ],
        batch_size=1000,
    )

    # Agreements and their terms.
    with_agreement = [(d, ps, p) for d, ps, p in zip(bulk.disputes, bulk.parties, bulk.plans, strict=True) if "signed" in p]
    numbers = _codes("", "agreement", [p["signed"].year for _, _, p in with_agreement], "（{year}）筑调协字第{n:05d}号")
    agreements = []
    for (d, _, p), number in zip(with_agreement, numbers, strict=True):
        state = {"fulfilled": AgreementState.FULFILLED, "reopened": AgreementState.BREACHED}.get(p["fate"], AgreementState.PERFORMING)
        agreements.append(Agreement(dispute=d, number=number, facts=d.facts, signed_on=p["signed"], state=state))
    Agreement.objects.bulk_create(agreements, batch_size=500)
    terms = []
    for a, (d, ps, p) in zip(agreements, with_agreement, strict=True):
        result = {"fulfilled": TermResult.FULFILLED, "reopened": TermResult.BREACHED}.get(p["fate"], TermResult.PENDING)
        checked = _moment(p["due"], 10) if result != TermResult.PENDING else None
        text = f"{ps[1].name}向{ps[0].name}支付人民币 {(d.amount_fen or 100_000) * 6 // 10 // 100:,} 元" if d.amount_fen else "被申请人停止侵害并赔礼道歉"
        terms.append(AgreementTerm(agreement=a, seq=1, text=text, obligor=ps[1], amount_fen=(d.amount_fen or 0) * 6 // 10 or None, due_on=p["due"],
                                   result=result, checked_at=checked, check_note="回访核实" if checked else ""))
        terms.append(AgreementTerm(agreement=a, seq=2, text="双方就本纠纷再无其他争议", result=TermResult.FULFILLED, checked_at=d.agreed_at, check_note="签订协议时当场履行"))
    AgreementTerm.objects.bulk_create(terms, batch_size=500)
    return len(bulk.disputes)


# --- screening rounds ----------------------------------------------------------------------------


def _screening(ctx: DemoContext) -> tuple[int, float | None]:
    rng = ctx.rng
    now = timezone.now()
    this_month = screening.month_start()
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    screening.rounds_open(month=last_month)
    screening.rounds_open(month=this_month)

    def mark(ids: list[int], state: str, start: datetime, end: datetime) -> None:
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            found = state == ReportState.FOUND
            GridReport.objects.filter(pk__in=chunk).update(
                state=state,
                reported_at=start + (end - start) * rng.random(),
                disputes_found=1 if found else 0,
                risks_found=rng.choice((0, 1)) if found else 0,
                note=rng.choice(data.FOUND_NOTES) if found else "",
            )

    last = list(GridReport.objects.filter(round__month=last_month).values_list("pk", flat=True))
    found = [i for i in last if rng.random() < 0.08]
    found_set = set(found)
    last_start = _moment(last_month, 9)
    mark(found, ReportState.FOUND, last_start, last_start + timedelta(days=20))
    mark([i for i in last if i not in found_set], ReportState.NONE_FOUND, last_start, last_start + timedelta(days=20))
    ScreeningRound.objects.filter(month=last_month).update(state=RoundState.CLOSED, closed_at=_moment(this_month, 9) - timedelta(days=2))

    start = _moment(this_month, 8)
    end = max(now - timedelta(minutes=5), start)
    current = list(GridReport.objects.filter(round__month=this_month).exclude(grid__code=DEMO_GRID_CODE).values_list("pk", "grid__path"))

    def share(path: str) -> float:
        return 0.55 if f"/{DEMO_DISTRICT_CODE}/" in path else 0.8  # 南明区 lags behind this month

    reported = [pk for pk, path in current if rng.random() < share(path)]
    found_now = [pk for pk in reported if rng.random() < 0.06]
    found_now_set = set(found_now)
    mark(found_now, ReportState.FOUND, start, end)
    mark([pk for pk in reported if pk not in found_now_set], ReportState.NONE_FOUND, start, end)
    total = GridReport.objects.filter(round__month=this_month, grid__path__contains=f"/{DEMO_DISTRICT_CODE}/").count()
    done = GridReport.objects.filter(round__month=this_month, grid__path__contains=f"/{DEMO_DISTRICT_CODE}/").exclude(state=ReportState.PENDING).count()
    return len(current) + 1, (round(100 * done / total, 1) if total else None)


# --- entry points --------------------------------------------------------------------------------


def seed(ctx: DemoContext) -> None:
    if Committee.objects.filter(code=data.COMMITTEES[0][0]).exists():
        ctx.log("调解数据已存在，跳过")
        return
    plan = PLANS.get(ctx.size, PLANS["full"] if ctx.size == "city" else PLANS["small"])
    city: OrgUnit = ctx.shared.get("places.city") or OrgUnit.objects.get(parent__isnull=True, kind=OrgUnitKind.CITY)
    committees = _committees(city)
    rooms = _rooms(committees)
    mediators, demo = _mediators(ctx, plan, rooms, committees)
    demo_room = next((r for r in rooms if r.unit.code == DEMO_COMMUNITY_CODE), rooms[0])
    cal = Calendar()
    stories = _stories(ctx, demo, demo_room, cal)
    reports, coverage = _screening(ctx)
    n = _volume(ctx, plan, rooms, mediators, demo, committees, cal)
    swept = outcomes.sweep()
    audit_record(
        actor=None,
        act="mediation.seed",
        changed_fields=["status"],
        reason=f"demo size={ctx.size}: committees={len(committees)} rooms={len(rooms)} mediators={len(mediators)} "
        f"disputes={n + len(stories)} grid reports={reports}; checks opened={swept.checks_opened}",
    )
    ctx.shared["mediation.demo_mediator"] = demo
    ctx.log(
        f"调解委员会 {len(committees)} 个，调解室 {len(rooms)} 间，调解员 {len(mediators)} 名；纠纷 {n + len(stories)} 件；"
        f"本月网格排查报告 {reports} 份（南明区已上报 {coverage}%）；履行回访 {swept.checks_opened} 项"
    )


def report(ctx: DemoContext) -> None:
    counts = dict(Dispute.objects.order_by().values_list("status").annotate(n=Count("id")))
    ctx.stdout.write("矛盾纠纷状态：" + ",".join(f"{DisputeStatus(s).label} {counts.get(s, 0)}" for s in DisputeStatus.values))
    high = Dispute.objects.filter(risk_level="high").filter(~Q(status__in=["fulfilled", "failed", "withdrawn", "handed_over"])).count()
    ctx.stdout.write(f"高风险在办纠纷 {high} 件；冲突声明 {ConflictDeclaration.objects.count()} 条")
