"""Secret ballots: eligibility from the registry, the check before casting, casting and changing a
ballot until the phase closes, paper ballots entered twice by different staff, receipt codes.

Secrecy: the register row (who) and the ballot (what) are written in the same transaction but share
no key; the ballot's id is random and it has no time. A voter changes their ballot with their
receipt code (the only thing that connects them to it, and only they hold it); the database keeps
the code's hash. Double voting is refused by the unique (budget, person) register constraint, which
also settles two concurrent submissions: the second insert fails and the whole cast rolls back.

No audit event per ballot: the register row (who, when, channel) is the record of a vote, and an
audit row per cast would be one more timestamp lining voters up against ballots; closing the vote
audits the register's size and digest (``services.budget_advance``). The hot path of a first online
ballot on PostgreSQL: the budget with its community under a shared row lock (one query), the
voter's current residences with the person (one query), the proposals from a per-process cache,
then register + ballot + choices (one statement) and commit.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhucheng.core.audit import audit_record
from zhucheng.core.context import acting_user
from zhucheng.places.models import OrgUnit
from zhucheng.registry.models import Person, Residence, ResidenceKind

from . import permissions
from .errors import ParticipationError
from .models import (
    Ballot,
    BallotChoice,
    Budget,
    Channel,
    PaperBallotEntry,
    PaperSheet,
    PaperSheetState,
    Phase,
    Proposal,
    ProposalState,
    Tally,
    VoterRegister,
    VotingRule,
)
from .services import lock_budget, now, require_phase, require_staff, yuan

RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed by elderly voters
RECEIPT_LENGTH = 12


# --- receipts ------------------------------------------------------------------------------------


def receipt_new() -> str:
    raw = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, RECEIPT_LENGTH, 4))


def receipt_normalise(code: str) -> str:
    raw = "".join(c for c in (code or "").upper() if c.isalnum())
    if len(raw) != RECEIPT_LENGTH or any(c not in RECEIPT_ALPHABET for c in raw):
        raise ParticipationError(_("回执码应为 12 位字母和数字(如 ABCD-EFGH-JKMN)。"), code="invalid", field="receipt")
    return "-".join(raw[i : i + 4] for i in range(0, RECEIPT_LENGTH, 4))


def receipt_hash(budget_id: int, code: str) -> str:
    return hashlib.sha256(f"zhucheng-receipt:{budget_id}:{receipt_normalise(code)}".encode()).hexdigest()


# --- eligibility ---------------------------------------------------------------------------------


def person_of(user: Any) -> Person | None:
    """The registry person linked to a resident account (the link is the verification)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Person.objects.filter(user=user).first()


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month - (1 if end.day < start.day else 0)


def _current_here(budget: Budget, **person_filter: Any) -> list[Residence]:
    return list(
        Residence.objects.filter(
            to_date__isnull=True, is_void=False, housing_unit__building__grid__path__startswith=budget.unit.path, **person_filter
        )
        .select_related("person")
        .order_by()  # any order will do (all rows are one person's), and PostgreSQL then skips a sort
        # Only what the check needs: loading the whole person would decrypt its ID number and phone.
        .only("kind", "from_date", "person__id", "person__birth_date", "person__died_on", "person__name")
    )


def check_eligible(budget: Budget, person: Person | None, *, on: date | None = None, residences: list[Residence] | None = None) -> None:
    """Refuse unless ``person`` is a voter of the budget's community: alive, old enough, with a current
    residence in a housing unit whose building's grid lies in the community, long enough, of an allowed kind."""
    day = on or timezone.localdate()
    if person is None:
        raise ParticipationError(
            _("您的账户尚未与人口信息关联,请携带身份证到社区核实身份后再参与。"), code="not_verified"
        )
    if person.died_on is not None:
        raise ParticipationError(_("该人员已登记死亡。"), code="not_eligible")
    if budget.min_age:
        if person.birth_date is None:
            raise ParticipationError(_("人口信息中缺少出生日期,无法核实年龄,请到社区核实。"), code="not_eligible")
        if _age_on(person.birth_date, day) < budget.min_age:
            raise ParticipationError(_("年满 %(n)d 周岁的居民才能参与。") % {"n": budget.min_age}, code="not_eligible")
    unit = budget.unit
    if residences is None:
        residences = _current_here(budget, person=person)
    if not residences:
        raise ParticipationError(
            _("您目前没有在%(unit)s的居住登记,只有本社区的居民可以参与。") % {"unit": unit.name}, code="not_resident"
        )
    allowed = [r for r in residences if budget.allow_migrants or r.kind == ResidenceKind.PERMANENT]
    if not allowed:
        raise ParticipationError(_("本次投票仅限户籍居民参与。"), code="not_eligible")
    months = budget.min_residence_months
    if months and not any(r.from_date and _months_between(r.from_date, day) >= months for r in allowed):
        raise ParticipationError(_("在本社区居住满 %(n)d 个月的居民才能参与。") % {"n": months}, code="not_eligible")


def require_eligible(budget: Budget, user: Any) -> Person:
    """The acting resident's person, or a refusal saying why they may not take part.

    The common case (a resident living here) is one query: their current residences in the community,
    with the person; only a refusal looks further to say why."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise ParticipationError(_("请先登录。"), code="login_required")
    residences = _current_here(budget, person__user=user)
    if residences:
        person = residences[0].person
        check_eligible(budget, person, residences=residences)
        return person
    linked = person_of(user)
    check_eligible(budget, linked, residences=[])
    raise AssertionError("check_eligible refuses a person without a residence here")  # pragma: no cover


# --- the check before casting --------------------------------------------------------------------


@dataclass
class BallotCheck:
    """选票核对: what the voter is about to cast, with its total and the rule's verdict."""

    proposals: list[Proposal]
    total_fen: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def total_yuan(self) -> str:
        return yuan(self.total_fen)


_BALLOT_CACHE: dict[tuple[int, Any], dict[int, Proposal]] = {}


def _on_ballot(budget: Budget) -> dict[int, Proposal]:
    """The feasible proposals of a budget. During voting they cannot change (review and withdrawal
    belong to earlier phases), so each process keeps them for the phase instead of reading them per ballot."""
    if budget.phase != Phase.VOTING:
        return {p.pk: p for p in Proposal.objects.filter(budget=budget, state=ProposalState.FEASIBLE)}
    key = (budget.pk, budget.phase_since)
    found = _BALLOT_CACHE.get(key)
    if found is None:
        if len(_BALLOT_CACHE) > 256:
            _BALLOT_CACHE.clear()
        found = _BALLOT_CACHE[key] = {p.pk: p for p in Proposal.objects.filter(budget=budget, state=ProposalState.FEASIBLE)}
    return found


def ballot_check(*, budget: Budget, proposal_ids: list[Any]) -> BallotCheck:
    """Check a selection against the budget's rule without casting it."""
    try:
        ids = sorted({int(i) for i in proposal_ids})
    except (TypeError, ValueError) as exc:
        raise ParticipationError(_("选项无效。"), code="invalid", field="proposals") from exc
    on_ballot = _on_ballot(budget)
    proposals = sorted((on_ballot[i] for i in ids if i in on_ballot), key=lambda p: p.number)
    problems: list[str] = []
    if len(proposals) != len(ids):
        problems.append(_("选择中有不在本次投票范围内的项目。"))
    total = sum(p.cost_fen for p in proposals)
    n = len(proposals)
    if budget.voting_rule == VotingRule.APPROVAL:
        if n < budget.min_choices:
            problems.append(_("请至少选择 %(n)d 项。") % {"n": budget.min_choices})
        if n > budget.max_choices:
            problems.append(_("最多只能选择 %(n)d 项,您选了 %(k)d 项。") % {"n": budget.max_choices, "k": n})
    else:
        if n < max(1, budget.min_choices):
            problems.append(_("请至少选择 %(n)d 项。") % {"n": max(1, budget.min_choices)})
        if total > budget.amount_fen:
            problems.append(
                _("所选项目合计 %(t)s,超过了预算 %(a)s,请减少项目。") % {"t": yuan(total), "a": yuan(budget.amount_fen)}
            )
        floor = budget.amount_fen * budget.min_spend_percent // 100
        if budget.min_spend_percent and total < floor:
            problems.append(
                _("所选项目合计 %(t)s,至少应使用预算的 %(p)d%%(%(f)s),请再增加项目。")
                % {"t": yuan(total), "p": budget.min_spend_percent, "f": yuan(floor)}
            )
    return BallotCheck(proposals, total, problems)


def _require_valid(check: BallotCheck) -> None:
    if not check.ok:
        raise ParticipationError(" ".join(check.problems), code="invalid_ballot", field="proposals")


# The community's fields a vote needs (plain columns, in model order), not its boundary.
_UNIT_FIELDS = [f.attname for f in OrgUnit._meta.concrete_fields if f.attname in {"id", "code", "name", "kind", "parent_id", "path", "depth"}]


def _share_budget(budget: Budget) -> Budget:
    """Read the budget (with its community) under a shared row lock on PostgreSQL: voters do not block
    one another, and closing the vote (an exclusive lock in ``budget_advance``) waits for ballots in
    flight. One statement on PostgreSQL (the ORM cannot say ``FOR SHARE``); the community comes with
    the fields a vote needs."""
    if connection.vendor != "postgresql":
        return Budget.objects.select_related("unit").get(pk=budget.pk)
    unit_cols = ", ".join(f"u.{n} AS zc_unit_{n}" for n in _UNIT_FIELDS)
    # Table and column names come from the models; the one value is bound.
    sql = f"SELECT b.*, {unit_cols} FROM {Budget._meta.db_table} b JOIN {OrgUnit._meta.db_table} u ON u.id = b.unit_id WHERE b.id = %s FOR SHARE OF b"  # noqa: S608, E501
    found = list(Budget.objects.raw(sql, [budget.pk]))
    if not found:
        raise Budget.DoesNotExist("Budget matching query does not exist.")
    fresh = found[0]
    unit = OrgUnit.from_db(connection.alias, list(_UNIT_FIELDS), [fresh.__dict__.pop(f"zc_unit_{n}") for n in _UNIT_FIELDS])
    Budget._meta.get_field("unit").set_cached_value(fresh, unit)
    return fresh


def _require_open(budget: Budget, act: str = "vote") -> None:
    require_phase(budget, act)
    if budget.voting_closes_at and timezone.now() >= budget.voting_closes_at:
        raise ParticipationError(
            _("投票已于 %(t)s 截止。") % {"t": timezone.localtime(budget.voting_closes_at).strftime("%Y-%m-%d %H:%M")},
            code="wrong_phase",
        )


def _write_ballot(budget: Budget, channel: str, code_hash: str, proposals: list[Proposal]) -> Ballot:
    ballot = Ballot.objects.create(budget=budget, channel=channel, receipt_hash=code_hash)
    _write_choices(ballot, proposals)
    return ballot


def _write_choices(ballot: Ballot, proposals: list[Proposal]) -> None:
    BallotChoice.objects.bulk_create([BallotChoice(ballot_id=ballot.pk, proposal_id=p.pk) for p in proposals])


@dataclass(frozen=True)
class CastResult:
    receipt: str
    changed: bool


@transaction.atomic
def ballot_cast(*, actor: Any, budget: Budget, proposal_ids: list[Any], receipt: str = "", notify: bool = True) -> CastResult:
    """投票 / 修改选票. Without ``receipt``: a first ballot (refused if the person has voted);
    with the receipt code of one's ballot: the choices are replaced (until the vote closes)."""
    budget = _share_budget(budget)
    _require_open(budget)
    person = require_eligible(budget, actor)
    check = ballot_check(budget=budget, proposal_ids=proposal_ids)
    _require_valid(check)
    if receipt:
        code_hash = receipt_hash(budget.pk, receipt)
        ballot = Ballot.objects.select_for_update().filter(budget=budget, receipt_hash=code_hash, channel=Channel.ONLINE).first()
        row = VoterRegister.objects.filter(budget=budget, person=person, channel=Channel.ONLINE).only("pk").first()
        if ballot is None or row is None:
            raise ParticipationError(_("回执码不正确,无法修改选票。"), code="bad_receipt", field="receipt")
        BallotChoice.objects.filter(ballot=ballot).delete()
        _write_choices(ballot, check.proposals)
        return CastResult(receipt_normalise(receipt), True)
    _row, code = _register_and_store(budget=budget, person=person, proposals=check.proposals, notify=notify)
    return CastResult(code, False)


def record_online(*, actor: Any, budget: Budget, person: Person, proposals: list[Proposal], notify: bool = True) -> str:
    """Register the person and store their (already checked) ballot; returns the receipt code.
    Called by ``ballot_cast`` inside its transaction, and by the demo
    seeder for registry people."""
    return _register_and_store(budget=budget, person=person, proposals=proposals, notify=notify)[1]


def _register_and_store(*, budget: Budget, person: Person, proposals: list[Proposal], notify: bool) -> tuple[VoterRegister, str]:
    # No savepoint: a duplicate aborts the caller's transaction, which the refusal rolls back anyway.
    code = receipt_new()
    code_hash = receipt_hash(budget.pk, code)
    try:
        if connection.vendor == "postgresql":
            row = _store_in_one_statement(budget, person, code_hash, proposals, notify)
        else:
            row = VoterRegister.objects.create(budget=budget, person=person, channel=Channel.ONLINE, voted_at=now(), notify=notify)
    except IntegrityError as exc:
        if connection.vendor == "postgresql" and "participation_one_vote_per_person" not in str(exc):
            raise  # not a second vote (a receipt hash collision): an error, not a refusal
        raise ParticipationError(
            _("您已经投过票了。如需修改,请输入投票时获得的回执码。"), code="already_voted", field="receipt"
        ) from exc
    if connection.vendor != "postgresql":
        _write_ballot(budget, Channel.ONLINE, code_hash, proposals)
    return row, code


_STORE_SQL = f"""
WITH register AS (
    INSERT INTO {VoterRegister._meta.db_table} (budget_id, person_id, channel, voted_at, notify)
    VALUES (%(budget)s, %(person)s, %(channel)s, %(at)s, %(notify)s) RETURNING id
), ballot AS (
    INSERT INTO {Ballot._meta.db_table} (id, budget_id, channel, receipt_hash)
    VALUES (%(ballot)s, %(budget)s, %(channel)s, %(hash)s) RETURNING id
), choices AS (
    INSERT INTO {BallotChoice._meta.db_table} (ballot_id, proposal_id)
    SELECT ballot.id, chosen FROM ballot, unnest(%(proposals)s::bigint[]) AS chosen
)
SELECT id FROM register"""  # noqa: S608 — table names from the models, every value bound


def _store_in_one_statement(budget: Budget, person: Person, code_hash: str, proposals: list[Proposal], notify: bool) -> VoterRegister:
    """The register row, the ballot and its choices in one statement (one round trip instead of three:
    the cast's hot path). A second vote fails the register insert and with it the whole statement."""
    at = now()
    params: dict[str, Any] = {
        "budget": budget.pk, "person": person.pk, "channel": Channel.ONLINE, "at": at, "notify": notify,
        "ballot": uuid.uuid4(), "hash": code_hash, "proposals": [p.pk for p in proposals],
    }
    with connection.cursor() as cur:
        cur.execute(_STORE_SQL, params)
        (row_id,) = cur.fetchone()
    return VoterRegister(pk=row_id, budget_id=budget.pk, person_id=person.pk, channel=Channel.ONLINE, voted_at=at, notify=notify)


def has_voted(budget: Budget, user: Any) -> bool:
    person = person_of(user)
    return bool(person and VoterRegister.objects.filter(budget=budget, person=person).exists())


# --- paper ballots -------------------------------------------------------------------------------


@transaction.atomic
def paper_voter_mark(*, actor: Any, budget: Budget, person: Person) -> VoterRegister:
    """纸质投票登记: at the booth, staff check the voter's eligibility and mark them as voted before
    handing over a ballot paper (the paper goes into the box; its choices are entered later, unlinked)."""
    budget = _share_budget(budget)
    if not permissions.can_staff_booth(actor, budget.unit):
        raise ParticipationError(_("您没有权限在该社区的投票点登记。"), code="forbidden")
    _require_open(budget, "paper_mark")
    check_eligible(budget, person)
    try:
        with transaction.atomic():
            row = VoterRegister.objects.create(
                budget=budget, person=person, channel=Channel.PAPER, voted_at=now(), recorded_by=acting_user(actor)
            )
    except IntegrityError as exc:
        raise ParticipationError(_("%(name)s 已经投过票(网上或纸质),不能再领取选票。") % {"name": person.name}, code="already_voted") from exc
    audit_record(actor=actor, act="participation.paper_mark", obj=row)
    return row


def _paper_capacity_left(budget: Budget) -> int:
    marked = VoterRegister.objects.filter(budget=budget, channel=Channel.PAPER).count()
    counted = Ballot.objects.filter(budget=budget, channel=Channel.PAPER).count()
    return marked - counted


@dataclass(frozen=True)
class EntryResult:
    sheet: PaperSheet
    state: str


@transaction.atomic
def paper_sheet_enter(*, actor: Any, budget: Budget, receipt: str, proposal_ids: list[Any]) -> EntryResult:
    """录入纸质选票: the first keying waits; the second, by a different staff member, either matches
    (the ballot is counted) or is flagged as a mismatch for a third person to settle from the paper."""
    budget = lock_budget(budget)
    require_staff(actor, budget.unit)
    require_phase(budget, "paper_entry")
    check = ballot_check(budget=budget, proposal_ids=proposal_ids)
    _require_valid(check)
    code_hash = receipt_hash(budget.pk, receipt)
    ids = sorted(p.pk for p in check.proposals)
    sheet, _created = PaperSheet.objects.select_for_update().get_or_create(
        budget=budget, receipt_hash=code_hash, defaults={"receipt_tail": receipt_normalise(receipt)[-4:]}
    )
    entries = list(sheet.entries.all())
    if sheet.state in (PaperSheetState.MATCHED, PaperSheetState.RESOLVED):
        raise ParticipationError(_("这张选票已经计入,不能重复录入。"), code="duplicate", field="receipt")
    if sheet.state == PaperSheetState.MISMATCH:
        raise ParticipationError(_("这张选票两次录入不一致,请由第三人对照原件复核。"), code="mismatch", field="receipt")
    if any(e.entered_by_id == getattr(actor, "pk", None) for e in entries):
        raise ParticipationError(_("同一张选票须由另一名工作人员进行第二次录入。"), code="same_clerk", field="receipt")
    PaperBallotEntry.objects.create(sheet=sheet, seq=len(entries) + 1, proposal_ids=ids, entered_by=actor)
    if not entries:
        audit_record(actor=actor, act="participation.paper_entry", obj=sheet)
        return EntryResult(sheet, sheet.state)
    if sorted(entries[0].proposal_ids) == ids:
        _count_sheet(budget, sheet, check.proposals, PaperSheetState.MATCHED)
    else:
        sheet.state = PaperSheetState.MISMATCH
        sheet.save(update_fields=["state"])
    audit_record(actor=actor, act="participation.paper_entry", obj=sheet, changed_fields=["state"])
    return EntryResult(sheet, sheet.state)


def _count_sheet(budget: Budget, sheet: PaperSheet, proposals: list[Proposal], state: str) -> None:
    if _paper_capacity_left(budget) <= 0:
        raise ParticipationError(
            _("计入的纸质选票已与投票点登记的人数相同,不能再计入(请核对票箱)。"), code="too_many_paper", field="receipt"
        )
    sheet.ballot = _write_ballot(budget, Channel.PAPER, sheet.receipt_hash, proposals)
    sheet.state = state
    sheet.save(update_fields=["ballot", "state"])


@transaction.atomic
def paper_sheet_resolve(*, actor: Any, sheet: PaperSheet, proposal_ids: list[Any]) -> PaperSheet:
    """复核: a third staff member reads the paper and records what it says; the ballot is counted."""
    sheet = PaperSheet.objects.select_for_update().select_related("budget", "budget__unit").get(pk=sheet.pk)
    budget = lock_budget(sheet.budget)
    require_staff(actor, budget.unit)
    require_phase(budget, "paper_entry")
    if sheet.state != PaperSheetState.MISMATCH:
        raise ParticipationError(_("只有两次录入不一致的选票需要复核。"), code="invalid_transition")
    entries = list(sheet.entries.all())
    if any(e.entered_by_id == getattr(actor, "pk", None) for e in entries):
        raise ParticipationError(_("复核须由两次录入以外的第三名工作人员进行。"), code="same_clerk")
    check = ballot_check(budget=budget, proposal_ids=proposal_ids)
    _require_valid(check)
    PaperBallotEntry.objects.create(sheet=sheet, seq=len(entries) + 1, proposal_ids=sorted(p.pk for p in check.proposals), entered_by=actor)
    _count_sheet(budget, sheet, check.proposals, PaperSheetState.RESOLVED)
    audit_record(actor=actor, act="participation.paper_resolve", obj=sheet, changed_fields=["state"])
    return sheet


# --- receipt verification ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptStatus:
    found: bool
    proposals: list[Proposal]
    channel: str = ""
    public_id: str = ""
    counted: bool = False
    tallied: bool = False


def receipt_verify(*, budget: Budget, receipt: str) -> ReceiptStatus:
    """核对选票: the ballot behind a receipt code, and whether the published count includes it."""
    code_hash = receipt_hash(budget.pk, receipt)
    ballot = Ballot.objects.filter(budget=budget, receipt_hash=code_hash).first()
    tally = Tally.objects.filter(budget=budget, rule="greedy").first()
    if ballot is None:
        sheet = PaperSheet.objects.filter(budget=budget, receipt_hash=code_hash).first()
        if sheet is not None:
            return ReceiptStatus(found=False, proposals=[], channel=Channel.PAPER, tallied=tally is not None)
        return ReceiptStatus(found=False, proposals=[], tallied=tally is not None)
    proposals = list(Proposal.objects.filter(pk__in=ballot.choices.values("proposal_id")).order_by("number"))
    counted = False
    if tally is not None:
        from .tally import receipts_digest

        counted = tally.receipts_digest == receipts_digest(budget) and budget.phase != Phase.VOTING
    return ReceiptStatus(True, proposals, ballot.channel, ballot.public_id, counted, tally is not None)
