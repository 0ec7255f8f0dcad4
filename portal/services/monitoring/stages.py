"""Where a cluster-year stands in its year, and what is late: pure functions over a small facts record.

`Facts` is what the dashboard reads of one cluster-year (a few grouped queries for every cluster at
once, see `board`); `stage_of` and `late_items` know nothing of the database, so they are tested
directly. The later steps (meeting → published → council decision) are reached through their facts
(`meeting_held`: the year-end meeting exists; `published`: a result snapshot exists; `council_decided`:
the council has decided every proposal of the latest revision), which `board` reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from portal.models.base import N_, LabelledEnum
from portal.models.criteria import SetStatus
from portal.models.scoring import RoundKind, RoundStatus, effective_deadline


class Stage(LabelledEnum):
    """The step of the year a cluster-year has reached, in the order the year runs."""

    CRITERIA = "criteria", N_("Xây dựng tiêu chí")
    PLEDGE = "pledge", N_("Ký giao ước, đăng ký chỉ tiêu")
    SELF = "self", N_("Tự chấm điểm")
    VERIFICATION = "verification", N_("Thẩm định")
    PEER = "peer", N_("Chấm chéo")
    MEETING = "meeting", N_("Hội nghị bình xét")
    PUBLISHED = "published", N_("Đã công bố kết quả")
    COUNCIL_DECISION = "council_decision", N_("Hội đồng đã quyết định")


STAGE_ORDER = {stage: position for position, stage in enumerate(Stage)}
ROUND_STAGES = (
    (RoundKind.PEER, Stage.PEER),
    (RoundKind.VERIFICATION, Stage.VERIFICATION),
    (RoundKind.SELF, Stage.SELF),
)


@dataclass(frozen=True)
class RoundFacts:
    """One scoring round: its status, its deadline (naive UTC) and how many of its assessments are in.

    `extensions` holds, for each assessment still out that was given more time, its own deadline
    (`Assessment.extended_until`): that assessment is due at the later of it and the round's deadline.
    """

    status: str  # a RoundStatus
    deadline: datetime | None = None
    expected: int = 0  # assessments the round waits for (one per unit, or per assigned review)
    submitted: int = 0
    extensions: tuple[datetime, ...] = ()

    def overdue(self, now: datetime) -> int:
        """Assessments still out at `now` whose effective deadline (the round's, or a later extension) has passed."""
        out = self.expected - self.submitted
        if self.status != RoundStatus.OPEN or out <= 0:
            return 0
        extended = self.extensions[:out]
        passed = sum(1 for until in extended if effective_deadline(self.deadline, until) < now)
        if self.deadline is not None and self.deadline < now:
            passed += out - len(extended)
        return passed


@dataclass(frozen=True)
class Proposal:
    """A nomination the cluster published (an award for a unit) and the council's verdict once recorded."""

    award: str  # the award type's code
    award_name: str
    unit_id: int
    unit_name: str
    verdict: str | None = None  # a publication Verdict; None while the council has not decided


@dataclass(frozen=True)
class Facts:
    """What stage and lateness are computed from, for one cluster-year."""

    members: int = 0
    criteria_status: str | None = None  # the set in force: a SetStatus, None without a table
    pledge: bool = False
    pledge_meeting: date | None = None  # the signing meeting's date, when set
    signed: int = 0  # members whose latest signature is for the pledge's newest charter
    quantitative: int = 0  # quantitative criteria of the table (each needs a target per member)
    missing_targets: int = 0  # members missing a target on some quantitative criterion
    rounds: dict[str, RoundFacts] = field(default_factory=dict)  # RoundKind → facts
    meeting_held: bool = False  # the year-end meeting has been opened
    published: bool = False  # the results are published (a snapshot exists)
    council_decided: bool = False  # the council decided every published proposal
    proposals: tuple[Proposal, ...] = ()  # the latest published revision's nominations, with verdicts


def stage_of(facts: Facts) -> Stage:
    """The furthest step the cluster-year has reached (a round counts once it is open)."""
    for reached, stage in (
        (facts.council_decided, Stage.COUNCIL_DECISION),
        (facts.published, Stage.PUBLISHED),
        (facts.meeting_held, Stage.MEETING),
    ):
        if reached:
            return stage
    for kind, stage in ROUND_STAGES:
        found = facts.rounds.get(kind)
        if found is not None and found.status != RoundStatus.DRAFT:
            return stage
    if facts.criteria_status in (None, SetStatus.DRAFT):
        return Stage.CRITERIA
    return Stage.PLEDGE


@dataclass(frozen=True)
class Late:
    """One thing that is late in a cluster-year: what (a code), how many units or reviews."""

    code: str
    count: int

    @property
    def label(self) -> str:
        return LATE_LABELS[self.code]


LATE_LABELS = {
    "self": N_("Quá hạn tự chấm: đơn vị chưa nộp"),
    "verification": N_("Quá hạn thẩm định: bản chưa xong"),
    "peer": N_("Quá hạn chấm chéo: phiếu chưa nộp"),
    "targets": N_("Thiếu chỉ tiêu đăng ký"),
    "signatures": N_("Chưa ký giao ước"),
}


def late_items(facts: Facts, now: datetime, today: date) -> list[Late]:
    """What is late at `now` (naive UTC) on `today` (Vietnam's day): overdue rounds, targets and signatures.

    A round is late for each assessment still out whose effective deadline has passed: the round's
    deadline, or the unit's own extension when that is later (a closed round is never late: what was
    not handed in stays out). Targets and signatures are due by the signing
    meeting, or once scoring has started when no meeting date is set.
    """
    found = []
    for kind in (RoundKind.SELF, RoundKind.VERIFICATION, RoundKind.PEER):
        r = facts.rounds.get(kind)
        if r and (overdue := r.overdue(now)):
            found.append(Late(str(kind), overdue))
    scoring_started = STAGE_ORDER[stage_of(facts)] >= STAGE_ORDER[Stage.SELF]
    due = scoring_started or (facts.pledge_meeting is not None and facts.pledge_meeting < today)
    if due and facts.missing_targets:
        found.append(Late("targets", facts.missing_targets))
    if due and facts.pledge and facts.signed < facts.members:
        found.append(Late("signatures", facts.members - facts.signed))
    return found


@dataclass(frozen=True)
class Completion:
    """done over total, for the completion columns (total 0: nothing to do yet)."""

    done: int
    total: int

    @property
    def share(self) -> float:
        return self.done / self.total if self.total else 0.0


def completion(facts: Facts) -> dict[str, Completion]:
    """Units signed, self-assessments submitted, reviews done (verifications and peer reviews), each over its total."""
    rounds = facts.rounds
    self_round = rounds.get(RoundKind.SELF)
    reviews = [rounds[k] for k in (RoundKind.VERIFICATION, RoundKind.PEER) if k in rounds]
    return {
        "signed": Completion(facts.signed if facts.pledge else 0, facts.members),
        "submitted": Completion(self_round.submitted if self_round else 0, facts.members),
        "reviews": Completion(sum(r.submitted for r in reviews), sum(r.expected for r in reviews)),
    }
