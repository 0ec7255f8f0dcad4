"""A cluster-year's results for display: the engine's result with the names the pages show.

`rounds_of` and `basis_of` answer who may read the results (policy.sees_results) before anything
is computed; `cluster_report` reads and computes (read.read_cluster → engine.compute) and adds each
criterion's path and title; `cached_report` keeps it per worker until a write touches it
(`results.cache`). A fixed number of queries, whatever the number of units and reviewers.
`sorted_units` orders the ranked table by any of its columns; `workbook` writes it as .xlsx.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from io import BytesIO

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Criterion, ScoringRound
from portal.models.results import BAND_CODES, Basis, ResultSettings
from portal.policy import ClusterYear
from portal.services import DomainError
from portal.services.criteria import tree as treelib
from portal.services.platform.excel import print_setup, put_row
from portal.services.results import engine
from portal.services.results.cache import VersionedCache
from portal.services.results.inputs import BELOW_BANDS
from portal.services.results.output import ClusterResult, UnitResult
from portal.services.results.read import read_cluster

BELOW_LABEL = "Không hoàn thành nhiệm vụ"
BAND_ORDER = {code: position for position, code in enumerate(BAND_CODES)}  # highest first
SORTS = ("rank", "unit", "bonus", "deduction", "total", "compared", "band", "eligible")


@dataclass(frozen=True)
class Report:
    """The result and what the pages name its criteria with (criterion id → path, title)."""

    result: ClusterResult
    paths: dict[int, str]
    titles: dict[int, str]

    def section_columns(self) -> list[tuple[int, str, str]]:
        """The scored sections that get a column of the table: (id, path, title)."""
        seen: dict[int, tuple[int, str, str]] = {}
        for unit in self.result.units:
            for s in unit.sections:
                if s.kind == "scored":
                    seen.setdefault(s.section_id, (s.section_id, s.code, self.titles.get(s.section_id, "")))
        return list(seen.values())

    def flag_counts(self) -> dict[int, int]:
        """unit id → the number of flags that name it (as the reviewer, the unit or one of a pair)."""
        counts: dict[int, int] = {}
        for flag in self.result.flags:
            for unit_id in {flag.unit_id, flag.other_unit_id} - {None}:
                counts[unit_id] = counts.get(unit_id, 0) + 1
        return counts

    def flags_of(self, unit_id: int) -> list:
        return [f for f in self.result.flags if unit_id in (f.unit_id, f.other_unit_id)]

    def unit(self, unit_id: int) -> UnitResult | None:
        return next((u for u in self.result.units if u.unit_id == unit_id), None)


def rounds_of(session: Session, where: ClusterYear) -> dict[str, str]:
    """Each round kind that exists in the cluster-year → its status."""
    rows = session.execute(
        select(ScoringRound.kind, ScoringRound.status).where(
            ScoringRound.cluster_id == where.cluster_id, ScoringRound.year_id == where.year_id
        )
    )
    return {kind: status for kind, status in rows}


def basis_of(session: Session, where: ClusterYear) -> str:
    """The score basis the cluster-year's results are computed with (the default when none is chosen)."""
    chosen = session.scalar(
        select(ResultSettings.basis).where(
            ResultSettings.cluster_id == where.cluster_id, ResultSettings.year_id == where.year_id
        )
    )
    return chosen or Basis.AGREED


def cluster_report(session: Session, where: ClusterYear, *, detail: bool = False) -> Report | None:
    """The cluster-year's ranked result with its criteria's names; None when it has no criteria table."""
    try:
        cluster = read_cluster(session, where.cluster_id, where.year_id, detail=detail)
    except DomainError:
        return None
    result = engine.compute(cluster)
    tree = treelib.build(session.scalars(select(Criterion).where(Criterion.set_id == result.criteria_set_id)))
    return Report(result, tree.paths(), {node.id: node.title for node, _depth in tree.walk()})


def cached_report(session: Session, where: ClusterYear, cache: VersionedCache, version: int, *, detail: bool = False):
    """`cluster_report` as of data version `version` (`live.data_version`, read before anything else of
    the request), from the worker's cache when no write has touched the cluster-year since it was kept."""
    return cache.get(
        session, where, ("report", detail), version, partial(cluster_report, session, where, detail=detail)
    )


def band_label(code: str) -> str:
    return BAND_CODES.get(code, BELOW_LABEL) if code != BELOW_BANDS else BELOW_LABEL


def sorted_units(report: Report, sort: str, descending: bool) -> list[UnitResult]:
    """The table's rows ordered by one column (`SORTS`, or "s<section id>"); rank order breaks ties."""
    units = list(report.result.units)  # already in rank, then name order
    key = _sort_key(sort)
    units.sort(key=key, reverse=descending)
    return units


def _sort_key(sort: str):
    if sort.startswith("s") and sort[1:].isdigit():
        section_id = int(sort[1:])
        return lambda u: next((s.points for s in u.sections if s.section_id == section_id), Decimal(0))
    keys = {
        "rank": lambda u: u.rank,
        "unit": lambda u: u.name.casefold(),
        "bonus": lambda u: u.bonus,
        "deduction": lambda u: u.deduction + u.penalty,
        "total": lambda u: u.raw_total,
        "compared": lambda u: u.compared_total,
        "band": lambda u: BAND_ORDER.get(u.band, len(BAND_ORDER)),
        "eligible": lambda u: not u.eligible,
    }
    return keys.get(sort, keys["rank"])


def workbook(report: Report, title: str) -> bytes:
    """The ranked table with every input column, one row per unit (text is never a formula)."""
    book = Workbook()
    ws = book.active
    ws.title = "Kết quả"
    put_row(ws, 1, [title])
    sections = report.section_columns()
    header = ["Hạng", "Đơn vị"]
    header += [f"{path}. {name}" for _id, path, name in sections]
    header += ["Điểm thưởng", "Điểm trừ", "Điểm trừ do không chấm chéo", "Tổng điểm", "Tổng điểm chuẩn áp dụng"]
    header += ["Tổng điểm quy đổi", "Tỷ lệ", "Xếp loại", "Đồng hạng, chưa phân định", "Đủ điều kiện khen thưởng"]
    header += ["Lý do không đủ điều kiện", "Số phiếu chấm chéo chưa nộp"]
    put_row(ws, 3, header)
    for row, unit in enumerate(report.result.units, 4):
        points = {s.section_id: s.points for s in unit.sections}
        cells = [unit.rank, unit.name, *(points.get(section_id) for section_id, _p, _n in sections)]
        cells += [unit.bonus, unit.deduction, unit.penalty, unit.raw_total, unit.applicable_maximum]
        cells += [unit.compared_total, unit.total_share, band_label(unit.band), "Có" if unit.tie_unresolved else ""]
        cells += ["Có" if unit.eligible else "Không", unit.ineligible_reason, unit.withheld_reviews]
        put_row(ws, row, cells)
    print_setup(ws, 3)
    out = BytesIO()
    book.save(out)
    return out.getvalue()
