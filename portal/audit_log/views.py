"""The audit log viewer: who changed what, when, from what to what. Read-only by design."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, request
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.access import get_or_404, require
from portal.audit_log.forms import AuditFilterForm
from portal.extensions import db
from portal.formatting import VN_TZ, vn_date, vn_datetime
from portal.htmx import render
from portal.models import Assessment, AuditEntry, Evidence, Score
from portal.models.base import N_
from portal.models.org import CLUSTER_KINDS, COUNCIL_ROLES, SECTORS, UNIT_CHANGE_KINDS
from portal.models.scoring import AssessmentStatus
from portal.models.users import USER_KINDS
from portal.models.years import PositionRole
from portal.routing import paginate
from portal.services.platform import audit_seal

bp = Blueprint("audit_log", __name__, url_prefix="/audit-log")

TYPE_LABELS = {
    "Unit": N_("Đơn vị"),
    "Cluster": N_("Cụm, khối"),
    "Membership": N_("Thành viên cụm"),
    "Term": N_("Nhiệm kỳ/phân công"),
    "TermPosition": N_("Trưởng/Phó"),
    "EmulationYear": N_("Năm thi đua"),
    "CouncilMember": N_("Thành viên Hội đồng"),
    "User": N_("Tài khoản"),
    "UnitChange": N_("Sắp xếp tổ chức"),
    "Score": N_("Điểm chấm"),
    "Evidence": N_("Minh chứng"),
}
# A unit's draft: what it writes and attaches before submitting (see DraftEntry)
DRAFT_TYPES = ("Score", "Evidence")
FIELD_LABELS = {
    "name": N_("Tên"),
    "short_name": N_("Tên viết tắt"),
    "sector": N_("Loại hình"),
    "address": N_("Địa chỉ"),
    "active": N_("Đang hoạt động"),
    "retired_on": N_("Ngày ngừng hoạt động"),
    "merged_into_id": N_("Sáp nhập vào (mã đơn vị)"),
    "unit_id": N_("Đơn vị (mã)"),
    "kind": N_("Loại"),
    "effective_on": N_("Ngày hiệu lực"),
    "decision_ref": N_("Số, ký hiệu quyết định"),
    "old_name": N_("Tên cũ"),
    "new_name": N_("Tên mới"),
    "successor_id": N_("Đơn vị tiếp nhận (mã)"),
    "note": N_("Ghi chú"),
    "code": N_("Mã"),
    "description": N_("Mô tả"),
    "full_name": N_("Họ và tên"),
    "position": N_("Chức vụ"),
    "organisation": N_("Cơ quan"),
    "council_role": N_("Vai trò trong Hội đồng"),
    "phone": N_("Điện thoại"),
    "email": N_("E-mail"),
    "username": N_("Tên đăng nhập"),
    "council_member_id": N_("Thành viên Hội đồng (mã)"),
    "must_change_password": N_("Phải đổi mật khẩu"),
    "locale": N_("Ngôn ngữ"),
    "year": N_("Năm"),
    "is_current": N_("Năm hiện tại"),
    "year_id": N_("Năm thi đua (mã)"),
    "cluster_id": N_("Cụm, khối (mã)"),
    "rotation_order": N_("Thứ tự luân phiên"),
    "overseer_id": N_("Thành viên HĐ phụ trách (mã)"),
    "decision_number": N_("Số quyết định"),
    "decision_date": N_("Ngày quyết định"),
    "decision_issuer": N_("Cơ quan ban hành"),
    "term_id": N_("Nhiệm kỳ (mã)"),
    "proposed_by_rotation": N_("Đề xuất theo luân phiên"),
    "role": N_("Vai trò"),
    "id": N_("Mã"),
}
# Coded values shown by their label (Vietnamese msgid, translated when shown), per (object type, field).
VALUE_LABELS = {
    ("Unit", "sector"): SECTORS,
    ("Cluster", "kind"): CLUSTER_KINDS,
    ("CouncilMember", "council_role"): COUNCIL_ROLES,
    ("UnitChange", "kind"): UNIT_CHANGE_KINDS,
    ("User", "kind"): USER_KINDS,
    ("TermPosition", "role"): PositionRole.labels(),
}
COMPACT_CHANGES = 6  # a row shows this many changes; the entry's page shows them all
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?")


def show_value(value, object_type: str = "", key: str = "") -> str:
    """A logged value as an officer reads it: labels, dd/mm/yyyy, Có/Không, '—' for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Có") if value else _("Không")
    if isinstance(value, str):
        labels = VALUE_LABELS.get((object_type, key))
        if labels and value in labels:
            return _(labels[value])
        if _ISO_DATE.fullmatch(value):
            return vn_date(date.fromisoformat(value))
        if _ISO_DATETIME.fullmatch(value):
            return vn_datetime(datetime.fromisoformat(value))
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class DraftEntry:
    """An entry about a unit's draft (a score and its explanation, an evidence file) as the viewer shows it
    until the assessment is submitted: that the draft changed, not what it says. README promises that a
    draft belongs to its unit alone, whatever the role; the stored entry keeps everything (audit verify)."""

    def __init__(self, entry: AuditEntry):
        self._entry = entry

    def __getattr__(self, name):
        return getattr(self._entry, name)

    @property
    def object_label(self) -> str:
        return _("%(type)s trong bản nháp của đơn vị", type=type_label(self._entry.object_type))

    @property
    def changes(self) -> dict:
        return {"draft": [None, None]}  # one line: "bản nháp đã thay đổi"


def _assessment_ids(entries: list[AuditEntry]) -> dict[int, int | None]:
    """The assessment each Score or Evidence entry is about: from its row if it is still there, else as logged."""
    keys = {(e.object_type, int(e.object_id)) for e in entries if e.object_id.isdigit() and len(e.object_id) < 19}
    owners: dict[tuple[str, int], int] = {}
    for model in (Score, Evidence):
        ids = [i for kind, i in keys if kind == model.__name__]
        if ids:
            rows = db.session.execute(select(model.id, model.assessment_id).where(model.id.in_(ids)))
            owners |= {(model.__name__, row_id): assessment_id for row_id, assessment_id in rows}
    found = {}
    for e in entries:
        logged = (e.changes or {}).get("assessment_id")
        logged = next((v for v in reversed(logged) if v), None) if isinstance(logged, list) else logged
        key = (e.object_type, int(e.object_id)) if e.object_id.isdigit() and len(e.object_id) < 19 else None
        found[e.id] = owners.get(key, logged)
    return found


def hide_drafts(entries: list[AuditEntry]) -> list[AuditEntry | DraftEntry]:
    """Entries about scores and evidence of an assessment not submitted (or whose assessment is unknown) as
    DraftEntry; three queries whatever the number of entries."""
    about = [e for e in entries if e.object_type in DRAFT_TYPES]
    if not about:
        return entries
    assessment_of = _assessment_ids(about)
    ids = {a for a in assessment_of.values() if isinstance(a, int)}
    submitted = set(
        db.session.scalars(
            select(Assessment.id).where(Assessment.id.in_(ids), Assessment.status == AssessmentStatus.SUBMITTED)
        )
        if ids
        else ()
    )
    return [DraftEntry(e) if e.id in assessment_of and assessment_of[e.id] not in submitted else e for e in entries]


def changes_of(entry: AuditEntry, limit: int | None = None) -> list[tuple[str, str, str]]:
    """(field label, before, after) for each change the entry records."""
    if isinstance(entry, DraftEntry):
        return [(_("Nội dung"), "—", _("bản nháp đã thay đổi"))]
    items = list((entry.changes or {}).items())[:limit]
    rows = []
    for key, pair in items:
        before, after = pair if isinstance(pair, (list, tuple)) and len(pair) == 2 else (None, pair)
        rows.append(
            (
                _(FIELD_LABELS[key]) if key in FIELD_LABELS else key,
                show_value(before, entry.object_type, key),
                show_value(after, entry.object_type, key),
            )
        )
    return rows


def type_label(object_type: str) -> str:
    return _(TYPE_LABELS[object_type]) if object_type in TYPE_LABELS else object_type


def _sort_key(label: str) -> str:
    """Alphabetical as a Vietnamese reader expects: 'Đơn vị' among the D's, not after 'Z'."""
    text = unicodedata.normalize("NFD", label.replace("Đ", "D").replace("đ", "d"))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def _utc_midnight(day: date) -> datetime:
    """The start of a day in Vietnam, as the naive UTC timestamp the log stores."""
    return datetime.combine(day, time.min, tzinfo=VN_TZ).astimezone(UTC).replace(tzinfo=None)


def _filters() -> AuditFilterForm:
    filters = AuditFilterForm(request.args)
    present = db.session.scalars(select(AuditEntry.object_type).where(AuditEntry.object_type != "").distinct())
    types = set(present) | ({filters.object_type.data} if filters.object_type.data else set())
    filters.object_type.choices = [("", _("Mọi loại đối tượng"))] + sorted(
        ((t, type_label(t)) for t in types), key=lambda choice: _sort_key(choice[1])
    )
    filters.validate()
    return filters


def _filtered(filters: AuditFilterForm):
    """The filters that are valid apply; a wrong date is reported and left out, never guessed."""
    ok = {field.name: field.data for field in filters if not field.errors and field.data}
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if "object_type" in ok:
        query = query.where(AuditEntry.object_type == ok["object_type"])
    if "object_id" in ok:
        query = query.where(AuditEntry.object_id == ok["object_id"].strip())
    if "user" in ok:
        query = query.where(func.lower(AuditEntry.username) == ok["user"].strip().lower())
    if "action" in ok:
        query = query.where(AuditEntry.action == ok["action"])
    if "date_from" in ok:
        query = query.where(AuditEntry.at >= _utc_midnight(ok["date_from"]))
    if "date_to" in ok:
        query = query.where(AuditEntry.at < _utc_midnight(ok["date_to"] + timedelta(days=1)))
    return paginate(query)


def _helpers() -> dict:
    return {"changes_of": changes_of, "type_label": type_label, "compact": COMPACT_CHANGES}


@bp.get("/")
@require("view_audit")
def index():
    """The log, newest first, with filters; the results block is the htmx fragment (422 on a bad date)."""
    audit_seal.seal_beside(db.session)  # whatever committed without its seal yet is chained now (skipped if busy)
    filters = _filters()
    status = 422 if filters.errors else 200
    page = _filtered(filters)
    page.items = hide_drafts(page.items)
    return render("audit_log/index.html", block="results", status=status, filters=filters, page=page, **_helpers())


@bp.get("/<int:entry_id>")
@require("view_audit")
def show(entry_id: int):
    """One entry: every field's value before and after."""
    entry = hide_drafts([get_or_404(AuditEntry, entry_id)])[0]
    return render("audit_log/show.html", entry=entry, **_helpers())
