"""The year-end meeting page of a cluster-year and the head's actions on it.

Everyone who sees the cluster-year reads the page (outside it: 404); the head — its deputies when
the head lets them lead — opens and runs the meeting ("run_meeting", else 403). Each action is one
service call committed once; an htmx request gets the page's `meeting` block back (422 with the
message next to the field when refused), a plain form post a 303 back to the page.
"""

from __future__ import annotations

from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.access import cluster_year_in_scope, may
from portal.extensions import db
from portal.forms import done, saved
from portal.htmx import hx_redirect, is_fragment_request, render
from portal.meetings import bp, page
from portal.meetings.forms import AdjustmentForm, AttendanceForm, GuestForm, RecordForm, tally_form, tie_form
from portal.models import AwardType, MeetingGuest
from portal.services.meetings import approved, awards, ballot, record


def _loaded(cluster_id: int, year: int):
    cluster, found, scope = cluster_year_in_scope(cluster_id, year)
    return cluster, found, scope, record.find(db.session, scope)


def _running(cluster_id: int, year: int):
    """The cluster-year and its meeting, for the head (and deputies let lead): else 404 / 403."""
    cluster, found, scope, meeting = _loaded(cluster_id, year)
    if not may(scope, "run_meeting"):
        abort(403)
    if meeting is None:
        abort(404)
    return cluster, found, scope, meeting


def _page(cluster, year, scope, meeting, forms=None, status=200, notice=None, error=None):
    context = page.context(cluster, year, scope, meeting, forms)
    return render("meetings/show.html", block="meeting", status=status, notice=notice, error=error, **context)


def _answer(loaded, ok: bool, message: str, forms: dict | None = None):
    """After an action: the block (htmx) or a 303 to the page when it succeeded; the page or block with 422 when
    not — the submitted form with its errors, or `message` as the refusal of a button."""
    cluster, year, scope, meeting = loaded
    if ok and not is_fragment_request():
        flash(message, "success")
        return hx_redirect(url_for("meetings.show", cluster_id=cluster.id, year=year.year))
    meeting = record.find(db.session, scope)
    if ok:
        return _page(cluster, year, scope, meeting, notice=message)
    return _page(cluster, year, scope, meeting, forms, 422, error=None if forms else message)


@bp.get("/<int:cluster_id>/<int:year>")
@login_required
def show(cluster_id: int, year: int):
    """The meeting: record, quotas, attendance and quorum, approved table, votes and nominations."""
    cluster, found, scope, meeting = _loaded(cluster_id, year)
    return _page(cluster, found, scope, meeting)


@bp.post("/<int:cluster_id>/<int:year>/open")
@login_required
def open_meeting(cluster_id: int, year: int):
    cluster, found, scope, meeting = _loaded(cluster_id, year)
    if not may(scope, "run_meeting"):
        abort(403)
    form = RecordForm()
    call = lambda: record.open_meeting(db.session, scope, form.fields(), current_user.id)  # noqa: E731
    ok = form.validate_on_submit() and saved(form, call).ok
    return _answer((cluster, found, scope, meeting), ok, _("Đã mở hội nghị."), {"record": form})


@bp.post("/<int:cluster_id>/<int:year>/record")
@login_required
def save_record(cluster_id: int, year: int):
    loaded = _running(cluster_id, year)
    form = RecordForm()
    ok = form.validate_on_submit() and saved(form, lambda: record.save_record(db.session, loaded[3], form.fields())).ok
    return _answer(loaded, ok, _("Đã lưu biên bản hội nghị."), {"record": form})


@bp.post("/<int:cluster_id>/<int:year>/attendance/<int:unit_id>")
@login_required
def mark_attendance(cluster_id: int, year: int, unit_id: int):
    """One member unit present (with its representative) or absent; the quorum follows."""
    loaded = _running(cluster_id, year)
    form = AttendanceForm(prefix=f"unit{unit_id}")
    call = lambda: record.mark(  # noqa: E731
        db.session,
        loaded[3],
        unit_id,
        present=form.present.data,
        representative=form.representative.data or "",
        position=form.position.data or "",
    )
    ok = form.validate_on_submit() and saved(form, call).ok
    return _answer(loaded, ok, _("Đã cập nhật điểm danh."), {f"unit{unit_id}": form})


@bp.post("/<int:cluster_id>/<int:year>/guests")
@login_required
def add_guest(cluster_id: int, year: int):
    loaded = _running(cluster_id, year)
    form = GuestForm()
    call = lambda: record.add_guest(db.session, loaded[3], form.name.data or "", form.position.data or "")  # noqa: E731
    ok = form.validate_on_submit() and saved(form, call).ok
    return _answer(loaded, ok, _("Đã thêm khách mời."), {"guest": form})


@bp.post("/<int:cluster_id>/<int:year>/guests/<int:guest_id>/remove")
@login_required
def remove_guest(cluster_id: int, year: int, guest_id: int):
    loaded = _running(cluster_id, year)
    guest = db.session.get(MeetingGuest, guest_id)
    if guest is None or guest.meeting_id != loaded[3].id:
        abort(404)
    outcome = done(lambda: record.remove_guest(db.session, loaded[3], guest), flash_category=None)
    return _answer(loaded, outcome.ok, _("Đã bỏ khách mời.") if outcome.ok else outcome.result)


@bp.post("/<int:cluster_id>/<int:year>/adjustments")
@login_required
def adjust(cluster_id: int, year: int):
    """The meeting's points for a unit on a criterion, with the reason (the engine's number kept beside)."""
    loaded = _running(cluster_id, year)
    form = AdjustmentForm()
    call = lambda: approved.adjust(  # noqa: E731
        db.session, loaded[3], form.unit_id.data, form.criterion_id.data, form.points.data, form.reason.data or ""
    )
    ok = form.validate_on_submit() and saved(form, call).ok
    return _answer(loaded, ok, _("Đã cập nhật bảng điểm thống nhất."), {"adjustment": form})


@bp.post("/<int:cluster_id>/<int:year>/ties/<int:rank>")
@login_required
def settle_tie(cluster_id: int, year: int, rank: int):
    """The meeting's vote on units the engine left tied at `rank`."""
    loaded = _running(cluster_id, year)
    table = approved.approved_table(db.session, loaded[3])
    group = dict(table.ties()).get(rank) if table else None
    if not group:
        abort(404)
    form = tie_form([r.approved.unit_id for r in group], prefix=page.tie_prefix(rank))
    call = lambda: approved.settle_tie(db.session, loaded[3], rank, form.places(), form.votes())  # noqa: E731
    ok = form.validate_on_submit() and saved(form, call).ok
    return _answer(loaded, ok, _("Đã ghi kết quả biểu quyết phân định thứ hạng."), {page.tie_prefix(rank): form})


def _award(award_id: int) -> AwardType:
    award = next((a for a in awards.award_types(db.session) if a.id == award_id), None)
    if award is None:
        abort(404)
    return award


@bp.post("/<int:cluster_id>/<int:year>/tallies/<int:award_id>")
@login_required
def save_tally(cluster_id: int, year: int, award_id: int):
    """The vote-counting committee's paper tally of the next vote on an award; nominations follow."""
    loaded, award = _running(cluster_id, year), _award(award_id)
    table = approved.approved_table(db.session, loaded[3])
    upcoming = ballot.next_ballot(db.session, loaded[3], table, award) if table else None
    form = tally_form(upcoming.unit_ids if upcoming else [], prefix=page.tally_prefix(award))
    call = lambda: ballot.save_tally(db.session, loaded[3], award, form.fields())  # noqa: E731
    ok = form.validate_on_submit() and saved(form, call).ok
    return _answer(loaded, ok, _("Đã ghi kết quả kiểm phiếu."), {page.tally_prefix(award): form})


@bp.post("/<int:cluster_id>/<int:year>/tallies/<int:award_id>/undo")
@login_required
def undo_tally(cluster_id: int, year: int, award_id: int):
    """Take back the award's last tally (an entry mistake); its nominations are computed again."""
    loaded, award = _running(cluster_id, year), _award(award_id)
    outcome = done(lambda: ballot.remove_last_tally(db.session, loaded[3], award), flash_category=None)
    return _answer(loaded, outcome.ok, _("Đã hủy lần kiểm phiếu cuối.") if outcome.ok else outcome.result)


@bp.post("/<int:cluster_id>/<int:year>/close")
@login_required
def close(cluster_id: int, year: int):
    """End the meeting: nothing in it changes afterwards."""
    loaded = _running(cluster_id, year)
    outcome = done(lambda: record.close(db.session, loaded[3]), flash_category=None)
    return _answer(loaded, outcome.ok, _("Hội nghị đã kết thúc.") if outcome.ok else outcome.result)
