"""Demo stories: a few dozen appeals taken through the real services, one per interesting state.

Part of the appeals demo seeder (``demo.py``): objection and reassignment, transfer, extension,
pause, supervision, leader assignment, feedback both ways, review and a re-review made final,
merge, co-handling, reopening — in the demo logins' units (新华社区, its first grid, 住建局 D03),
so each login opens on real work with a real timeline. ``_Story.wait`` makes time pass between
the acts by moving every timestamp the story's appeals hold back by that much.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db.models import F

from zhucheng.accounts.models import User
from zhucheng.core.demo import DemoContext

from . import services
from .data.training import TrainingText
from .demo import DECLINES, DEMO_REF, LEADER, REPLIES, SUPERVISE, UNSATISFIED, Grid, World
from .models import (
    Appeal,
    AppealEvent,
    AppealKind,
    Assignment,
    Attachment,
    CategoryDecision,
    Channel,
    DuplicateCandidate,
    Extension,
    Feedback,
    Outcome,
    Pause,
    Reply,
    Review,
    ReviewDecision,
    Satisfaction,
    Supervision,
    SupervisionKind,
    Urgency,
)

# Every timestamp a story's appeals hold, by model (moved back together when time "passes").
TIMES: dict[type[Any], tuple[str, ...]] = {
    Appeal: ("submitted_at", "registered_at", "assigned_at", "replied_at", "closed_at", "register_due", "reply_due", "due_at",
             "paused_at", "reminded_at", "escalated_at", "created_at"),
    AppealEvent: ("at",),
    Assignment: ("assigned_at", "objection_due", "objected_at", "decided_at", "ended_at"),
    Supervision: ("created_at", "due_at", "closed_at"),
    Reply: ("created_at",),
    Feedback: ("created_at",),
    Review: ("requested_at", "due_at", "decided_at"),
    Extension: ("requested_at", "decided_at"),
    Pause: ("started_at", "ended_at"),
    Attachment: ("uploaded_at",),
    DuplicateCandidate: ("decided_at",),
    CategoryDecision: ("at",),
}


class _Story:
    """A few appeals handled through the services; ``wait(days)`` makes that much time pass for them."""

    def __init__(self, w: World, rng: random.Random, pool: dict[str, list[TrainingText]], number: int) -> None:
        self.w, self.rng, self.pool, self.number = w, rng, pool, number
        self.ids: set[int] = set()

    def submit(self, leaf: str, *, actor: Any = None, channel: str = Channel.HOTLINE, grid: Grid | None = None,
               confirm: bool = True, phone: str = "", resident: User | None = None, **kw: Any) -> Appeal:
        text = self.rng.choice(self.pool[leaf])
        lat, lon = (grid or self.w.demo_grid).point(self.rng)
        who = [services.PetitionerInput(name=resident.display_name if resident else "", phone=phone)] if phone else []
        appeal = services.appeal_submit(
            actor=actor, channel=channel, title=text.title, description=text.description, address=text.address,
            category=self.w.categories[leaf] if confirm else None, lat=lat, lon=lon, petitioners=who, resident=resident,
            source_ref=f"{DEMO_REF}S{self.number:02d}{len(self.ids)}", **kw,
        ).appeal
        self.ids.add(appeal.pk)
        return appeal

    def wait(self, days: int = 0, hours: float = 0) -> None:
        """Whole days keep the acts at the hour the seeder runs; hours spread the acts of one day."""
        delta = timedelta(days=days, hours=hours)
        for model, names in TIMES.items():
            rows = model.objects.filter(pk__in=self.ids) if model is Appeal else model.objects.filter(appeal_id__in=self.ids)
            rows.update(**{n: F(n) - delta for n in names})

    def reply(self, actor: User, appeal: Appeal, outcome: str) -> None:
        appeal.refresh_from_db()
        dept = appeal.department.name if appeal.department else "社区"
        assert appeal.category is not None
        text = self.rng.choice(REPLIES[Outcome(outcome)]).format(cat=appeal.category.name, dept=dept)
        services.appeal_reply(actor=actor, appeal=appeal, outcome=outcome, text=text)


def tell_stories(ctx: DemoContext, w: World, texts: list[TrainingText]) -> list[Appeal]:
    u, d, rng = w.users, w.departments, ctx.rng
    nanming = w.demo_grid.path.split("/")[2]
    district = next(name for name, code in w.district_names.items() if code == nanming)
    pool: dict[str, list[TrainingText]] = {}
    for t in texts:
        if t.address.startswith(district):
            pool.setdefault(t.category, []).append(t)
    for t in texts:  # a category no 南明区 text fell into still gets its texts
        pool.setdefault(t.category, []).append(t)
    community, dept, sup, leader, resident = u["community"], u["dept"], u["supervisor"], u["leader"], u["resident"]
    made: list[Appeal] = []
    phones = iter(f"1990851{n:04d}" for n in range(10_000))

    def handled(st: _Story, leaf: str, *, start: bool = True, **kw: Any) -> Appeal:
        a = st.submit(leaf, **kw)
        st.wait(hours=rng.uniform(0.3, 2))
        a = services.appeal_register(actor=community, appeal=a)
        a = services.appeal_assign(actor=community, appeal=a)
        if start:
            st.wait(hours=rng.uniform(0.5, 3))
            a = services.appeal_start(actor=dept, appeal=a)
        return a

    def replied(st: _Story, leaf: str, outcome: str, days: int, **kw: Any) -> Appeal:
        a = handled(st, leaf, **kw)
        st.wait(days)
        st.reply(dept, a, outcome)
        return a

    scripts: list[Callable[[_Story], Any]] = []

    def story(fn: Callable[[_Story], Any]) -> Callable[[_Story], Any]:
        scripts.append(fn)
        return fn

    @story
    def resident_closed(st: _Story) -> None:
        a = st.submit("ZF01", actor=resident, channel=Channel.PORTAL, confirm=False, phone=resident.phone, resident=resident)
        st.wait(hours=2)
        services.appeal_register(actor=community, appeal=a, category=w.categories["ZF01"])
        services.appeal_assign(actor=community, appeal=a)
        st.wait(hours=4)
        services.appeal_start(actor=dept, appeal=a)
        st.wait(2)
        st.reply(dept, a, Outcome.SUPPORT)
        st.wait(1)
        services.appeal_feedback(actor=resident, appeal=a, department_rating=Satisfaction.SATISFIED,
                                 centre_rating=Satisfaction.SATISFIED, comment="处理很及时，谢谢！", as_petitioner=True)
        st.wait(hours=5)
        services.appeal_close(actor=community, appeal=a)
        st.wait(120)

    @story
    def resident_replied(st: _Story) -> None:
        a = st.submit("ZF04", actor=resident, channel=Channel.PORTAL, phone=resident.phone, resident=resident)
        st.wait(hours=5)
        services.appeal_register(actor=community, appeal=a)
        services.appeal_assign(actor=community, appeal=a)
        st.wait(3)
        st.reply(dept, a, Outcome.EXPLAIN)
        st.wait(1)

    @story
    def resident_submitted(st: _Story) -> None:  # a pending duplicate of the one above (same petitioner)
        st.submit("ZF01", actor=resident, channel=Channel.PORTAL, confirm=False, phone=resident.phone, resident=resident)
        st.wait(hours=5)

    @story
    def grid_report(st: _Story) -> None:
        st.submit("CG05", actor=u["grid"], channel=Channel.GRID)
        st.wait(hours=2)

    @story
    def hotline_urgent(st: _Story) -> None:
        st.submit("SD01", urgency=Urgency.URGENT, phone=next(phones))
        st.wait(hours=1)

    @story
    def petition_registered(st: _Story) -> None:
        a = st.submit("LD02", actor=community, channel=Channel.VISIT, kind=AppealKind.PETITION)
        st.wait(hours=5)
        services.appeal_register(actor=community, appeal=a, note="材料齐全，予以受理")
        st.wait(2)

    @story
    def declined(st: _Story) -> None:
        a = st.submit("LD01", phone=next(phones))
        st.wait(hours=4)
        reason, route = DECLINES["LD01"]
        services.appeal_decline(actor=community, appeal=a, reason=reason, route=route)
        st.wait(1)

    @story
    def assigned(st: _Story) -> None:
        handled(st, "ZF02", start=False)
        st.wait(hours=4)

    @story
    def in_progress(st: _Story) -> None:
        handled(st, "ZF01")
        st.wait(1)

    def misrouted(st: _Story) -> Appeal:
        a = st.submit("ZF03")
        st.wait(hours=1)
        services.appeal_register(actor=community, appeal=a)
        services.appeal_assign(actor=community, appeal=a, department=d["D03"], instructions="请核实施工单位")
        st.wait(hours=4)
        return services.appeal_object(actor=dept, appeal=a, reason="施工噪音扰民属生态环境部门执法职责，不属于本局受理范围，申请退回改派。")

    @story
    def objected(st: _Story) -> None:
        misrouted(st)
        st.wait(hours=4)

    @story
    def reassigned(st: _Story) -> None:
        a = misrouted(st)
        st.wait(hours=4)
        services.appeal_decide_objection(actor=community, appeal=a, accept=True, department=d["D09"],
                                         note="同意退单，改派市生态环境局办理。")
        st.wait(hours=4)

    @story
    def transferred(st: _Story) -> None:
        a = st.submit("ZF04")
        st.wait(hours=1)
        services.appeal_register(actor=community, appeal=a)
        services.appeal_assign(actor=community, appeal=a, department=d["D07"])
        st.wait(1)
        services.appeal_transfer(actor=community, appeal=a, department=d["D03"], reason="涉及老旧小区改造项目，转市住建局主办。")
        st.wait(hours=4)

    @story
    def extended(st: _Story) -> None:
        a = handled(st, "ZF04")
        st.wait(2)
        ext = services.appeal_request_extension(actor=dept, appeal=a, days=3, reason="需协调供电、供水等多家单位现场会商。")
        st.wait(hours=4)
        services.appeal_decide_extension(actor=sup, extension=ext, approve=True, note="同意延期3个工作日")
        st.wait(1)

    @story
    def extension_pending(st: _Story) -> None:
        a = handled(st, "ZF02")
        st.wait(3)
        services.appeal_request_extension(actor=dept, appeal=a, days=5, reason="需委托第三方机构进行房屋安全鉴定。")
        st.wait(hours=4)

    @story
    def paused(st: _Story) -> None:
        a = handled(st, "ZF01")
        st.wait(1)
        services.appeal_pause(actor=dept, appeal=a, reason="materials", note="请诉求人补充物业服务合同和缴费凭证")
        st.wait(2)

    @story
    def supervised(st: _Story) -> None:
        a = handled(st, "ZF02")
        st.wait(8)
        services.appeal_supervise(actor=sup, appeal=a, kind=SupervisionKind.SUPERVISION, instructions=SUPERVISE[0])
        st.wait(hours=4)

    @story
    def leader_assigned(st: _Story) -> None:
        a = handled(st, "ZF04", actor=community, channel=Channel.VISIT, kind=AppealKind.PETITION, is_collective=True,
                    headcount=23, phone=next(phones))
        st.wait(3)
        services.appeal_supervise(actor=leader, appeal=a, kind=SupervisionKind.LEADER, instructions=LEADER[0])
        st.wait(4)

    @story
    def rated_satisfied(st: _Story) -> None:
        a = replied(st, "ZF01", Outcome.SUPPORT, 1)
        st.wait(1)
        services.appeal_feedback(actor=community, appeal=a, department_rating=Satisfaction.SATISFIED,
                                 centre_rating=Satisfaction.BASIC, comment="电话回访：满意")
        st.wait(hours=4)

    @story
    def rated_unsatisfied(st: _Story) -> None:
        a = replied(st, "ZF02", Outcome.EXPLAIN, 2)
        st.wait(2)
        services.appeal_feedback(actor=community, appeal=a, department_rating=Satisfaction.UNSATISFIED, comment=UNSATISFIED[2])
        st.wait(1)

    @story
    def petition_to_review(st: _Story) -> None:
        a = replied(st, "ZF02", Outcome.NOT_SUPPORT, 10, actor=community, channel=Channel.LETTER, kind=AppealKind.PETITION)
        st.wait(3)
        services.appeal_feedback(actor=community, appeal=a, department_rating=Satisfaction.UNSATISFIED, comment=UNSATISFIED[0])
        st.wait(2)

    @story
    def review_requested(st: _Story) -> None:
        a = replied(st, "ZF04", Outcome.EXPLAIN, 12, actor=community, channel=Channel.VISIT, kind=AppealKind.PETITION)
        st.wait(6)
        services.appeal_request_review(actor=community, appeal=a, reason="对答复意见不服，认为改造方案未征求居民意见。")
        st.wait(2)

    @story
    def re_reviewed_final(st: _Story) -> None:
        a = replied(st, "ZF01", Outcome.NOT_SUPPORT, 20, actor=community, channel=Channel.VISIT, kind=AppealKind.PETITION)
        st.wait(10)
        services.appeal_request_review(actor=community, appeal=a, reason="不服答复，申请复查。")
        st.wait(20)
        services.appeal_decide_review(actor=sup, appeal=a, decision=ReviewDecision.UPHELD,
                                      text="经复查，原处理意见认定事实清楚、依据充分，予以维持。")
        st.wait(10)
        services.appeal_request_review(actor=community, appeal=a, reason="不服复查意见，申请复核。")
        st.wait(25)
        services.appeal_decide_review(actor=sup, appeal=a, decision=ReviewDecision.UPHELD,
                                      text="经复核，维持复查意见。本复核意见为最终意见，同一事实和理由不再受理。")
        st.wait(30)

    @story
    def closed_resolved(st: _Story) -> None:
        a = replied(st, "ZF01", Outcome.SUPPORT, 2)
        st.wait(3)
        services.appeal_close(actor=community, appeal=a, note="电话回访无异议，办结。")
        st.wait(20)

    @story
    def closed_unresolved(st: _Story) -> None:
        a = replied(st, "ZF02", Outcome.NOT_SUPPORT, 3)
        st.wait(5)
        services.appeal_close(actor=community, appeal=a, resolved=False, note="已依法答复，诉求人仍有意见。")
        st.wait(12)

    @story
    def merged_repeat(st: _Story) -> None:
        phone = next(phones)
        first = handled(st, "ZF01", start=False, phone=phone)
        st.wait(3)
        again = st.submit("ZF01", phone=phone)
        st.wait(hours=2)
        services.appeal_merge(actor=community, appeal=again, into=first, reason="同一诉求人反映同一事项")
        st.wait(1)

    @story
    def co_handled(st: _Story) -> None:
        a = st.submit("ZF04")
        st.wait(hours=2)
        services.appeal_register(actor=community, appeal=a)
        services.appeal_assign(actor=community, appeal=a, department=d["D03"], assisting=[d["D07"], d["D16"]],
                               instructions="住建局主办，城管局、水务局协办，联合现场踏勘。")
        st.wait(hours=4)
        services.appeal_start(actor=dept, appeal=a)
        st.wait(1)

    @story
    def reopened(st: _Story) -> None:
        a = replied(st, "ZF01", Outcome.SUPPORT, 2)
        st.wait(4)
        services.appeal_close(actor=community, appeal=a)
        st.wait(3)
        services.appeal_reopen(actor=sup, appeal=a, reason="回访发现问题反弹，重新办理。")
        st.wait(1)

    @story
    def kept_apart(st: _Story) -> None:
        phone = next(phones)
        first = handled(st, "CG01", start=False, phone=phone)
        st.wait(10)
        other = st.submit("ZF02", phone=phone)
        st.wait(hours=1)
        services.appeal_keep_apart(actor=community, appeal=other, other=first)
        services.appeal_register(actor=community, appeal=other)
        services.appeal_assign(actor=community, appeal=other)
        st.wait(hours=4)

    @story
    def second_community(st: _Story) -> None:
        a = st.submit("CG04", grid=rng.choice(w.community2))
        st.wait(hours=2)
        services.appeal_register(actor=u["community2"], appeal=a)
        services.appeal_assign(actor=u["community2"], appeal=a)
        st.wait(1)

    for number, script in enumerate(scripts, start=1):
        st = _Story(w, rng, pool, number)
        script(st)
        made += list(Appeal.objects.filter(pk__in=st.ids).order_by("pk"))
    return made
