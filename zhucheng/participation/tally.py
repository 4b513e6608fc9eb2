"""Counting the ballots (计票): the binding CONSUL greedy rule and, beside it, the Method of Equal Shares
computed with ``pabutools``; every step is recorded for the public page; the budget exports in the
pabulib ``.pb`` format so anyone can re-run the count.

CONSUL rule: projects in descending order of votes; each is funded if its cost fits the money left,
otherwise skipped; ties go to the lower cost, then to the earlier submission. Projects without a vote
are not funded.

Equal Shares (均等份额法): each voter holds an equal share of the budget and a project is bought by its
supporters' shares (cost utilities, ``pabutools.rules.method_of_equal_shares``), then the money left
is completed greedily by votes, as the equalshares.net tool does. The profile handed to pabutools is
reduced without changing the outcome (tested against the unreduced profile): a project whose supporters'
equal shares together fall short of its cost can never be bought (shares only shrink), so it is taken off
the ballots before pabutools sees them; the ballots that then read the same are grouped (50,000 ballots
over 40 projects: about 26,000 distinct, about 1,100 once reduced), and the satisfaction is a lookup
(``_CostSat``, equal to pabutools' ``Cost_Sat`` for approval ballots, tested). On PostgreSQL the grouped
ballots and the receipts digest are computed by the database (one aggregate each), not row by row.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from pabutools.election import (
    ApprovalBallot,
    ApprovalMultiProfile,
    ApprovalProfile,
    FrozenApprovalBallot,
    Instance,
    SatisfactionMeasure,
    SatisfactionMultiProfile,
)
from pabutools.election import Project as PbProject
from pabutools.election.pabulib import election_as_pabulib_string
from pabutools.rules import method_of_equal_shares
from pabutools.tiebreaking import TieBreakingRule

from zhucheng.core.audit import audit_record

from .errors import ParticipationError
from .models import (
    Ballot,
    BallotChoice,
    Budget,
    PaperSheet,
    PaperSheetState,
    Proposal,
    ProposalState,
    Tally,
    TallyRule,
    VotingRule,
)
from .services import require_phase, require_staff, timeline, yuan


@dataclass(frozen=True)
class Candidate:
    """A project on the ballot as the count sees it."""

    key: int  # the proposal's number: the project id in the .pb file
    cost: int
    votes: int
    order: int  # submission order (earlier first), the last tie-breaker
    title: str = ""


def _rank(c: Candidate) -> tuple[int, int, int]:
    return (-c.votes, c.cost, c.order)


def greedy(budget_fen: int, candidates: Iterable[Candidate]) -> tuple[list[int], list[dict[str, Any]]]:
    """The CONSUL rule: (winners' keys in funding order, every step)."""
    ordered = sorted(candidates, key=_rank)
    remaining = budget_fen
    winners: list[int] = []
    steps: list[dict[str, Any]] = []
    previous: Candidate | None = None
    for position, c in enumerate(ordered, start=1):
        tie = ""
        if previous is not None and previous.votes == c.votes:
            tie = "cost" if previous.cost < c.cost else "order"
        step = {"position": position, "key": c.key, "title": c.title, "votes": c.votes, "cost": c.cost, "remaining_before": remaining, "tie": tie}
        if c.votes <= 0:
            step.update(funded=False, reason="no_votes")
        elif c.cost <= remaining:
            remaining -= c.cost
            winners.append(c.key)
            step.update(funded=True, reason="fits")
        else:
            step.update(funded=False, reason="does_not_fit")
        step["remaining_after"] = remaining
        steps.append(step)
        previous = c
    return winners, steps


class _CostSat(SatisfactionMeasure):
    """Cost utility of an approval ballot (pabutools' ``Cost_Sat``) as a set lookup."""

    def __init__(self, instance: Instance, profile: Any, ballot: Any) -> None:
        super().__init__(instance, profile, ballot)
        self._names = frozenset(p.name for p in ballot)

    def sat(self, projects: Iterable[PbProject]) -> int:
        return sum(p.cost for p in projects if p.name in self._names)

    def sat_bundle(self, projects: Iterable[PbProject]) -> int:
        return self.sat(projects)

    def sat_project(self, project: PbProject) -> int:
        return project.cost if project.name in self._names else 0


def _instance(budget_fen: int, candidates: list[Candidate]) -> tuple[Instance, dict[str, PbProject]]:
    projects = {str(c.key): PbProject(str(c.key), c.cost) for c in candidates}
    return Instance(projects.values(), budget_limit=budget_fen), projects


def tie_breaking(candidates: list[Candidate]) -> TieBreakingRule:
    """Lower cost first, then earlier submission (the same order as the CONSUL rule's ties)."""
    order = {str(c.key): c.order for c in candidates}
    return TieBreakingRule(lambda inst, prof, proj: (proj.cost, order.get(proj.name, 0)))


def mes_profile(budget_fen: int, candidates: list[Candidate], ballots: Mapping[frozenset[int], int]) -> Counter[frozenset[int]]:
    """The grouped ballots Equal Shares needs: the same outcome as ``ballots``, fewer distinct ballots.

    Every counted ballot (one with a choice) keeps its voter's share ``budget / n``; a project whose
    supporters hold less than its cost between them at the start is taken off every ballot, because
    pabutools drops such a project unbought (``available_budget < cost``) and shares only decrease, so
    it never costs anyone anything. Exact in integers: ``supporters * budget < cost * n``. Ballots left
    empty stay (their voters' shares still count in ``n``); ballots that now read the same are merged.
    """
    known = {c.key: c.cost for c in candidates}
    total: Counter[frozenset[int]] = Counter()
    for keys, n in ballots.items():
        if keys and n > 0:
            total[frozenset(k for k in keys if k in known)] += n
    voters = sum(total.values())
    support: Counter[int] = Counter()
    for keys, n in total.items():
        for k in keys:
            support[k] += n
    buyable = {k for k, cost in known.items() if support[k] * budget_fen >= cost * voters}
    reduced: Counter[frozenset[int]] = Counter()
    for keys, n in total.items():
        reduced[keys & buyable] += n
    return reduced


def equal_shares(
    budget_fen: int,
    candidates: list[Candidate],
    ballots: Mapping[frozenset[int], int],
    *,
    complete: bool = True,
    reduce: bool = True,
) -> tuple[list[int], list[dict[str, Any]]]:
    """Method of Equal Shares via pabutools (+ greedy completion): (winners in selection order, steps).
    ``reduce=False`` hands pabutools every distinct ballot as cast (slow; the tests and the bench
    check both give the same result)."""
    instance, projects = _instance(budget_fen, candidates)
    profile = ApprovalMultiProfile(instance=instance)
    sat_profile = SatisfactionMultiProfile(instance=instance)
    if reduce:
        for keys, count in mes_profile(budget_fen, candidates, ballots).items():
            profile[FrozenApprovalBallot([projects[str(k)] for k in sorted(keys)])] = count
    else:
        for keys, count in ballots.items():
            if not keys or count <= 0:
                continue
            ballot = FrozenApprovalBallot([projects[str(k)] for k in sorted(keys) if str(k) in projects])
            profile[ballot] = profile.get(ballot, 0) + count
    for ballot, count in profile.items():
        sat_profile[_CostSat(instance, profile, ballot)] = count
    by_key = {c.key: c for c in candidates}
    if profile.num_ballots():
        chosen = method_of_equal_shares(instance, profile, sat_profile=sat_profile, tie_breaking=tie_breaking(candidates))
        mes_keys = [int(p.name) for p in chosen]  # type: ignore[union-attr]
    else:
        mes_keys = []
    remaining = budget_fen
    steps: list[dict[str, Any]] = []
    for position, key in enumerate(mes_keys, start=1):
        c = by_key[key]
        steps.append({"position": position, "key": key, "title": c.title, "votes": c.votes, "cost": c.cost, "remaining_before": remaining, "funded": True, "reason": "equal_shares", "tie": ""})
        remaining -= c.cost
        steps[-1]["remaining_after"] = remaining
    winners = list(mes_keys)
    for c in sorted((c for c in candidates if c.key not in set(mes_keys)), key=_rank):
        step = {"position": len(steps) + 1, "key": c.key, "title": c.title, "votes": c.votes, "cost": c.cost, "remaining_before": remaining, "tie": ""}
        if c.votes <= 0:
            step.update(funded=False, reason="no_votes")
        elif complete and c.cost <= remaining:
            remaining -= c.cost
            winners.append(c.key)
            step.update(funded=True, reason="completion")
        else:
            step.update(funded=False, reason="does_not_fit" if complete else "no_share")
        step["remaining_after"] = remaining
        steps.append(step)
    return winners, steps


# --- from the database ---------------------------------------------------------------------------


def candidates_of(budget: Budget, grouped: Mapping[frozenset[int], int] | None = None) -> list[Candidate]:
    """The projects on the ballot with their votes; ``grouped`` (from ``ballots_of``) saves counting them again."""
    rows = Proposal.objects.filter(budget=budget, state__in=(ProposalState.FEASIBLE, ProposalState.SELECTED, ProposalState.NOT_SELECTED)).order_by("submitted_at", "number")
    if grouped is not None:
        by_number: Counter[int] = Counter()
        for keys, n in grouped.items():
            for k in keys:
                by_number[k] += n
        return [Candidate(p.number, p.cost_fen, by_number.get(p.number, 0), i, p.title) for i, p in enumerate(rows)]
    votes = dict(
        BallotChoice.objects.filter(ballot__budget=budget).values("proposal_id").annotate(n=Count("id")).values_list("proposal_id", "n")
    )
    return [Candidate(p.number, p.cost_fen, votes.get(p.pk, 0), i, p.title) for i, p in enumerate(rows)]


def ballots_of(budget: Budget) -> Counter[frozenset[int]]:
    """Identical ballots grouped: {frozenset of proposal numbers: how many}. On PostgreSQL the database
    groups them in one aggregate (each ballot's sorted choices, then how many ballots read the same),
    reading only the choice rows of the budget's proposals (no join, so stale statistics right after
    the vote cannot push it into a nested loop over 50,000 ballots)."""
    number = dict(Proposal.objects.filter(budget=budget).values_list("pk", "number"))
    grouped: Counter[frozenset[int]] = Counter()
    if connection.vendor == "postgresql":
        sql = f"""
            SELECT keys, count(*) FROM (
                SELECT array_agg(proposal_id ORDER BY proposal_id) AS keys
                FROM {BallotChoice._meta.db_table} WHERE proposal_id = ANY(%s) GROUP BY ballot_id
            ) per_ballot GROUP BY keys"""  # noqa: S608 — table name from the model, the value bound
        with connection.cursor() as cur:
            cur.execute(sql, [list(number)])
            for keys, n in cur.fetchall():
                grouped[frozenset(number[k] for k in keys)] += n
        return grouped
    per_ballot: dict[Any, set[int]] = {}
    for ballot_id, proposal_id in BallotChoice.objects.filter(ballot__budget=budget).values_list("ballot_id", "proposal_id").iterator(chunk_size=20000):
        per_ballot.setdefault(ballot_id, set()).add(number[proposal_id])
    grouped.update(frozenset(s) for s in per_ballot.values())
    return grouped


def receipts_digest(budget: Budget) -> str:
    """SHA-256 over the sorted receipt hashes of the counted ballots (changes if any ballot is added or removed).
    On PostgreSQL the database computes the same digest (``sha256`` over the concatenation, in the same order)."""
    if connection.vendor == "postgresql":
        sql = f"""
            SELECT encode(sha256(convert_to(coalesce(string_agg(receipt_hash, '' ORDER BY receipt_hash), ''), 'UTF8')), 'hex')
            FROM {Ballot._meta.db_table} WHERE budget_id = %s"""  # noqa: S608 — table name from the model, the value bound
        with connection.cursor() as cur:
            cur.execute(sql, [budget.pk])
            return str(cur.fetchone()[0])
    h = hashlib.sha256()
    for value in Ballot.objects.filter(budget=budget).order_by("receipt_hash").values_list("receipt_hash", flat=True).iterator(chunk_size=20000):
        h.update(value.encode())
    return h.hexdigest()


@dataclass(frozen=True)
class TallyResult:
    greedy: Tally
    mes: Tally
    seconds: float


@transaction.atomic
def tally_run(*, actor: Any, budget: Budget) -> TallyResult:
    """计票: both rules over every counted ballot; the greedy result decides which proposals are selected."""
    started = timezone.now()
    budget = Budget.objects.select_for_update(of=("self",)).select_related("unit").get(pk=budget.pk)
    require_staff(actor, budget.unit)
    require_phase(budget, "tally")
    open_sheets = PaperSheet.objects.filter(budget=budget).exclude(state__in=(PaperSheetState.MATCHED, PaperSheetState.RESOLVED)).count()
    if open_sheets:
        raise ParticipationError(
            _("还有 %(n)d 张纸质选票未完成两次录入或复核,请完成后再计票。") % {"n": open_sheets}, code="not_ready"
        )
    grouped = ballots_of(budget)
    candidates = candidates_of(budget, grouped)
    count = sum(grouped.values())
    digest = receipts_digest(budget)
    votes = {str(c.key): c.votes for c in candidates}
    g_winners, g_steps = greedy(budget.amount_fen, candidates)
    m_winners, m_steps = equal_shares(budget.amount_fen, candidates, grouped)
    cost = {c.key: c.cost for c in candidates}
    now = timezone.now()
    saved = {}
    for rule, winners, steps in ((TallyRule.GREEDY, g_winners, g_steps), (TallyRule.MES, m_winners, m_steps)):
        saved[rule], _c = Tally.objects.update_or_create(
            budget=budget,
            rule=rule,
            defaults={"computed_at": now, "ballots": count, "votes": votes, "steps": steps, "winners": winners, "spent_fen": sum(cost[k] for k in winners), "receipts_digest": digest},
        )
    chosen = set(g_winners)
    for p in Proposal.objects.filter(budget=budget, state__in=(ProposalState.FEASIBLE, ProposalState.SELECTED, ProposalState.NOT_SELECTED)):
        state = ProposalState.SELECTED if p.number in chosen else ProposalState.NOT_SELECTED
        if p.state != state:
            p.state = state
            p.save(update_fields=["state", "updated_at"])
    timeline(
        budget,
        "tally",
        _("计票完成:有效选票 %(n)d 张,%(k)d 个项目入选,合计 %(c)s。") % {"n": count, "k": len(g_winners), "c": yuan(saved[TallyRule.GREEDY].spent_fen)},
    )
    audit_record(actor=actor, act="participation.tally", obj=budget, changed_fields=["tallies"])
    return TallyResult(saved[TallyRule.GREEDY], saved[TallyRule.MES], (timezone.now() - started).total_seconds())


# --- pabulib export ------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace(";", ",").replace("\n", " ").replace("\r", " ")


def pabulib_text(budget: Budget) -> str:
    """The budget as a pabulib ``.pb`` file: projects (id = proposal number, cost in fen, votes, selected)
    and one line per ballot (voter_id = the public part of its receipt hash)."""
    candidates = candidates_of(budget)
    instance, projects = _instance(budget.amount_fen, candidates)
    tally = Tally.objects.filter(budget=budget, rule=TallyRule.GREEDY).first()
    chosen = set(tally.winners) if tally else set()
    headings = dict(Proposal.objects.filter(budget=budget).values_list("number", "heading__name"))
    instance.meta = {
        "description": _cell(budget.title),
        "country": "China",
        "unit": _cell(budget.unit.name),
        "instance": str(budget.year),
        "rule": "greedy",
        "currency": "CNY fen",
        "date_begin": str(budget.schedule.get("voting", "")),
        "date_end": str(budget.schedule.get("tallying", "")),
    }
    instance.project_meta = {
        projects[str(c.key)]: {"name": _cell(c.title), "votes": c.votes, "selected": int(c.key in chosen), **({"category": _cell(headings[c.key])} if headings.get(c.key) else {})}
        for c in candidates
    }
    number = dict(Proposal.objects.filter(budget=budget).values_list("pk", "number"))
    per_ballot: dict[Any, list[int]] = {}
    public: dict[Any, tuple[str, str]] = {}
    for b in Ballot.objects.filter(budget=budget).values_list("id", "receipt_hash", "channel"):
        public[b[0]] = (b[1][:12], b[2])
        per_ballot[b[0]] = []
    for ballot_id, proposal_id in BallotChoice.objects.filter(ballot__budget=budget).values_list("ballot_id", "proposal_id"):
        per_ballot[ballot_id].append(number[proposal_id])
    profile = ApprovalProfile(instance=instance)
    for ballot_id, keys in sorted(per_ballot.items(), key=lambda kv: public[kv[0]][0]):
        voter_id, channel = public[ballot_id]
        profile.append(ApprovalBallot([projects[str(k)] for k in sorted(keys) if str(k) in projects], meta={"voter_id": voter_id, "voting_method": channel}))
    if budget.voting_rule == VotingRule.APPROVAL:
        profile.legal_min_length = budget.min_choices
        profile.legal_max_length = budget.max_choices
    else:
        profile.legal_max_cost = budget.amount_fen
        if budget.min_spend_percent:
            profile.legal_min_cost = budget.amount_fen * budget.min_spend_percent // 100
    return election_as_pabulib_string(instance, profile)


def step_reason(step: Mapping[str, Any]) -> str:
    """The public sentence for one tally step."""
    reason = step.get("reason")
    if reason == "fits":
        text = _("费用不超过剩余资金,入选。")
    elif reason == "equal_shares":
        text = _("支持者的均等份额足以支付,入选。")
    elif reason == "completion":
        text = _("均等份额分配后仍有剩余资金,按得票补选入选。")
    elif reason == "no_votes":
        text = _("没有得票,不入选。")
    elif reason == "no_share":
        text = _("支持者的份额不足以支付,不入选。")
    else:
        text = _("费用 %(c)s 超过剩余资金 %(r)s,跳过。") % {"c": yuan(int(step.get("cost", 0))), "r": yuan(int(step.get("remaining_before", 0)))}
    if step.get("tie") == "cost":
        text += _("(与上一项得票相同,费用较低者优先。)")
    elif step.get("tie") == "order":
        text += _("(与上一项得票、费用相同,提交较早者优先。)")
    return text


def computed_at_local(tally: Tally) -> datetime:
    return timezone.localtime(tally.computed_at)
