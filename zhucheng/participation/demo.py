"""Demo seeder for 群众点菜: community budgets in every phase, with proposals, reviews, ballots (online and
paper), published tallies, projects under way with milestones, spending, child works, supervisors and
flags, evaluations, upkeep tasks, and residents' council meetings.

Money: the city spends 200 million yuan a year on community public-welfare projects; each community's
budget is that sum divided among all the city's communities and townships (rounded to 10,000 yuan).

新华社区 (the demo logins' community, where 王筑昀 lives) has 2023 finished, 2024 in upkeep, 2025 being
built and 2026 in voting (王筑昀 has not voted yet, so she can try it); 中南社区 has 2025 in evaluation
and 2026 in tallying; two more communities of 南明区 are proposing and reviewing their 2026 budgets.
Ballots are cast for registry people who live in the community (with the real eligibility check).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from zhucheng.accounts.models import User
from zhucheng.core.audit import audit_record
from zhucheng.core.demo import DemoContext
from zhucheng.core.masking import mask_name
from zhucheng.core.notify import muted
from zhucheng.places import demo as places_demo
from zhucheng.places.models import OrgUnit, OrgUnitKind
from zhucheng.registry.models import Person, Residence

from . import aftercare, building, council, services, tally, voting
from .errors import ParticipationError
from .models import (
    Budget,
    Comment,
    Evaluation,
    Phase,
    Project,
    ProjectStatus,
    Proposal,
    ProposalState,
    ResolutionKind,
    VoterRegister,
    VotingRule,
)

ORDER = 85

CITY_YEARLY_YUAN = 200_000_000
VOTERS = {"small": 160, "full": 1200, "city": 3000}

HEADINGS = ("道路设施", "绿化环境", "养老服务", "平安建设")
# (title, heading index, share of the budget in per mille, description, place)
IDEAS: tuple[tuple[str, int, int, str, str], ...] = (
    ("老旧小区楼道照明改造", 0, 90, "3栋、5栋楼道灯具老化,晚上老人上下楼看不清台阶,建议更换为声控LED灯。", "3栋、5栋楼道"),
    ("社区健身步道铺设", 1, 260, "沿小区外围铺设约600米塑胶健身步道,设置距离标识。", "小区外围绿地"),
    ("老年食堂添置适老化餐桌椅", 2, 70, "老年食堂现有桌椅过矮且无扶手,建议添置带扶手的适老化餐桌椅40套。", "社区老年食堂"),
    ("雨污分流管网疏通改造", 0, 330, "雨季时7栋门前积水严重,需疏通并改造雨污管网。", "7栋门前"),
    ("儿童游乐场地改造", 1, 180, "现有滑梯锈蚀,地面为水泥地,建议更换设施并铺设安全地垫。", "中心广场东侧"),
    ("加装无障碍坡道和扶手", 2, 60, "单元门口台阶较高,坐轮椅和拄拐的老人出入困难。", "1至8栋单元门口"),
    ("背街小巷路面硬化", 0, 240, "菜场后巷泥泞,雨天无法通行,建议硬化路面并设排水沟。", "菜场后巷"),
    ("口袋公园绿化提升", 1, 150, "闲置空地杂草丛生,建议改造成带座椅的口袋公园。", "12栋旁空地"),
    ("电动自行车集中充电棚", 3, 120, "楼道内充电存在火灾隐患,建议建设集中充电棚,配智能断电插座。", "北门停车场"),
    ("居家养老服务站助浴设备", 2, 110, "失能老人洗澡难,建议为服务站添置助浴椅和移动助浴设备。", "居家养老服务站"),
    ("消防通道划线及标识", 3, 40, "消防通道经常被占用,建议重新划线并设置警示标识。", "小区主干道"),
    ("社区图书角书架与图书", 1, 50, "为居民活动中心增设书架和适合老人、儿童的图书。", "居民活动中心"),
    ("路口监控补盲", 3, 100, "小区南门路口无监控,曾发生电动车被盗。", "南门路口"),
    ("休闲座椅与遮阳亭", 1, 80, "广场没有遮阳处,夏天老人无处休息。", "中心广场"),
    ("老年活动室空调", 2, 45, "活动室夏天闷热,冬天寒冷,建议安装两台空调。", "老年活动室"),
    ("停车位划线与错时停车标识", 0, 55, "乱停车堵塞道路,建议划定车位并与周边单位错时共享。", "小区内道路"),
)
REJECTIONS = (
    "该地块属于规划道路红线范围,不能建设永久设施;建议改为临时绿化。",
    "估算费用超过本社区年度公益金,且需住建部门审批,本年度无法实施。",
    "该事项属于物业公司维修责任,已转交物业公司在30日内处理。",
)
CONTRACTORS = ("贵州筑安建设工程有限公司", "贵阳市南明区市政工程公司", "贵州绿城园林绿化有限公司", "贵阳安居装饰工程有限公司")
OBSERVATIONS = (
    ("今天上午看到工人在铺设基层,现场有围挡,安全措施到位。", False),
    ("材料堆放在消防通道上,影响车辆通行,请施工方挪一下。", True),
    ("晚上九点后还在施工,噪音较大,影响老人休息。", True),
    ("新装的扶手很结实,高度合适。", False),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
COMMENTS = (
    "这个提议很好,家里老人晚上出门确实不方便。",
    "建议同时考虑一下排水问题。",
    "希望能在雨季前完工。",
    "费用是不是估得有点高?可以找几家比比价。",
    "支持!孩子们没有地方玩。",
)


def _when(days_ago: int) -> date:
    return timezone.localdate() - timedelta(days=days_ago)


def _amount_per_community() -> int:
    city = OrgUnit.objects.filter(kind=OrgUnitKind.CITY).first()
    qs = OrgUnit.objects.filter(kind__in=(OrgUnitKind.COMMUNITY, OrgUnitKind.TOWNSHIP))
    if city is not None:
        qs = qs.filter(path__startswith=city.path)
    n = max(1, qs.count())
    per = CITY_YEARLY_YUAN / n
    return max(100_000, int(round(per / 10_000)) * 10_000) * 100  # fen


def _voters(unit: OrgUnit, day: date, limit: int, exclude_user: Any) -> list[Person]:
    """Adults living in the community (the real eligibility check runs again when they vote)."""
    born_before = day - timedelta(days=365 * 18)
    persons = (
        Person.objects.filter(
            pk__in=Residence.objects.filter(to_date__isnull=True, is_void=False, housing_unit__building__grid__path__startswith=unit.path).values("person_id"),
            died_on__isnull=True,
            birth_date__lte=born_before,
        )
        .exclude(user=exclude_user)
        .order_by("id")[:limit]
    )
    return list(persons)


class _Seeder:
    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.rng: random.Random = ctx.rng
        self.amount = _amount_per_community()
        self.resident = _demo_resident()
        self.staff = User.objects.filter(username="community").first()
        self.staff2 = User.objects.filter(username="community2").first()
        self.staff3 = User.objects.filter(username="supervisor").first()  # over the district: a second clerk anywhere
        self.grid = User.objects.filter(username="grid").first()
        self.counts: dict[str, int] = {}

    # --- building blocks ---------------------------------------------------------------------

    def budget(self, unit: OrgUnit, year: int, **kw: Any) -> Budget:
        amount = self.amount
        schedule = {p: f"{year}-{m:02d}-01" for p, m in zip(Phase.values, (2, 4, 5, 6, 7, 10, 12, 12), strict=True)}
        return services.budget_create(
            actor=None, unit=unit, year=year, title=f"{unit.name}{year}年度社区公益金", amount_fen=amount,
            description="由市财政安排的社区公益金,用于群众最关心的小事实事:建什么由居民提、居民选。",
            headings=[(h, amount // len(HEADINGS)) for h in HEADINGS], schedule=schedule, **kw,
        )

    def proposals(self, budget: Budget, n: int) -> list[Proposal]:
        ideas = self.rng.sample(IDEAS, n)
        out = []
        headings = list(budget.headings.order_by("id"))
        lat0, lon0 = budget.unit.lat or 26.57, budget.unit.lon or 106.71
        for title, h, share, description, place in ideas:
            cost = max(10_000_00, budget.amount_fen * share // 1000 // 1000_00 * 1000_00)
            name = self.rng.choice(SURNAMES) + self.rng.choice(("建华", "秀英", "桂兰", "德明", "志强", "玉珍", "海燕", "国平"))
            p = services.proposal_submit(
                actor=None, budget=budget, title=title, description=description, estimated_cost_fen=cost, heading=headings[h],
                place=place, lat=lat0 + self.rng.uniform(-0.004, 0.004), lon=lon0 + self.rng.uniform(-0.004, 0.004), on_behalf_of=name,
            )
            out.append(p)
        return out

    def chatter(self, proposals: list[Proposal]) -> None:
        for p in proposals:
            for _ in range(self.rng.randint(0, 3)):
                Comment.objects.create(proposal=p, author_label=mask_name(self.rng.choice(SURNAMES) + "某某"), body=self.rng.choice(COMMENTS))
            Proposal.objects.filter(pk=p.pk).update(supports=self.rng.randint(3, 60))
        spam = Comment.objects.create(proposal=proposals[0], author_label="刘**", body="低价装修、疏通下水道,请致电……")
        services.comment_hide(actor=None, comment=spam, reason="与提案无关的广告信息")

    def review(self, budget: Budget, proposals: list[Proposal], *, rejected: int, pending: int = 0) -> None:
        for i, p in enumerate(proposals[: len(proposals) - pending]):
            if i < rejected:
                services.proposal_review(actor=None, proposal=p, feasible=False, cost_fen=p.estimated_cost_fen, explanation=REJECTIONS[i % len(REJECTIONS)])
            else:
                factor = self.rng.choice((0.9, 1.0, 1.0, 1.1, 1.2))
                cost = min(budget.amount_fen, int(p.estimated_cost_fen * factor) // 100_00 * 100_00)
                services.proposal_review(actor=None, proposal=p, feasible=True, cost_fen=cost)

    def ballots(self, budget: Budget, n: int, *, paper: int = 0) -> int:
        """Online ballots for ``n`` residents and ``paper`` paper ballots, all with the real checks."""
        feasible = list(Proposal.objects.filter(budget=budget, state=ProposalState.FEASIBLE).order_by("number"))
        weights = [self.rng.uniform(0.3, 3.0) for _ in feasible]
        voters = _voters(budget.unit, timezone.localdate(), n + paper, self.resident)
        from . import permissions

        clerks = [u for u in (self.staff, self.staff2, self.staff3) if u is not None and permissions.can_manage(u, budget.unit)]
        booth = self.grid if self.grid is not None and permissions.can_staff_booth(self.grid, budget.unit) else (clerks[0] if clerks else None)
        cast = 0
        for i, person in enumerate(voters):
            picks = self._pick(budget, feasible, weights)
            if not picks:
                continue
            try:
                voting.check_eligible(budget, person)
                check = voting.ballot_check(budget=budget, proposal_ids=[p.pk for p in picks])
                if not check.ok:
                    continue
                if i < len(voters) - paper or len(clerks) < 2:
                    voting.record_online(actor=None, budget=budget, person=person, proposals=check.proposals, notify=self.rng.random() < 0.8)
                else:
                    voting.paper_voter_mark(actor=booth, budget=budget, person=person)
                    code = voting.receipt_new()
                    ids = [p.pk for p in check.proposals]
                    voting.paper_sheet_enter(actor=clerks[0], budget=budget, receipt=code, proposal_ids=ids)
                    voting.paper_sheet_enter(actor=clerks[1], budget=budget, receipt=code, proposal_ids=ids)
                cast += 1
            except ParticipationError as exc:
                self.counts["refused"] = self.counts.get("refused", 0) + 1
                if self.counts["refused"] == 1:
                    self.ctx.log(f"一张选票未能投出:{exc.message}")
                continue
        return cast

    def _pick(self, budget: Budget, feasible: list[Proposal], weights: list[float]) -> list[Proposal]:
        order = sorted(range(len(feasible)), key=lambda i: -weights[i] * self.rng.random())
        chosen: list[Proposal] = []
        total = 0
        want = self.rng.randint(1, min(5, len(feasible)))
        floor = budget.amount_fen * budget.min_spend_percent // 100 if budget.voting_rule == VotingRule.KNAPSACK else 0
        for i in order:
            p = feasible[i]
            if len(chosen) >= want and total >= floor:
                break
            if budget.voting_rule == VotingRule.KNAPSACK and total + p.cost_fen > budget.amount_fen:
                continue
            chosen.append(p)
            total += p.cost_fen
        if budget.voting_rule == VotingRule.APPROVAL:
            chosen = chosen[: budget.max_choices]
            if len(chosen) < budget.min_choices:
                return []
        return chosen

    def to(self, budget: Budget, phase: str) -> Budget:
        while budget.phase != phase:
            budget = services.budget_advance(actor=None, budget=budget)
        return budget

    def voted_budget(self, unit: OrgUnit, year: int, voters: int, **kw: Any) -> Budget:
        budget = self.budget(unit, year, **kw)
        proposals = self.proposals(budget, 10)
        self.chatter(proposals)
        budget = self.to(budget, Phase.REVIEWING)
        self.review(budget, proposals, rejected=2)
        budget = self.to(budget, Phase.VOTING)
        self.counts["ballots"] = self.counts.get("ballots", 0) + self.ballots(budget, voters, paper=max(3, voters // 10))
        budget = self.to(budget, Phase.TALLYING)
        tally.tally_run(actor=None, budget=budget)
        return budget

    def build(self, budget: Budget, *, finish: bool) -> list[Project]:
        budget = self.to(budget, Phase.BUILDING)
        projects = list(Project.objects.filter(budget=budget, parent__isnull=True).order_by("id"))
        today = timezone.localdate()
        for i, project in enumerate(projects):
            building.project_update(
                actor=None, project=project, contractor=CONTRACTORS[i % len(CONTRACTORS)], starts_on=today - timedelta(days=60 - i),
                due_on=today + timedelta(days=30 + 10 * i) if not finish else today - timedelta(days=5),
            )
            m1 = building.milestone_add(actor=None, project=project, title="进场施工", due_on=today - timedelta(days=50))
            m2 = building.milestone_add(actor=None, project=project, title="主体完工", due_on=today - timedelta(days=3 if not finish else 20))
            building.milestone_add(actor=None, project=project, title="竣工验收", due_on=today + timedelta(days=25))
            building.milestone_done(actor=None, milestone=m1, done_on=today - timedelta(days=48))
            if finish or i % 3 != 0:
                building.milestone_done(actor=None, milestone=m2, done_on=today - timedelta(days=4))
            if not finish and i % 3 == 2:
                continue  # still planned
            building.project_update(actor=None, project=project, status=ProjectStatus.UNDER_WAY)
            if i == 0 and not finish and project.approved_fen >= 40_000_00:
                part = project.approved_fen // 4
                a = building.project_add_child(actor=None, parent=project, title="基础及管线工程", approved_fen=part * 2, weight=3)
                b = building.project_add_child(actor=None, parent=project, title="面层铺装", approved_fen=part, weight=2)
                c = building.project_add_child(actor=None, parent=project, title="标识及附属设施", approved_fen=part, weight=1)
                building.project_update(actor=None, project=a, status=ProjectStatus.UNDER_WAY, progress=80)
                building.project_update(actor=None, project=b, status=ProjectStatus.UNDER_WAY, progress=30)
                building.project_update(actor=None, project=c, progress=0)
            else:
                building.project_update(actor=None, project=project, progress=100 if finish else self.rng.choice((25, 40, 60, 75)))
            spend = project.approved_fen * (105 if (not finish and i == 1) else self.rng.choice((40, 55, 70))) // 100
            building.spending_record(actor=None, project=project, amount_fen=spend // 2, spent_on=today - timedelta(days=40), description="材料采购")
            building.spending_record(actor=None, project=project, amount_fen=spend - spend // 2, spent_on=today - timedelta(days=10), description="人工及机械费")
            if finish:
                building.project_update(actor=None, project=project, status=ProjectStatus.COMPLETED)
        building.flags_sweep()
        return projects

    def supervise(self, project: Project) -> None:
        if self.resident is None:
            return
        try:
            building.supervisor_join(actor=self.resident, project=project)
            for text, concern in OBSERVATIONS[:3]:
                building.observation_add(actor=self.resident, project=project, text=text, concern=concern)
        except ParticipationError as exc:
            self.ctx.log(f"监督员未能加入:{exc.message}")

    def evaluate(self, budget: Budget, projects: list[Project]) -> None:
        people = list(VoterRegister.objects.filter(budget=budget).values_list("person_id", flat=True)[:60])
        rows = []
        for project in projects:
            project.refresh_from_db()
            if project.status != ProjectStatus.COMPLETED:
                continue
            base = self.rng.choice((3, 4, 4, 5))
            for pid in self.rng.sample(people, min(len(people), 25)):
                rows.append(
                    Evaluation(
                        project=project, person_id=pid, quality=max(1, min(5, base + self.rng.choice((-1, 0, 0, 1)))),
                        usefulness=max(1, min(5, base + self.rng.choice((-1, 0, 1)))), would_vote_again=self.rng.random() < 0.85,
                        comment=self.rng.choice(("", "", "质量不错,用起来方便。", "希望多安排保洁。", "施工期间噪音有点大。")),
                    )
                )
        Evaluation.objects.bulk_create(rows)

    def upkeep(self, projects: list[Project]) -> None:
        today = timezone.localdate()
        for i, project in enumerate(projects):
            project.refresh_from_db()
            if project.status != ProjectStatus.COMPLETED:
                continue
            t1 = aftercare.upkeep_schedule(
                actor=None, project=project, kind="cleaning", title="每周保洁", due_on=today - timedelta(days=9), assignee_kind="volunteer",
                assignee_name="绿丝带志愿服务队", repeat_days=7,
            )
            aftercare.upkeep_done(actor=None, task=t1, note="已清扫,清理垃圾两袋", done_on=today - timedelta(days=9))
            aftercare.upkeep_schedule(
                actor=None, project=project, kind="inspection", title="月度安全巡查", due_on=today - timedelta(days=4 + i), assignee_kind="resident",
                assignee_name=mask_name("王德明"), repeat_days=30,
            )
            aftercare.upkeep_schedule(
                actor=None, project=project, kind="repair", title="设施维修检查", due_on=today + timedelta(days=20), assignee_kind="staff",
                assignee_name="社区网格员",
            )

    def council(self, unit: OrgUnit, proposing_budget: Budget | None = None) -> None:
        c = council.council_create(actor=None, unit=unit, name=f"{unit.name}居民议事会")
        start, end = _when(500), _when(-600)
        names = ("王德明", "陈桂兰", "刘志强", "杨玉珍", "黄海燕", "赵国平", "周丽")
        members = [
            council.member_add(actor=None, council=c, name=n, role="议事长" if i == 0 else "议事员", term_from=start, term_to=end)
            for i, n in enumerate(names)
        ]
        council.member_add(actor=None, council=c, name="吴老", role="议事员", term_from=_when(1700), term_to=_when(520))
        held = council.meeting_schedule(actor=None, council=c, held_on=_when(20), place="社区新时代文明实践站", agenda="一、听取上年度公益金项目建设情况;二、讨论本年度公益金项目建议;三、议定小区停车管理办法")
        council.meeting_record(
            actor=None, meeting=held, attendees=members[:6],
            minutes="应到7人,实到6人。议事长王德明主持。社区通报了上年度项目进度;议事员提出为高龄老人较多的楼栋加装扶手;议定由议事会牵头征求停车管理意见。",
        )
        council.resolution_add(actor=None, meeting=held, kind=ResolutionKind.RECOMMENDATION, text="建议社区协调物业在夜间开放北门,方便晚归居民。", votes_for=5, abstentions=1)
        if proposing_budget is not None:
            council.resolution_add(
                actor=None, meeting=held, kind=ResolutionKind.PROPOSAL, text="高龄老人较多的1至4栋加装楼梯扶手,方便老人上下楼。", votes_for=6,
                budget=proposing_budget, proposal_title="1至4栋楼梯加装扶手", proposal_cost_fen=max(10_000_00, proposing_budget.amount_fen // 20),
            )
        else:
            other = council.resolution_add(actor=None, meeting=held, kind=ResolutionKind.OTHER, text="通过《小区停车自治管理办法(试行)》。", votes_for=5, votes_against=1)
            council.resolution_respond(actor=None, resolution=other, response="社区已于本月张贴公示,下月起试行。")
        council.meeting_schedule(actor=None, council=c, held_on=_when(-10), place="社区会议室", agenda="一、公益金项目建设监督情况;二、管护任务分工")


def places_demo_phone() -> str:
    return "13800138000"


def _demo_resident() -> User | None:
    from zhucheng.accounts.services import resident_username

    return User.objects.filter(username=resident_username(places_demo_phone())).first()


def seed(ctx: DemoContext) -> None:
    if Budget.objects.exists():
        ctx.log("公益金数据已存在,跳过")
        return
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=(places_demo.DEMO_COMMUNITY_CODE, places_demo.DEMO_COMMUNITY2_CODE))}
    xinhua, zhongnan = units.get(places_demo.DEMO_COMMUNITY_CODE), units.get(places_demo.DEMO_COMMUNITY2_CODE)
    if xinhua is None or zhongnan is None:
        ctx.log("找不到演示社区,跳过公益金数据")
        return
    s = _Seeder(ctx)
    voters = VOTERS.get(ctx.size, VOTERS["small"])
    year = timezone.localdate().year
    with muted():
        # 新华社区: finished, upkeep, building, voting.
        b = s.voted_budget(xinhua, year - 3, voters // 2)
        projects = s.build(b, finish=True)
        s.evaluate(b, projects)
        b = s.to(b, Phase.UPKEEP)
        s.upkeep(projects)
        s.to(b, Phase.FINISHED)
        b = s.voted_budget(xinhua, year - 2, voters // 2, voting_rule=VotingRule.APPROVAL, min_choices=1, max_choices=3)
        projects = s.build(b, finish=True)
        s.evaluate(b, projects)
        b = s.to(b, Phase.UPKEEP)
        s.upkeep(projects)
        b = s.voted_budget(xinhua, year - 1, voters)
        projects = s.build(b, finish=False)
        if projects:
            s.supervise(projects[0])
        b = s.budget(xinhua, year, min_spend_percent=50, voting_closes_at=timezone.now() + timedelta(days=14))
        proposals = s.proposals(b, 10)
        s.chatter(proposals)
        b = s.to(b, Phase.REVIEWING)
        s.review(b, proposals, rejected=2)
        b = s.to(b, Phase.VOTING)
        s.counts["ballots"] = s.counts.get("ballots", 0) + s.ballots(b, voters, paper=max(3, voters // 10))
        feasible = list(Proposal.objects.filter(budget=b, state=ProposalState.FEASIBLE).order_by("-cost_fen"))
        pick = s._pick(b, feasible, [1.0] * len(feasible))
        if s.staff is not None and pick:  # a sheet keyed once, waiting for the second clerk
            voting.paper_sheet_enter(actor=s.staff, budget=b, receipt=voting.receipt_new(), proposal_ids=[p.pk for p in pick])
        s.council(xinhua)
        # 中南社区: evaluating, tallying.
        b = s.voted_budget(zhongnan, year - 1, voters // 2)
        projects = s.build(b, finish=True)
        b = s.to(b, Phase.EVALUATING)
        s.evaluate(b, projects)
        s.voted_budget(zhongnan, year, voters // 2, voting_rule=VotingRule.APPROVAL, min_choices=2, max_choices=4)
        # Two more communities of the district: proposing and reviewing.
        others = list(
            OrgUnit.objects.filter(parent=xinhua.parent, kind__in=(OrgUnitKind.COMMUNITY, OrgUnitKind.TOWNSHIP)).exclude(pk__in=(xinhua.pk, zhongnan.pk)).order_by("code")[:2]
        )
        if others:
            b = s.budget(others[0], year)
            s.chatter(s.proposals(b, 6))
            s.council(others[0], proposing_budget=b)
        if len(others) > 1:
            b = s.budget(others[1], year)
            proposals = s.proposals(b, 8)
            s.chatter(proposals)
            b = s.to(b, Phase.REVIEWING)
            s.review(b, proposals, rejected=1, pending=3)
    phases = dict(Budget.objects.values_list("phase").annotate(n=Count("id")))
    audit_record(actor=None, act="participation.seed", reason=f"demo size={ctx.size}: budgets={sum(phases.values())} ballots={s.counts.get('ballots', 0)}")
    ctx.log(
        f"社区公益金预算 {sum(phases.values())} 个(每社区每年 {s.amount / 100:,.0f} 元),覆盖 {len(phases)} 个阶段;"
        f"选票 {s.counts.get('ballots', 0)} 张;建设项目 {Project.objects.count()} 个;纸质选票 {VoterRegister.objects.filter(channel='paper').count()} 张"
    )


def report(ctx: DemoContext) -> None:
    budget = Budget.objects.filter(unit__code=places_demo.DEMO_COMMUNITY_CODE, phase=Phase.VOTING).first()
    if budget is not None:
        ctx.stdout.write(f"    群众点菜:/participation/b/{budget.pk}/ (居民 13800138000 可投票)")
