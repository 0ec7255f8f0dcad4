"""The dashboard's table as an .xlsx file: the rows shown, with the filters in force, one column per figure."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook

from portal.models.publication import VERDICTS
from portal.services.monitoring.board import Row
from portal.services.monitoring.stages import Proposal
from portal.services.platform.excel import print_setup, put_row
from portal.services.results.report import band_label

HEADER = [
    "Mã",
    "Cụm, khối",
    "Loại",
    "Trưởng",
    "Phó",
    "Thành viên Hội đồng phụ trách",
    "Quyết định phân công",
    "Giai đoạn",
    "Chậm trễ",
    "Số đơn vị",
    "Đã ký giao ước",
    "Đã nộp tự chấm",
    "Phiếu thẩm định, chấm chéo đã xong",
    "Tổng số phiếu",
    "Đơn vị dẫn đầu",
    "Điểm",
    "Xếp loại",
    "Đề nghị khen thưởng và quyết định của Hội đồng",
]


def workbook(rows: list[Row], title: str, filters_line: str) -> bytes:
    """One sheet: the title, the filters in force, then the header and a row per cluster."""
    book = Workbook()
    ws = book.active
    ws.title = "Tổng hợp"
    put_row(ws, 1, [title])
    put_row(ws, 2, [filters_line])
    put_row(ws, 4, HEADER)
    for number, row in enumerate(rows, 5):
        put_row(ws, number, _cells(row))
    print_setup(ws, 4)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _cells(row: Row) -> list:
    summary, leader = row.summary, row.leader
    late = "; ".join(f"{item.label}: {item.count}" for item in row.late)
    done = row.done
    cells = [row.cluster.code, row.cluster.name, row.cluster.kind_label]
    cells += [summary.head.name if summary.head else "", ", ".join(u.name for u in summary.deputies)]
    cells += [row.overseer.full_name if row.overseer else "", row.term.decision_number if row.term else ""]
    cells += [row.stage.label, late, row.facts.members, done["signed"].done, done["submitted"].done]
    cells += [done["reviews"].done, done["reviews"].total]
    cells += [
        leader.name if leader else "",
        leader.score if leader else None,
        band_label(leader.band) if leader else "",
        "; ".join(_proposal(p) for p in row.facts.proposals),
    ]
    return cells


def _proposal(found: Proposal) -> str:
    verdict = VERDICTS[found.verdict] if found.verdict else "chờ Hội đồng quyết định"
    return f"{found.award_name}: {found.unit_name} ({verdict})"
