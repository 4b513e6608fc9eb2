"""Demo seeder for appeals: routing rules, a year of handled appeals, open work in every state, and the router's model.

Three layers, so the demo is both big enough to measure and true in its details:

* **History and volume** (``bulk_create`` in batches): appeals with the texts of
  ``data/training.py``, placed at points inside real demo grids of the district their text
  names, submitted over ``Plan.window_days``. Each follows a planned life (registered, assigned by
  the routing rules, started, replied, rated, closed; some declined with the right channel, some
  merged as repeats, some returned after an unsatisfied rating, some late) cut off at "now", so
  the recent ones are still open in whatever state their plan had reached. Backlog cases stall
  after signing and sit past their deadline in every age bucket.
* **Stories** (``demo_stories.py``: the real services, a few dozen appeals): one per interesting
  state, in the demo logins' units, so every login opens on real work with a real timeline.
* **The router's model**, trained on the generated texts before the stories are submitted, so
  their category suggestions already work.

Idempotent: demo appeals carry ``source_ref`` "DEMO-…"; when one exists the seeder does nothing.
Sizes: ``small`` ≈ 3,000 appeals (about 10 s on SQLite, 4 s of it training the router), ``full`` ≈ 50,000.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from zhucheng.accounts.demo import DEMO_ACCOUNTS
from zhucheng.accounts.models import User
from zhucheng.core.audit import audit_record
from zhucheng.core.crypto import keyed_hash
from zhucheng.core.demo import DemoContext
from zhucheng.places.models import Department, OrgUnit, OrgUnitKind

from . import deadlines, routing
from .data.categories import DEFAULT_DEPARTMENT
from .data.training import TrainingText, generate
from .intake import CODE_PREFIX
from .models import (
    Appeal,
    AppealEvent,
    AppealKind,
    Assignment,
    AssignmentState,
    Category,
    Channel,
    CodeSequence,
    DeadlinePolicy,
    DeclineRoute,
    DuplicateCandidate,
    DuplicateDecision,
    Feedback,
    Outcome,
    Petitioner,
    Reply,
    Review,
    ReviewDecision,
    RoutingRule,
    Satisfaction,
    Status,
    Supervision,
    SupervisionKind,
    Urgency,
)

ORDER = 40
DEMO_REF = "DEMO-"
BATCH = 2000
RULE_NOTE = "演示数据：默认分派"


@dataclass(frozen=True)
class Plan:
    history: int  # appeals submitted over the window (most of them closed by now)
    recent: int  # appeals of the last fortnight (mostly open)
    backlog: int  # open appeals stalled past their deadline, spread over the age buckets
    window_days: int
    train_texts: int
    train_folds: int


PLANS = {
    "small": Plan(history=2600, recent=260, backlog=120, window_days=365, train_texts=2000, train_folds=3),
    "full": Plan(history=45000, recent=3000, backlog=1500, window_days=730, train_texts=6000, train_folds=5),
}
# Backlog age buckets (days since submission), as selectors.AGE_BUCKETS counts them.
BACKLOG_AGES = ((8, 29), (30, 89), (90, 179), (180, 364), (365, 540))
# District-specific routing that differs from the city-wide default: (district code, leaf, department, why).
OVERRIDES = (
    ("520102", "JT03", "D07", "南明区城区道路由区城管部门养护"),
    ("520115", "ZF03", "D07", "观山湖区夜间施工噪音由城管执法"),
    ("520181", "CG03", "D08", "清镇市农村违法用地建房由自然资源部门查处"),
    ("520121", "CG03", "D08", "开阳县农村违法用地建房由自然资源部门查处"),
    ("520111", "HJ04", "D07", "花溪区餐饮油烟由城管部门查处"),
)
# Where the demo logins' appeals are placed: the community, its first grid, and the second community.
SHARE_COMMUNITY, SHARE_GRID, SHARE_COMMUNITY2 = 0.30, 0.12, 0.12

REPLIES = {
    Outcome.SUPPORT: (
        "经核实，您反映的“{cat}”问题属实。{dept}已安排工作人员现场处理，目前问题已解决。感谢您对我们工作的监督和支持。",
        "您好，针对您反映的问题，{dept}已会同属地社区现场核查并整改完毕，后续将加强日常巡查，防止问题反弹。",
        "经调查，您的诉求合理。{dept}已责成相关单位限期整改，现已整改到位，如仍有问题请再次来电反映。",
    ),
    Outcome.EXPLAIN: (
        "您好，经核实，您反映的“{cat}”问题涉及多个部门和历史原因，{dept}已向您说明相关政策及办理进度，并将持续跟进。",
        "经了解，该事项已列入今年的整治计划，预计在年内分批实施。{dept}已电话向您解释说明，感谢理解。",
    ),
    Outcome.NOT_SUPPORT: (
        "经调查核实，您的诉求不符合相关政策规定，依法不予支持。{dept}已向您说明依据；如不服本答复，可在收到之日起30日内申请复查。",
        "经核查，该事项已按规定办理完毕，您提出的要求缺乏政策依据，{dept}不予支持，已当面做好解释工作。",
    ),
}
DECLINES = {
    "LD01": ("属劳动报酬争议，依法应通过劳动人事争议仲裁解决。", DeclineRoute.ARBITRATION),
    "ZA03": ("该纠纷已进入诉讼程序，依法由人民法院处理。", DeclineRoute.COURT),
    "ZF05": ("对征收补偿决定不服，应依法申请行政复议。", DeclineRoute.ADMIN_REVIEW),
    "": ("反映公职人员违纪问题，请向纪检监察机关反映。", DeclineRoute.DISCIPLINE),
}
UNSATISFIED = ("问题还是没有解决，只是打了个电话。", "处理不彻底，过几天又恢复原样了。", "没有人到现场看过，答复和实际情况不符。")
SUPERVISE = ("该件已超期，请于3个工作日内办结并反馈。", "群众反映强烈，请主要负责人亲自督办，按期答复。")
LEADER = ("请住建部门牵头，会同属地社区拿出化解方案，一周内向我汇报。", "此件由我包案，请逐户走访，做好解释和帮扶工作。")


# --- the demo city as the seeder needs it -------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    id: int
    code: str
    path: str
    rect: tuple[float, float, float, float]  # lon0, lat0, lon1, lat1

    def point(self, rng: random.Random) -> tuple[float, float]:
        """(lat, lon) inside the rectangle, away from the edges (so locate() finds this grid)."""
        x0, y0, x1, y1 = self.rect
        mx, my = (x1 - x0) * 0.15, (y1 - y0) * 0.15
        return round(rng.uniform(y0 + my, y1 - my), 6), round(rng.uniform(x0 + mx, x1 - mx), 6)

    def unit(self) -> OrgUnit:
        return OrgUnit(pk=self.id, code=self.code, path=self.path, kind=OrgUnitKind.GRID)


@dataclass
class World:
    now: datetime
    departments: dict[str, Department]
    dispatch: Department
    categories: dict[str, Category]
    policies: dict[tuple[str, str], DeadlinePolicy]
    grids_by_district: dict[str, list[Grid]]
    district_names: dict[str, str]  # name → code
    community: list[Grid]  # 新华社区's grids
    community2: list[Grid]
    demo_grid: Grid
    users: dict[str, User]
    grids: dict[int, Grid] = field(default_factory=dict)
    routes: dict[tuple[int, int], tuple[Department | None, int | None]] = field(default_factory=dict)

    def policy(self, kind: str, urgency: str) -> DeadlinePolicy:
        return self.policies.get((kind, urgency)) or self.policies[(kind, "")]

    def route(self, category: Category, grid: Grid) -> tuple[Department | None, int | None]:
        key = (category.pk, grid.id)
        if key not in self.routes:
            r = routing.route(category=category, unit=grid.unit())
            self.routes[key] = (r.department, r.unit.pk if r.unit is not None else None)
        return self.routes[key]


def _rect(boundary: Any) -> tuple[float, float, float, float]:
    ring = boundary["coordinates"][0]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return min(xs), min(ys), max(xs), max(ys)


def _world(ctx: DemoContext) -> World:
    city: OrgUnit = ctx.shared["places.city"]
    units: dict[str, OrgUnit] = ctx.shared["places.demo_units"]
    by_district: dict[str, list[Grid]] = {}
    for gid, code, path, boundary in OrgUnit.objects.filter(kind=OrgUnitKind.GRID, path__startswith=city.path).values_list(
        "id", "code", "path", "boundary"
    ):
        by_district.setdefault(path.split("/")[2], []).append(Grid(gid, code, path, _rect(boundary)))
    for grids in by_district.values():
        grids.sort(key=lambda g: g.code)
    names = dict(OrgUnit.objects.filter(kind=OrgUnitKind.DISTRICT, parent=city).values_list("name", "code"))
    district = units["district"].code
    in_unit = {
        key: [g for g in by_district[district] if g.path.startswith(units[key].path)] for key in ("community", "community2")
    }
    users = {a.username: User.objects.get(username=a.username) for a in DEMO_ACCOUNTS}
    users["resident"] = next(u for u in users.values() if u.is_resident)
    return World(
        now=timezone.now(),
        departments=ctx.shared["places.departments"],
        dispatch=ctx.shared["places.dispatch_centre"],
        categories={c.code: c for c in Category.objects.filter(parent__isnull=False)},
        policies={(p.kind, p.urgency): p for p in DeadlinePolicy.objects.filter(is_active=True)},
        grids_by_district=by_district,
        district_names=names,
        community=in_unit["community"],
        community2=in_unit["community2"],
        demo_grid=next(g for g in by_district[district] if g.code == units["grid"].code),
        users=users,
    )


def _seed_rules(w: World, city: OrgUnit) -> int:
    """City-wide rules per leaf from DEFAULT_DEPARTMENT, and the districts' own exceptions."""
    made = 0
    for leaf, dept_code in DEFAULT_DEPARTMENT.items():
        _, new = RoutingRule.objects.get_or_create(
            category=w.categories[leaf], unit=None, defaults={"department": w.departments[dept_code], "note": RULE_NOTE}
        )
        made += new
    districts = {u.code: u for u in OrgUnit.objects.filter(parent=city)}
    for district, leaf, dept_code, why in OVERRIDES:
        if district in districts:
            _, new = RoutingRule.objects.get_or_create(
                category=w.categories[leaf], unit=districts[district], defaults={"department": w.departments[dept_code], "note": why}
            )
            made += new
    routing.clear_cache()
    return made


def _train(ctx: DemoContext, plan: Plan, texts: list[TrainingText]) -> None:
    try:
        from . import classifier
    except ImportError:  # the classifier module is optional for the rest of the demo
        ctx.log("分类模型未训练：classifier 模块不可用")
        return
    report = classifier.train(
        texts=[t.text for t in texts[: plan.train_texts]], labels=[t.category for t in texts[: plan.train_texts]], folds=plan.train_folds
    )
    classifier.clear_cache()
    ctx.log(f"分类模型：{report.n} 条样本，交叉验证准确率 {report.accuracy:.1%}（{report.model_version}）")


# --- bulk: planned lives cut off at "now" ----------------------------------------------------------


class _Life:
    """One bulk appeal and the rows its life leaves behind, built in memory."""

    def __init__(self, w: World, appeal: Appeal, rng: random.Random, phone: str, name: str) -> None:
        self.w, self.a, self.rng = w, appeal, rng
        self.petitioner = Petitioner(name=name, phone=phone, is_primary=True)
        self.events: list[AppealEvent] = []
        self.assignments: list[Assignment] = []
        self.replies: list[Reply] = []
        self.feedback: list[Feedback] = []
        self.supervisions: list[Supervision] = []
        self.reviews: list[Review] = []
        self.duplicates: list[DuplicateCandidate] = []
        self.repeat_of: Appeal | None = None

    def event(self, act: str, at: datetime, to: str, *, who: str = "", note: str = "", dept: Department | None = None,
              public: bool = True) -> None:
        self.events.append(
            AppealEvent(appeal=self.a, act=act, actor_label=who or self.w.dispatch.name, department=dept,
                        from_status=self.a.status, to_status=to, note=note, is_public=public, at=at)
        )
        self.a.status = to

    def hours(self, lo: float, hi: float) -> timedelta:
        return timedelta(hours=self.rng.uniform(lo, hi))


def _live(life: _Life, *, fate: str, original: Appeal | None) -> None:
    """Walk the appeal through its planned life, stopping at the first step that lies after now."""
    w, a, rng, now = life.w, life.a, life.rng, life.w.now
    pol = w.policy(a.kind, a.urgency)
    due = deadlines.due_after
    a.register_due = due(a.submitted_at, pol.register_amount, pol.register_unit)
    a.due_at = a.register_due
    life.event("submit", a.submitted_at, Status.SUBMITTED, who="诉求人" if a.channel == Channel.PORTAL else "", note=str(Channel(a.channel).label))
    assert a.category is not None
    if fate == "declined":
        at = a.submitted_at + life.hours(1, 40)
        if at > now:
            return
        reason, route = DECLINES.get(a.category.code, DECLINES[""])
        a.decline_reason, a.decline_route, a.closed_at, a.due_at = reason, route, at, None
        life.event("decline", at, Status.DECLINED, note=f"{reason}（请通过{DeclineRoute(route).label}依法解决）")
        return
    if fate == "merged" and original is not None:
        at = a.submitted_at + life.hours(1, 20)
        if at > now:
            return
        life.repeat_of, a.closed_at, a.due_at = original, at, None
        life.duplicates.append(DuplicateCandidate(appeal=a, other=original, score=0.86, reason="same_petitioner",
                                                  decision=DuplicateDecision.MERGED, decided_at=at))
        life.event("merge", at, Status.MERGED, note=f"并入 {original.code}")
        return
    late_register = rng.random() < 0.03
    at = (a.register_due + life.hours(1, 30)) if late_register else a.submitted_at + life.hours(0.2, 6)
    if at > now:
        return
    a.registered_at = at
    a.reply_due = due(at, pol.reply_amount, pol.reply_unit)
    a.due_at = a.reply_due
    life.event("register", at, Status.REGISTERED)
    at += life.hours(0.1, 3)
    if at > now:
        return
    dept, unit_id = w.route(a.category, _grid_of(w, a))
    a.department, a.assigned_at = dept, at
    if a.kind == AppealKind.APPEAL:
        a.reply_due = due(at, pol.reply_amount, pol.reply_unit)
    a.due_at = a.reply_due
    lead = Assignment(appeal=a, department=dept, unit_id=None if dept else unit_id, assigned_at=at,
                      objection_due=due(at, pol.objection_working_days, "working"))
    life.assignments.append(lead)
    handler = dept.name if dept else "社区"
    life.event("assign", at, Status.ASSIGNED, note=handler, dept=dept)
    at += life.hours(0.2, 20)
    if at > now:
        return
    life.event("start", at, Status.IN_PROGRESS, who=handler, dept=dept)
    assert a.reply_due is not None
    if fate == "stalled":
        _stall(life)
        return
    taken_up = at + life.hours(1, 24)
    if taken_up < now and rng.random() < (0.08 if a.kind == AppealKind.PETITION else 0.012):
        life.supervisions.append(Supervision(appeal=a, kind=SupervisionKind.LEADER, leader_name=w.users["leader"].display_name,
                                             by=w.users["leader"], instructions=rng.choice(LEADER), created_at=taken_up,
                                             due_at=taken_up + timedelta(days=7)))
    for round_ in (1, 2):
        late = rng.random() < (0.10 if round_ == 1 else 0.2)
        window = max((a.reply_due - at).total_seconds() / 3600, 1.0)
        replied = a.reply_due + life.hours(2, 240) if late else at + life.hours(0.05 * window, 0.95 * window)
        if late and rng.random() < 0.5 and a.reply_due + timedelta(days=1) < min(replied, now):
            life.supervisions.append(Supervision(appeal=a, kind=SupervisionKind.SUPERVISION, by=w.users["supervisor"],
                                                 instructions=rng.choice(SUPERVISE), created_at=a.reply_due + timedelta(days=1),
                                                 due_at=a.reply_due + timedelta(days=4), is_escalation=True))
            a.escalated_at = a.reply_due + timedelta(days=1)
        if replied > now:
            return
        outcome = rng.choices(list(Outcome), weights=(62, 30, 8) if round_ == 1 else (45, 50, 5))[0]
        text = rng.choice(REPLIES[outcome]).format(cat=a.category.name, dept=handler)
        reply = Reply(appeal=a, department=dept, outcome=outcome, text=text, created_at=replied, on_time=replied <= a.reply_due)
        life.replies.append(reply)
        a.replied_at, a.due_at = replied, None
        life.event("reply", replied, Status.REPLIED, who=handler, note=f"【{outcome.label}】{text}", dept=dept)
        closes_at = replied + timedelta(days=rng.uniform(3, 7))
        rating: str | None = None
        if rng.random() < 0.78:
            weights = {Outcome.SUPPORT: (78, 17, 5), Outcome.EXPLAIN: (55, 30, 15), Outcome.NOT_SUPPORT: (25, 30, 45)}[outcome]
            rating = rng.choices(list(Satisfaction), weights=weights)[0]
            rated = replied + life.hours(2, 72)
            if rated > now:
                return
            comment = rng.choice(UNSATISFIED) if rating == Satisfaction.UNSATISFIED else ""
            life.feedback.append(Feedback(appeal=a, reply=reply, department=dept, department_rating=rating,
                                          centre_rating=rating, comment=comment, created_at=rated))
            if rating == Satisfaction.UNSATISFIED and round_ == 1:
                if pol.unsatisfied_goes_to_review:
                    _review(life, rated, comment)
                    return
                a.reply_due = due(rated, pol.reply_amount, pol.reply_unit)
                a.due_at = a.reply_due
                life.event("feedback_returned", rated, Status.IN_PROGRESS, who="诉求人", note=f"不满意 {comment}")
                at = rated
                continue
            life.event("feedback", rated, Status.FEEDBACK, who="诉求人", note=str(Satisfaction(rating).label))
            closes_at = rated + life.hours(1, 48)
        if closes_at > now:
            return
        a.closed_at = closes_at
        a.resolved = rating != Satisfaction.UNSATISFIED if rating else outcome != Outcome.NOT_SUPPORT
        lead.state, lead.ended_at = AssignmentState.DONE, closes_at
        for s in life.supervisions:
            s.closed_at = s.closed_at or closes_at
        life.event("close", closes_at, Status.CLOSED)
        return


def _review(life: _Life, at: datetime, reason: str) -> None:
    """A petition rated unsatisfied goes to review (复查); most are upheld within the 30 days."""
    a, rng, now = life.a, life.rng, life.w.now
    review = Review(appeal=a, level=1, reason=reason or "对答复不满意", requested_at=at, due_at=at + timedelta(days=30))
    life.reviews.append(review)
    a.due_at = review.due_at
    life.event("feedback_to_review", at, Status.UNDER_REVIEW, who="诉求人", note=reason)
    decided = at + timedelta(days=rng.uniform(5, 28))
    if decided > now:
        return
    review.decision, review.decided_at, review.decided_by = ReviewDecision.UPHELD, decided, life.w.users["supervisor"]
    review.decision_text = "经复查，原答复认定事实清楚，适用政策正确，予以维持。"
    a.closed_at, a.resolved, a.due_at = decided, False, None
    life.event("review_upheld", decided, Status.CLOSED, note=review.decision_text)


def _stall(life: _Life) -> None:
    """A backlog case: signed for and never answered; escalated by the sweep, some taken up by a leader."""
    a, rng, w = life.a, life.rng, life.w
    assert a.reply_due is not None
    at = a.reply_due + timedelta(days=1)
    if at < w.now and rng.random() < 0.5:
        life.supervisions.append(Supervision(appeal=a, kind=SupervisionKind.SUPERVISION, instructions=rng.choice(SUPERVISE),
                                             created_at=at, due_at=at + timedelta(days=4), is_escalation=True))
        a.escalated_at = at
        life.event("escalate", at, a.status, who="系统", note="超期自动升级督办", public=False)
    if (w.now - a.submitted_at).days > 90 and rng.random() < 0.2:
        life.supervisions.append(Supervision(appeal=a, kind=SupervisionKind.LEADER, by=w.users["leader"],
                                             leader_name=w.users["leader"].display_name, instructions=rng.choice(LEADER),
                                             created_at=a.reply_due + timedelta(days=10), due_at=a.reply_due + timedelta(days=17)))


def _grid_of(w: World, a: Appeal) -> Grid:
    if not w.grids:
        w.grids.update({g.id: g for grids in w.grids_by_district.values() for g in grids})
    assert a.grid_id is not None
    return w.grids[a.grid_id]


def _place(w: World, rng: random.Random, text: TrainingText) -> Grid:
    """A grid in the district the text names; in 南明区, often one of the demo logins' units."""
    code = next((c for name, c in w.district_names.items() if text.address.startswith(name)), None)
    if code is None:
        code = rng.choice(sorted(w.grids_by_district))
    if code == w.demo_grid.path.split("/")[2]:
        roll = rng.random()
        if roll < SHARE_GRID:
            return w.demo_grid
        if roll < SHARE_GRID + SHARE_COMMUNITY:
            return rng.choice(w.community)
        if roll < SHARE_GRID + SHARE_COMMUNITY + SHARE_COMMUNITY2:
            return rng.choice(w.community2)
    return rng.choice(w.grids_by_district[code])


def _phone(rng: random.Random) -> str:
    return rng.choice(("13", "15", "17", "18")) + f"{rng.randrange(0, 10**9):09d}"


def _bulk(ctx: DemoContext, w: World, plan: Plan, texts: list[TrainingText]) -> list[Appeal]:
    from faker import Faker

    rng = ctx.rng
    faker = Faker("zh_CN")
    faker.seed_instance(rng.getrandbits(32))
    moments: list[tuple[datetime, str]] = []
    for _ in range(plan.history):
        moments.append((w.now - timedelta(days=rng.uniform(14, plan.window_days)), "normal"))
    for _ in range(plan.recent):
        moments.append((w.now - timedelta(hours=rng.uniform(0.5, 14 * 24)), "normal"))
    for i in range(plan.backlog):
        lo, hi = BACKLOG_AGES[i % len(BACKLOG_AGES)]
        moments.append((w.now - timedelta(days=rng.uniform(lo, hi)), "stalled"))
    moments.sort()
    codes = _reserve_codes(Counter(timezone.localtime(m).year for m, _ in moments))
    lives: list[_Life] = []
    by_category: dict[str, list[_Life]] = {}
    for i, (moment, fate) in enumerate(moments):
        text = texts[i % len(texts)]
        # Office hours mostly: the hotline is busiest in the day.
        local = timezone.localtime(moment).replace(hour=rng.choices(range(24), weights=[1] * 7 + [6] * 12 + [3] * 4 + [1])[0])
        # A backlog case younger than 90 days is a hotline appeal: a petition's 60 days would not have run out.
        petition = rng.random() < 0.15 and not (fate == "stalled" and (w.now - moment).days < 90)
        kind = AppealKind.PETITION if petition else AppealKind.APPEAL
        channel = rng.choice((Channel.VISIT, Channel.LETTER, Channel.PORTAL)) if petition else rng.choices(
            (Channel.HOTLINE, Channel.PORTAL, Channel.GRID, Channel.OPEN311), weights=(60, 25, 10, 5))[0]
        grid = _place(w, rng, text)
        lat, lon = grid.point(rng)
        appeal = Appeal(
            code=next(codes[local.year]), kind=kind, channel=channel, title=text.title, description=text.description,
            urgency=Urgency.URGENT if not petition and rng.random() < 0.05 else Urgency.NORMAL,
            category=w.categories[text.category], suggested_category=w.categories[text.category], address=text.address,
            lat=lat, lon=lon, grid_id=grid.id, unit_id=grid.id, submitted_at=min(local, w.now - timedelta(minutes=10)),
            source_ref=f"{DEMO_REF}{i + 1:06d}", is_collective=petition and rng.random() < 0.1, status=Status.SUBMITTED,
        )
        if appeal.is_collective:
            appeal.headcount = rng.randint(5, 40)
        earlier = by_category.get(text.category, [])
        original = None
        roll = rng.random()
        if fate == "normal" and roll < 0.015 and earlier and (moment - earlier[-1].a.submitted_at).days < 60:
            original, fate = earlier[-1].a, "merged"
        elif fate == "normal" and roll < 0.045:
            fate = "declined"
        phone = _phone(rng)
        if original is not None:  # a repeat comes from the same petitioner
            phone = next(lf.petitioner.phone for lf in reversed(earlier) if lf.a is original)
        appeal.petitioner_key = keyed_hash(phone)
        life = _Life(w, appeal, rng, phone, faker.name())
        _live(life, fate=fate, original=original)
        lives.append(life)
        if fate == "normal":
            by_category.setdefault(text.category, []).append(life)
    _write(lives)
    return [lf.a for lf in lives]


def _reserve_codes(per_year: Counter[int]) -> dict[int, Any]:
    """Take a block of tracking codes per year from the same counter appeal_submit uses."""
    out: dict[int, Any] = {}
    for year, n in sorted(per_year.items()):
        seq, _ = CodeSequence.objects.select_for_update().get_or_create(year=year)
        first = seq.last + 1
        seq.last += n
        seq.save(update_fields=["last"])
        out[year] = iter([f"{CODE_PREFIX}{year}-{k:07d}" for k in range(first, first + n)])
    return out


def _write(lives: list[_Life]) -> None:
    Appeal.objects.bulk_create([lf.a for lf in lives], batch_size=BATCH)
    repeats = []
    for lf in lives:
        lf.petitioner.appeal = lf.a
        if lf.repeat_of is not None:
            lf.a.repeat_of = lf.repeat_of
            repeats.append(lf.a)
    Appeal.objects.bulk_update(repeats, ["repeat_of"], batch_size=BATCH)

    def rows(get: Callable[[_Life], Iterable[Any]]) -> list[Any]:
        return [row for lf in lives for row in get(lf)]

    Petitioner.objects.bulk_create([lf.petitioner for lf in lives], batch_size=BATCH)
    Reply.objects.bulk_create(rows(lambda lf: lf.replies), batch_size=BATCH)  # before Feedback, which points at them
    for model, get in (
        (AppealEvent, lambda lf: lf.events),
        (Assignment, lambda lf: lf.assignments),
        (Feedback, lambda lf: lf.feedback),
        (Supervision, lambda lf: lf.supervisions),
        (Review, lambda lf: lf.reviews),
        (DuplicateCandidate, lambda lf: lf.duplicates),
    ):
        model.objects.bulk_create(rows(get), batch_size=BATCH)  # type: ignore[attr-defined]


# --- the seeder -----------------------------------------------------------------------------------


def _sample(limit: int = 60) -> list[Appeal]:
    """What later seeders may link to: the stories first, then the newest others."""
    stories = list(Appeal.objects.filter(source_ref__startswith=f"{DEMO_REF}S").order_by("pk"))
    rest = Appeal.objects.filter(source_ref__startswith=DEMO_REF).exclude(pk__in=[a.pk for a in stories])
    return stories + list(rest.order_by("-submitted_at")[: max(limit - len(stories), 0)])


def seed(ctx: DemoContext) -> None:
    plan = PLANS.get(ctx.size, PLANS["full"] if ctx.size == "city" else PLANS["small"])
    if Appeal.objects.filter(source_ref__startswith=DEMO_REF).exists():
        ctx.log("演示诉求已存在，跳过")
        ctx.shared["appeals.sample"] = _sample()
        return
    w = _world(ctx)
    rules = _seed_rules(w, ctx.shared["places.city"])
    texts = generate(max(plan.history + plan.recent + plan.backlog, plan.train_texts), ctx.rng.randrange(1 << 30))
    _train(ctx, plan, texts)
    bulk = _bulk(ctx, w, plan, texts)
    from .demo_stories import tell_stories  # imported here: demo_stories imports this module

    stories = tell_stories(ctx, w, generate(3000, ctx.rng.randrange(1 << 30)))
    n = len(bulk) + len(stories)
    audit_record(actor=None, act="appeals.seed", changed_fields=["status"],
                 reason=f"demo size={ctx.size}: appeals={n} (bulk {len(bulk)}, stories {len(stories)}); routing rules={rules}")
    ctx.shared["appeals.sample"] = _sample()
    ctx.log(f"分派规则 {rules} 条；诉求 {n} 件（历史及在办 {len(bulk)} 件，经由业务流程 {len(stories)} 件）")


def report(ctx: DemoContext) -> None:
    """Appeals by status, and this year's metrics for the demo district (the numbers the dashboards will show)."""
    from .metrics import metrics_for

    counts = dict(Appeal.objects.order_by().values_list("status").annotate(n=Count("pk")))
    ctx.stdout.write("诉求状态：" + "，".join(f"{Status(s).label} {counts.get(s, 0)}" for s in Status.values))
    district = ctx.shared.get("places.demo_units", {}).get("district")
    admin = User.objects.filter(is_superuser=True, is_active=True).first()
    if district is None or admin is None:
        return
    now = timezone.now()
    m = metrics_for(admin, unit=district, start=now - timedelta(days=365), end=now + timedelta(seconds=1), now=now).total
    ctx.stdout.write(
        f"{district.name}近一年：受理 {m.received} 件，及时受理率 {m.on_time_registration_rate.percent()}，"
        f"按期答复率 {m.on_time_reply_rate.percent()}，化解率 {m.resolution_rate.percent()}，"
        f"参评率 {m.rating_rate.percent()}，满意率 {m.satisfaction_rate.percent()}"
    )
