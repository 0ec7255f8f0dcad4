"""Publishing a cluster-year's results ("Công bố kết quả"), its corrections (revisions) and reading them back.

Precondition of a publication: the year-end meeting is closed (no vote left undecided) and has
nominations. Publishing freezes the snapshot (revision 1) and locks the cluster-year's result settings
(`ResultSettings.locked_at`): settings, bands, "không áp dụng" marks and scores refuse changes from then
on. A correction (head, a deputy the head lets lead, or the secretariat; a reason is required) changes the
points of leaf criteria, is computed again from the snapshot's own stored input, and is stored as the
next revision with its parent's hash. Every snapshot row is audited and never changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import EmulationYear, ResultSettings, ResultSnapshot, ReviewMeeting
from portal.models.base import N_, utcnow
from portal.models.meetings import MeetingStatus
from portal.models.notices import NoticeKind
from portal.policy import ClusterYear
from portal.services import DomainError
from portal.services.meetings import ballot, record
from portal.services.notices import events as notices
from portal.services.platform import control_chars
from portal.services.publication import codec, compose, freeze

REASON_MAX = 2000
NOTICE_REASON = 150  # characters of the reason a correction's notice quotes; the page has all of it
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Correction:
    unit_id: int
    criterion_id: int
    points: str  # as typed: "12,5"


def history(session: Session, where: ClusterYear) -> list[ResultSnapshot]:
    """Every revision of the cluster-year's publication, first to last (one query)."""
    return list(
        session.scalars(
            select(ResultSnapshot)
            .where(ResultSnapshot.cluster_id == where.cluster_id, ResultSnapshot.year_id == where.year_id)
            .order_by(ResultSnapshot.revision)
        )
    )


def latest(session: Session, where: ClusterYear) -> ResultSnapshot | None:
    return session.scalar(
        select(ResultSnapshot)
        .where(ResultSnapshot.cluster_id == where.cluster_id, ResultSnapshot.year_id == where.year_id)
        .order_by(ResultSnapshot.revision.desc())
        .limit(1)
    )


def content_of(snapshot: ResultSnapshot) -> dict:
    return json.loads(snapshot.content)


def _store(session: Session, content: dict, where: ClusterYear, revision: int, parent, reason, user_id):
    snapshot = ResultSnapshot(
        hash=codec.digest(content),
        cluster_id=where.cluster_id,
        year_id=where.year_id,
        revision=revision,
        parent_hash=parent,
        reason=reason,
        content=codec.canonical(content),
        created_by_user_id=user_id,
    )
    session.add(snapshot)
    session.flush()
    return snapshot


def _lock(session: Session, where: ClusterYear) -> None:
    row = session.scalar(
        select(ResultSettings).where(
            ResultSettings.cluster_id == where.cluster_id, ResultSettings.year_id == where.year_id
        )
    )
    if row is None:
        row = ResultSettings(cluster_id=where.cluster_id, year_id=where.year_id)
        session.add(row)
    row.locked_at = utcnow()
    session.flush()


def publish(session: Session, where: ClusterYear, user_id: int | None) -> ResultSnapshot:
    """Freeze the cluster-year's results as revision 1 and lock what they are computed from."""
    meeting = record.find(session, where)
    if meeting is None or meeting.status != MeetingStatus.CLOSED:
        raise DomainError(N_("Chỉ công bố được kết quả sau khi hội nghị tổng kết đã kết thúc."))
    if not ballot.nominations(session, meeting):
        raise DomainError(N_("Hội nghị chưa có kết quả bình xét, suy tôn: chưa công bố được."))
    if latest(session, where) is not None:
        raise DomainError(N_("Kết quả năm này đã công bố; muốn sửa, hãy lập một lần đính chính có lý do."))
    content = compose.compose(freeze.freeze(session, meeting))
    snapshot = _store(session, content, where, 1, None, "", user_id)
    _lock(session, where)
    _announce(session, meeting)
    return snapshot


def _announce(session: Session, meeting: ReviewMeeting) -> None:
    """Tell the cluster-year's member units and its overseeing council member that the results are out."""
    cluster_id, year_id = meeting.cluster_id, meeting.year_id
    notices.notify(
        session,
        notices.unit_users(session, cluster_id, year_id) + notices.overseer_users(session, cluster_id, year_id),
        NoticeKind.RESULTS_PUBLISHED,
        cluster_id=cluster_id,
        year_id=year_id,
        message=N_("%(cluster)s: kết quả thi đua năm %(year)s đã được công bố."),
        params={"cluster": meeting.cluster.name, "year": meeting.year.year},
        endpoint="publication.show",
        args={"cluster_id": cluster_id, "year": meeting.year.year},
    )


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(N_("Nêu lý do đính chính."), "reason")
    if len(reason) > REASON_MAX or control_chars.has_control_characters(reason):
        raise DomainError(N_("Lý do tối đa %(max)s ký tự, không có ký tự điều khiển."), "reason", max=REASON_MAX)
    return reason


def _points(raw: str, maximum: Decimal) -> Decimal:
    try:
        points = Decimal((raw or "").strip().replace(",", "."))
    except InvalidOperation:
        raise DomainError(N_("Nhập số điểm, ví dụ 12,5."), "points") from None
    if not points.is_finite() or points < 0 or points > maximum:
        raise DomainError(N_("Điểm phải từ 0 đến %(max)s."), "points", max=str(maximum).replace(".", ","))
    if points != points.quantize(CENT):
        raise DomainError(N_("Điểm lấy tối đa hai chữ số thập phân."), "points")
    return points


def _adjusted(content: dict, correction: Correction) -> list[dict]:
    """The snapshot's changes with the correction's points on one leaf of one unit."""
    units = {u["unit_id"]: u for u in content["input"]["units"]}
    leaves = {leaf["criterion_id"]: leaf for leaf in content["input"]["table"]["leaves"]}
    if correction.unit_id not in units:
        raise DomainError(N_("Đơn vị không có trong kết quả đã công bố."), "unit_id")
    leaf = leaves.get(correction.criterion_id)
    if leaf is None or correction.criterion_id in units[correction.unit_id]["not_applicable"]:
        raise DomainError(N_("Chọn một tiêu chí được chấm điểm áp dụng cho đơn vị."), "criterion_id")
    points = _points(correction.points, Decimal(leaf["max_points"]))
    kept = [
        a
        for a in content["adjustments"]
        if (a["unit_id"], a["criterion_id"]) != (correction.unit_id, correction.criterion_id)
    ]
    engine_unit = next(u for u in content["computed"]["engine"]["units"] if u["unit_id"] == correction.unit_id)
    engine_points = next(x["points"] for x in engine_unit["leaves"] if x["criterion_id"] == correction.criterion_id)
    change = {
        "unit_id": correction.unit_id,
        "criterion_id": correction.criterion_id,
        "code": leaf["code"],
        "engine_points": engine_points,
        "points": str(points),
        "reason": "",
    }
    return sorted([*kept, change], key=lambda a: (a["unit_id"], a["criterion_id"]))


def revise(
    session: Session, where: ClusterYear, correction: Correction, reason: str, user_id: int | None
) -> ResultSnapshot:
    """A correction of the published points: the next revision, computed from the stored input."""
    last = latest(session, where)
    if last is None:
        raise DomainError(N_("Kết quả năm này chưa công bố."))
    reason = _reason(reason)
    content = content_of(last)
    adjustments = _adjusted(content, correction)
    for a in adjustments:
        if (a["unit_id"], a["criterion_id"]) == (correction.unit_id, correction.criterion_id):
            a["reason"] = reason
    frozen = {k: v for k, v in content.items() if k not in ("computed", "table")}
    new = compose.compose({**frozen, "adjustments": adjustments})
    if _points_of(new) == _points_of(content):
        raise DomainError(N_("Đính chính không thay đổi điểm nào."), "points")
    snapshot = _store(session, new, where, last.revision + 1, last.hash, reason, user_id)
    _announce_correction(session, snapshot)
    return snapshot


def _announce_correction(session: Session, snapshot: ResultSnapshot) -> None:
    """Tell those told of the publication that it was corrected: the revision, its reason, the link to what changed."""
    cluster_id, year_id = snapshot.cluster_id, snapshot.year_id
    year = session.get(EmulationYear, year_id).year
    reason = snapshot.reason if len(snapshot.reason) <= NOTICE_REASON else snapshot.reason[: NOTICE_REASON - 1] + "…"
    notices.notify(
        session,
        notices.unit_users(session, cluster_id, year_id) + notices.overseer_users(session, cluster_id, year_id),
        NoticeKind.RESULTS_CORRECTED,
        cluster_id=cluster_id,
        year_id=year_id,
        message=N_(
            "%(cluster)s: kết quả thi đua năm %(year)s đã được đính chính (lần công bố %(revision)s). Lý do: %(reason)s"
        ),
        params={"cluster": snapshot.cluster.name, "year": year, "revision": snapshot.revision, "reason": reason},
        endpoint="publication.show",
        args={
            "cluster_id": cluster_id,
            "year": year,
            "from": snapshot.revision - 1,
            "to": snapshot.revision,
            "_anchor": "revision-diff",
        },
    )


def _points_of(content: dict) -> dict:
    return {(a["unit_id"], a["criterion_id"]): a["points"] for a in content["adjustments"]}


def count_published(session: Session, year_id: int) -> int:
    return session.scalar(
        select(func.count(func.distinct(ResultSnapshot.cluster_id))).where(ResultSnapshot.year_id == year_id)
    )


@dataclass(frozen=True)
class Check:
    snapshot: ResultSnapshot
    hash_ok: bool  # the stored content still hashes to its key
    differences: list  # compose.Difference: numbers the engine does not give again


def verify_all(session: Session, cluster_id: int | None = None, year: int | None = None) -> list[Check]:
    """Every stored revision (of a cluster, of a year), its hash and its numbers recomputed."""
    query = select(ResultSnapshot).order_by(ResultSnapshot.year_id, ResultSnapshot.cluster_id, ResultSnapshot.revision)
    if cluster_id is not None:
        query = query.where(ResultSnapshot.cluster_id == cluster_id)
    if year is not None:
        query = query.join(EmulationYear, EmulationYear.id == ResultSnapshot.year_id).where(EmulationYear.year == year)
    checks = []
    for snapshot in session.scalars(query):
        content = content_of(snapshot)
        checks.append(Check(snapshot, codec.digest(content) == snapshot.hash, compose.recompute(content)))
    return checks
