"""How a cluster-year's results are computed: the head's choices, read as the engine's `Settings`.

No row means the defaults of `inputs.Settings` (the agreed score, scaled totals, no tie-breaker …).
A save checks every value, writes the one row of the cluster-year (audited) and is refused once
the results are published (the row is locked). The bands come from the secretariat's rules
(bands.py), not from here.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Cluster, Criterion, EmulationYear, ResultSettings
from portal.models.base import N_
from portal.policy import ClusterYear
from portal.services import DomainError
from portal.services.results import bands, scope
from portal.services.results.inputs import (
    DEFAULT_BANDS,
    Band,
    Basis,
    FloorLevel,
    NonParticipation,
    ScaleMode,
    Settings,
    TieBreaker,
    TieRule,
)

MAX_POINTS = Decimal(10000)
CENT = Decimal("0.01")
SHARE = scope.SHARE_PLACES
SHARES = {
    "reviewer_bias_share": "Ngưỡng cảnh báo người chấm lệch",
    "self_excess_share": "Ngưỡng cảnh báo tự chấm cao hơn chấm chéo",
    "mutual_share": "Ngưỡng cảnh báo cặp chấm cao cho nhau",
}


def find(session: Session, where: ClusterYear) -> ResultSettings | None:
    return session.scalar(
        select(ResultSettings).where(
            ResultSettings.cluster_id == where.cluster_id, ResultSettings.year_id == where.year_id
        )
    )


def load(session: Session, where: ClusterYear) -> Settings:
    """The cluster-year's settings with the bands of its year and kind: two queries."""
    return as_settings(find(session, where), bands.for_cluster(session, where))


def as_settings(row: ResultSettings | None, chosen_bands: tuple[Band, ...] = DEFAULT_BANDS) -> Settings:
    """A stored row (None: the defaults) as the engine's settings, with the given bands."""
    if row is None:
        return Settings(bands=chosen_bands)
    return Settings(
        basis=Basis(row.basis),
        trim_min_reviewers=row.trim_min_reviewers,
        self_weight=Decimal(row.self_weight),
        scale_mode=ScaleMode(row.scale_mode),
        tie_rules=tuple(TieRule(TieBreaker(r["breaker"]), r.get("section_id")) for r in row.tie_rules or ()),
        non_participation=NonParticipation(row.non_participation),
        non_participation_points=Decimal(row.non_participation_points),
        floor_level=FloorLevel(row.floor_level),
        bands=chosen_bands,
        reviewer_bias_share=Decimal(row.reviewer_bias_share),
        self_excess_share=Decimal(row.self_excess_share),
        mutual_share=Decimal(row.mutual_share),
    )


def save(session: Session, where: ClusterYear, chosen: Settings) -> ResultSettings:
    """Check and store the head's choices (every field of `chosen` but the bands)."""
    scope.check_unlocked(session, where)
    values = {
        "basis": _choice(Basis, chosen.basis, "basis", N_("Chọn cách tính điểm.")),
        "trim_min_reviewers": _trim(chosen.trim_min_reviewers),
        "self_weight": scope.checked_decimal(
            chosen.self_weight, "self_weight", "Trọng số điểm tự chấm", low=Decimal(0), high=Decimal(1), places=SHARE
        ),
        "scale_mode": _choice(ScaleMode, chosen.scale_mode, "scale_mode", N_("Chọn cách so sánh tổng điểm.")),
        "tie_rules": _tie_rules(session, where, chosen.tie_rules),
        "non_participation": _choice(
            NonParticipation,
            chosen.non_participation,
            "non_participation",
            N_("Chọn cách xử lý đơn vị không chấm chéo."),
        ),
        "non_participation_points": scope.checked_decimal(
            chosen.non_participation_points,
            "non_participation_points",
            "Số điểm trừ khi không chấm chéo",
            low=Decimal(0),
            high=MAX_POINTS,
            places=CENT,
        ),
        "floor_level": _choice(
            FloorLevel, chosen.floor_level, "floor_level", N_("Chọn cấp tiêu chí xét mức tối thiểu.")
        ),
    }
    for name, label in SHARES.items():
        values[name] = scope.checked_share(getattr(chosen, name), name, label)
    row = find(session, where)
    if row is None:
        # the objects, not their ids: the audit entry's label names the cluster and the year
        row = ResultSettings(
            cluster=session.get(Cluster, where.cluster_id), year=session.get(EmulationYear, where.year_id)
        )
        session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    session.flush()
    return row


def _choice(kind, value, field: str, message: str) -> str:
    try:
        return str(kind(value))
    except ValueError:
        raise DomainError(message, field) from None


def _trim(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 3 <= value <= 100:
        raise DomainError(
            N_("Số đơn vị chấm tối thiểu để bỏ điểm cao nhất, thấp nhất phải từ 3 đến 100."), "trim_min_reviewers"
        )
    return value


def sections(session: Session, where: ClusterYear) -> list[Criterion]:
    """The scored sections of the cluster-year's table, in table order: what a section tie-breaker may name."""
    return list(
        session.scalars(
            select(Criterion)
            .where(
                Criterion.set_id == scope.table_set_id(where),
                Criterion.parent_id.is_(None),
                Criterion.kind == "scored",
            )
            .order_by(Criterion.position, Criterion.id)
        )
    )


def _tie_rules(session: Session, where: ClusterYear, rules) -> list[dict]:
    """Tie-breakers in order, each once; a section rule names a scored section of the table."""
    section_ids = {section.id for section in sections(session, where)}
    stored, seen = [], set()
    for rule in rules:
        breaker = TieBreaker(_choice(TieBreaker, rule.breaker, "tie_rules", N_("Chọn tiêu chí phân định bằng điểm.")))
        section_id = rule.section_id if breaker is TieBreaker.SECTION else None
        if breaker is TieBreaker.SECTION and section_id not in section_ids:
            raise DomainError(N_("Chọn một phần chấm điểm của bảng tiêu chí năm này."), "tie_rules")
        if (breaker, section_id) in seen:
            raise DomainError(N_("Mỗi cách phân định chỉ chọn một lần."), "tie_rules")
        seen.add((breaker, section_id))
        stored.append({"breaker": str(breaker)} | ({"section_id": section_id} if section_id is not None else {}))
    return stored
