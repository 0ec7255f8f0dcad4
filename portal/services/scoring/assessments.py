"""Self-assessment: opening the round, saving a criterion's score, totals, submit and return.

A save names the revision it was made on; if someone else saved the same
criterion meanwhile, it is refused as a conflict (the UI shows both values)
instead of silently overwriting. The database enforces the same with the
Score row's version column. Quantitative points depend on every unit's result,
so saving one unit's value recomputes the criterion's points for the group.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.attributes import set_committed_value

from portal.models import (
    Assessment,
    CriteriaSet,
    Criterion,
    Membership,
    ResultSettings,
    Score,
    ScoringRound,
    TargetRegistration,
)
from portal.models.base import N_, utcnow
from portal.models.criteria import CriterionKind, Method, SetStatus
from portal.models.notices import NoticeKind
from portal.models.scoring import AssessmentStatus, RoundKind, RoundStatus, Stage
from portal.services import DomainError
from portal.services.criteria import methods
from portal.services.criteria import sets as criteria_svc
from portal.services.criteria.methods import ScoreError
from portal.services.criteria.tree import Tree
from portal.services.notices import events as notices
from portal.services.platform import control_chars
from portal.services.platform.control_chars import has_control_characters
from portal.services.scoring import not_applicable, rounds, verification

ZERO = Decimal("0")
YES = {"1", "dat", "co", "x", "true", "yes"}
NO = {"0", "khong dat", "khong", "false", "no"}


class ConflictError(DomainError):
    """Someone saved this criterion after the version the user was editing."""

    def __init__(self, score: Score):
        super().__init__(N_("Điểm tiêu chí này vừa được người khác lưu; hãy xem giá trị mới rồi lưu lại."), "value")
        self.score = score


def open_self_round(session: Session, cset: CriteriaSet, deadline: datetime | None = None) -> ScoringRound:
    """Scoring opens on a locked table: one draft self-assessment per member unit."""
    if cset.status != SetStatus.LOCKED:
        raise DomainError(N_("Phải khóa bảng tiêu chí (mở chấm điểm) trước khi mở vòng tự chấm."))
    if rounds.find_round(session, cset.cluster_id, cset.year_id, RoundKind.SELF) is not None:
        raise DomainError(N_("Vòng tự chấm điểm năm này đã được mở."))
    scoring_round = ScoringRound(
        cluster_id=cset.cluster_id, year_id=cset.year_id, criteria_set=cset, kind=RoundKind.SELF, deadline=deadline
    )
    session.add(scoring_round)
    session.flush()
    unit_ids = session.scalars(
        select(Membership.unit_id).where(Membership.year_id == cset.year_id, Membership.cluster_id == cset.cluster_id)
    )
    rounds.add_drafts(session, scoring_round, cset, Stage.SELF, ((unit_id, unit_id) for unit_id in unit_ids))
    session.flush()
    notices.notify(
        session,
        notices.unit_users(session, cset.cluster_id, cset.year_id),
        NoticeKind.ROUND_OPENED,
        cluster_id=cset.cluster_id,
        year_id=cset.year_id,
        message=N_("%(cluster)s: vòng tự chấm điểm năm %(year)s đã mở."),
        params={"cluster": cset.cluster.name, "year": cset.year.year},
        endpoint="scoring.for_cluster",
        args={"cluster_id": cset.cluster_id, "year": cset.year.year},
    )
    return scoring_round


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower().strip()


def parse_value(criterion: Criterion, raw: str | None, step: Decimal | None) -> Decimal | None:
    """What the unit reports for one criterion, checked by its method; blank clears it."""
    if raw is None or not str(raw).strip():
        return None
    if criterion.method == Method.PASS_FAIL:
        word = _plain(str(raw))
        if word in YES:
            return Decimal(1)
        if word in NO:
            return ZERO
        raise ScoreError("Chọn Đạt hoặc Không đạt.")
    if criterion.method == Method.PER_OCCURRENCE:
        count = methods.parse_decimal(raw, field="Số lần")
        if count < 0 or count != count.to_integral_value():
            raise ScoreError("Số lần phải là số nguyên không âm.")
        return count
    if criterion.method == Method.QUANTITATIVE:
        actual = methods.parse_decimal(raw, field="Kết quả thực hiện")
        if actual < 0:
            raise ScoreError("Kết quả thực hiện không được âm.")
        return actual
    return methods.direct(methods.parse_decimal(raw, field="Điểm"), criterion.max_points or ZERO, step)


def points_of(criterion: Criterion, value: Decimal | None) -> Decimal | None:
    """Points of a non-quantitative criterion from its value."""
    if value is None:
        return None
    if criterion.method == Method.PASS_FAIL:
        return methods.pass_fail(value == 1, criterion.max_points or ZERO)
    if criterion.method == Method.PER_OCCURRENCE:
        return methods.per_occurrence(int(value), criterion.points_each or ZERO, criterion.max_points)
    return methods.round_points(value)


def check_open(assessment: Assessment, now: datetime) -> None:
    """Refuse changes to a submitted assessment, in a closed round, or after its effective deadline (the later
    of the round's deadline and the unit's extension: `Assessment.effective_deadline`)."""
    if assessment.round.status == RoundStatus.CLOSED:
        raise DomainError(N_("Vòng chấm đã đóng; không sửa, không nộp được nữa."))
    if results_published(assessment):
        raise DomainError(N_("Kết quả năm này đã công bố; điểm không thay đổi được nữa."))
    if not assessment.editable:
        raise DomainError(N_("Bản chấm điểm đã nộp; chỉ sửa được khi Trưởng cụm, khối trả lại."))
    deadline = assessment.effective_deadline
    if deadline is not None and now > deadline:
        raise DomainError(N_("Đã quá hạn chấm điểm; đề nghị Trưởng cụm, khối gia hạn."))


_check_open = check_open


def results_published(assessment: Assessment) -> bool:
    """Whether the cluster-year's results are published (their settings locked): then no score changes."""
    session = object_session(assessment)
    scoring_round = assessment.round
    return session is not None and bool(
        session.scalar(
            select(ResultSettings.id).where(
                ResultSettings.cluster_id == scoring_round.cluster_id,
                ResultSettings.year_id == scoring_round.year_id,
                ResultSettings.locked_at.is_not(None),
            )
        )
    )


@dataclass(frozen=True)
class Sheet:
    """What a save checks a criterion against and the totals are summed over, loaded once per request:
    the assessment's criteria tree and the leaves that do not apply to its unit (two queries)."""

    tree: Tree
    excluded: dict[int, str]


def sheet_of(session: Session, assessment: Assessment) -> Sheet:
    return Sheet(
        criteria_svc.load_tree(session, assessment.round.criteria_set), not_applicable.reasons(session, assessment)
    )


def save_score(
    session: Session,
    assessment: Assessment,
    criterion: Criterion,
    raw: str | None,
    note: str = "",
    *,
    expected_revision: int | None,
    user_id: int | None,
    now: datetime | None = None,
    sheet: Sheet | None = None,
) -> Score:
    """Save one criterion (value and explanation) and recompute the points it moves.

    `expected_revision` is the revision the user's form was made on: 0 when the form saw no score
    yet (a score saved meanwhile by someone else is then a conflict too), None to skip the check
    (the Excel import, which compares values itself). `sheet`, when the caller has loaded it (the
    autosave, which sums the totals from it too), spares the leaf and "không áp dụng" lookups.
    """
    lock_assessment(session, assessment)
    check_open(assessment, now or utcnow())
    if criterion.method == Method.QUANTITATIVE:
        lock_group(session, criterion)
    value, note = _checked_input(session, assessment, criterion, raw, note, sheet)
    score = session.scalar(
        select(Score)
        .where(Score.assessment_id == assessment.id, Score.criterion_id == criterion.id)
        .execution_options(populate_existing=True)  # as committed now, after the lock: its revision is current
    )
    if score is None:
        score = Score(assessment_id=assessment.id, criterion=criterion)
        session.add(score)
    elif score.value == value and score.note == note:
        return score  # nothing changed (an autosave of the same text): no write, no audit entry, no conflict
    elif expected_revision is not None and score.revision != expected_revision:
        raise ConflictError(score)
    score.value, score.note = value, note
    score.updated_at, score.updated_by_user_id = now or utcnow(), user_id
    if criterion.method == Method.QUANTITATIVE:
        session.flush()
        recompute_quantitative(session, assessment, criterion)
    else:
        score.points = points_of(criterion, value)
    session.flush()
    return score


def _checked_input(
    session: Session,
    assessment: Assessment,
    criterion: Criterion,
    raw: str | None,
    note: str | None,
    sheet: Sheet | None = None,
) -> tuple[Decimal | None, str]:
    """The value and note to save, once the criterion is a leaf of the assessment's table and both are valid."""
    if criterion.set_id != assessment.criteria_set_id:
        raise DomainError(N_("Tiêu chí không thuộc bảng tiêu chí của bản chấm này."))
    if sheet is None:
        leaf = session.scalar(select(Criterion.id).where(Criterion.parent_id == criterion.id).limit(1)) is None
    else:
        leaf = sheet.tree.is_leaf(criterion)
    if not leaf:
        raise DomainError(N_("Chỉ chấm điểm các tiêu chí không có tiêu chí con."))
    if sheet is None:
        not_applicable.check_applies(session, assessment, criterion)
    elif criterion.id in sheet.excluded:
        raise not_applicable.refused(sheet.excluded[criterion.id])
    try:
        value = parse_value(criterion, raw, assessment.round.criteria_set.score_step)
    except ScoreError as error:
        raise DomainError(str(error), "value") from None
    note = (note or "").strip()[:4000]
    if has_control_characters(note):
        raise DomainError(control_chars.MESSAGE, "note")
    return value, note


def recompute_quantitative(session: Session, assessment: Assessment, criterion: Criterion) -> None:
    """Every unit's points on a quantitative criterion, from all results in the same round and stage."""
    if assessment.stage in LATER_STAGES:
        return _recompute_later(session, assessment, criterion)
    group = select(Assessment.id).where(
        Assessment.round_id == assessment.round_id, Assessment.stage == assessment.stage
    )
    if assessment.stage == Stage.PEER:  # a reviewer compares the units it reviews
        group = group.where(Assessment.author_unit_id == assessment.author_unit_id)
    rows = session.execute(
        select(Score, Assessment.subject_unit_id)
        .join(Assessment, Assessment.id == Score.assessment_id)
        .where(Score.criterion_id == criterion.id, Score.assessment_id.in_(group))
    ).all()
    targets = _targets(session, criterion)
    results = {unit_id: (score.value, targets.get(unit_id)) for score, unit_id in rows}
    points = methods.quantitative(results, criterion.max_points or ZERO)
    for score, unit_id in rows:
        _set_points(session, score, points[unit_id] if score.value is not None else None)


LATER_STAGES = (Stage.VERIFIED, Stage.EXPLANATION, Stage.FINAL)


def lock_assessment(session: Session, assessment: Assessment) -> None:
    """Changes to one assessment (saves, evidence, submit) happen one after the other, each seeing the last.

    Without it two tabs of one unit could both insert a criterion's first score (unique violation)
    or both update it from the same revision (a stale write), two submits could both pass, and a
    save could land after a submit. The row lock is taken first, before anything is written, and the
    state is read again under it. SQLite serialises writers anyway (FOR UPDATE is a no-op there).
    """
    status = session.scalar(
        select(Assessment.status).where(Assessment.id == assessment.id).with_for_update(key_share=True)
    )
    if status != assessment.status:
        session.refresh(assessment)  # submitted or returned meanwhile


def lock_group(session: Session, criterion: Criterion) -> None:
    """Serialise saves of one quantitative criterion (any unit): each recompute must see the others' results.

    Taken before the save writes anything, so two units saving at once queue here instead of
    deadlocking on each other's score rows. SQLite serialises writers anyway (FOR UPDATE is a no-op).
    """
    session.execute(select(Criterion.id).where(Criterion.id == criterion.id).with_for_update())


def _set_points(session: Session, score: Score, new: Decimal | None) -> None:
    """Derived points of a score row: written without bumping its revision, so a unit editing its own form
    gets no conflict because another unit's result moved its points (the values themselves are audited)."""
    if score.points == new:
        return
    if score in session.dirty or score in session.new:
        score.points = new  # the row being saved: its own update carries the points
        return
    session.execute(update(Score.__table__).where(Score.__table__.c.id == score.id).values(points=new))
    set_committed_value(score, "points", new)


def _targets(session: Session, criterion: Criterion) -> dict[int, Decimal]:
    return dict(
        session.execute(
            select(TargetRegistration.unit_id, TargetRegistration.target).where(
                TargetRegistration.criterion_id == criterion.id
            )
        ).all()
    )


def _recompute_later(session: Session, assessment: Assessment, criterion: Criterion) -> None:
    """Verified, explained and final points compare each unit with the others' latest standing results.

    A unit's standing result is its verified value where it has one, else its self value (and,
    for final scores, the final value where fixed). An explanation is a proposal: it is compared
    with the others' standing results, never with their proposals.
    """
    stage = assessment.stage
    round_ids = rounds.self_and_verification_rounds(assessment.round.cluster_id, assessment.round.year_id)
    rows = session.execute(
        select(Score, Assessment.subject_unit_id, Assessment.stage)
        .join(Assessment, Assessment.id == Score.assessment_id)
        .where(
            Score.criterion_id == criterion.id,
            Assessment.round_id.in_(round_ids),
            Assessment.stage.in_({Stage.SELF, Stage.VERIFIED, stage}),
        )
    ).all()
    precedence = [Stage.SELF, Stage.VERIFIED] + ([Stage.FINAL] if stage == Stage.FINAL else [])
    standing: dict[int, Decimal | None] = {}
    for wanted in precedence:
        standing.update({unit_id: score.value for score, unit_id, st in rows if st == wanted})
    targets = _targets(session, criterion)
    maximum = criterion.max_points or ZERO
    own_rows = [(score, unit_id) for score, unit_id, st in rows if st == stage]
    shared = (
        None
        if stage == Stage.EXPLANATION
        else methods.quantitative({u: (v, targets.get(u)) for u, v in standing.items()}, maximum)
    )
    for score, unit_id in own_rows:
        if shared is not None:
            points = shared[unit_id]
        else:
            proposal = {**standing, unit_id: score.value}
            points = methods.quantitative({u: (v, targets.get(u)) for u, v in proposal.items()}, maximum)[unit_id]
        _set_points(session, score, points if score.value is not None else None)


@dataclass
class Totals:
    base: Decimal = ZERO
    bonus: Decimal = ZERO
    deduction: Decimal = ZERO
    sections: dict[int, Decimal] = field(default_factory=dict)  # root with children (a section) id → points
    kinds: dict[int, str] = field(default_factory=dict)  # section id → kind (scored, bonus, deduction)
    missing: list[str] = field(default_factory=list)  # codes of leaves not scored yet
    maximum: Decimal = ZERO  # of the scored sections, without the leaves that do not apply to the unit
    not_applicable: dict[int, str] = field(default_factory=dict)  # leaf id → reason ("không áp dụng")

    @property
    def total(self) -> Decimal:
        return self.base + self.bonus - self.deduction


def totals(
    session: Session, assessment: Assessment, excluded: dict[int, str] | None = None, tree: Tree | None = None
) -> Totals:
    """Section and grand totals: bonus on top, deductions (capped when the table says so) off; the leaves that
    do not apply to the unit count for nothing and are not missing."""
    cset = assessment.round.criteria_set
    if tree is None:
        tree = criteria_svc.load_tree(session, cset)
    points = dict(
        session.execute(select(Score.criterion_id, Score.points).where(Score.assessment_id == assessment.id)).all()
    )
    if excluded is None:
        excluded = not_applicable.reasons(session, assessment)
    result = Totals(not_applicable=excluded)
    result.maximum = not_applicable.applicable_total(tree, not_applicable.applicable_maxima(tree, excluded))
    by_kind = dict.fromkeys(CriterionKind, ZERO)
    paths = tree.paths()
    for root in tree.roots:
        leaves = [n for n, _ in tree.walk([root]) if tree.is_leaf(n) and n.id not in excluded]
        result.missing += [paths[n.id] for n in leaves if points.get(n.id) is None]
        subtotal = sum((points.get(n.id) or ZERO for n in leaves), ZERO)
        by_kind[root.kind] += subtotal
        if not tree.is_leaf(root):  # a top-level leaf (a bonus item) shows its points on its own row
            result.sections[root.id], result.kinds[root.id] = subtotal, root.kind
    result.base = by_kind[CriterionKind.SCORED]
    result.bonus, result.deduction = methods.capped(
        by_kind[CriterionKind.BONUS],
        by_kind[CriterionKind.DEDUCTION],
        tree.total(CriterionKind.BONUS),
        tree.total(CriterionKind.DEDUCTION),
        cset.deduction_capped,
    )
    return result


def submit(session: Session, assessment: Assessment, user_id: int | None, now: datetime | None = None) -> None:
    """Hand in the assessment: every criterion must have a value; it is then locked."""
    now = now or utcnow()
    lock_assessment(session, assessment)
    check_open(assessment, now)
    missing = totals(session, assessment).missing  # bonus and deduction items too: 0 is an answer
    if missing:
        raise DomainError(N_("Còn %(count)s tiêu chí chưa chấm: %(codes)s."), count=len(missing), codes=_codes(missing))
    if assessment.stage in (Stage.VERIFIED, Stage.FINAL):
        unexplained = verification.missing_reasons(session, assessment, _leaf_codes(session, assessment))
        if unexplained:
            raise DomainError(
                N_("Nêu lý do ở các tiêu chí có điểm khác điểm tự chấm: %(codes)s."), codes=_codes(unexplained)
            )
    assessment.status, assessment.submitted_at, assessment.submitted_by_user_id = (
        AssessmentStatus.SUBMITTED,
        now,
        user_id,
    )
    session.flush()
    if assessment.stage in (Stage.VERIFIED, Stage.EXPLANATION):
        _notify_handed_over(session, assessment)


def _notify_handed_over(session: Session, assessment: Assessment) -> None:
    """A sent verification waits on the unit (its explanation); a sent explanation waits on the head."""
    scoring_round = assessment.round
    cluster_id, year_id = scoring_round.cluster_id, scoring_round.year_id
    if assessment.stage == Stage.VERIFIED:
        kind, recipients = (
            NoticeKind.VERIFICATION_SENT,
            notices.unit_users(session, cluster_id, year_id, [assessment.subject_unit_id]),
        )
        message = N_("Trưởng cụm, khối đã gửi kết quả thẩm định điểm của %(unit)s.")
    else:
        kind, recipients = NoticeKind.EXPLANATION_RECEIVED, notices.head_users(session, cluster_id, year_id)
        message = N_("%(unit)s đã nộp giải trình kết quả thẩm định.")
    notices.notify(
        session,
        recipients,
        kind,
        cluster_id=cluster_id,
        year_id=year_id,
        message=message,
        params={"unit": assessment.subject.name},
        endpoint="scoring.assessment",
        args={"assessment_id": assessment.id},
    )


def _codes(codes: list[str]) -> str:
    return ", ".join(codes[:15]) + ("…" if len(codes) > 15 else "")


def _leaf_codes(session: Session, assessment: Assessment) -> dict[int, str]:
    """Each leaf's full code (I.2.1) by id, as the unit reads it in the table."""
    return criteria_svc.load_tree(session, assessment.round.criteria_set).paths()


def score_maps(session: Session, assessment_ids: list[int]) -> dict[int, dict[int, Score]]:
    """The scores of many assessments, by assessment then criterion: one query."""
    maps: dict[int, dict[int, Score]] = {aid: {} for aid in assessment_ids}
    if assessment_ids:
        for score in session.scalars(select(Score).where(Score.assessment_id.in_(assessment_ids))):
            maps[score.assessment_id][score.criterion_id] = score
    return maps


def return_for_revision(session: Session, assessment: Assessment, reason: str) -> None:
    """The head sends a submitted assessment back, with the reason."""
    reason = (reason or "").strip()
    if assessment.status != AssessmentStatus.SUBMITTED:
        raise DomainError(N_("Chỉ trả lại bản chấm đã nộp."))
    if results_published(assessment):
        raise DomainError(N_("Kết quả năm này đã công bố; điểm không thay đổi được nữa."))
    if len(reason) < 5:
        raise DomainError(N_("Nêu lý do trả lại."), "reason")
    assessment.status, assessment.returned_reason = AssessmentStatus.RETURNED, reason
    session.flush()


def extend(session: Session, assessment: Assessment, until: datetime, now: datetime | None = None) -> None:
    """Give one unit more time after the round's deadline."""
    if until <= (now or utcnow()):
        raise DomainError(N_("Hạn gia hạn phải sau thời điểm hiện tại."), "until")
    assessment.extended_until = until
    session.flush()
