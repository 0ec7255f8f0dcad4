"""The online secret ballot's pages: the head opens and closes the vote (on the meeting page); each attending
member unit votes from its own account, once, and may change its ballot with its receipt code until the
close; after the close anyone who sees the cluster-year may check a receipt code against the count.

The receipt code is shown once after casting and kept in the voter's signed session cookie (never on the
server: only its SHA-256 is stored, on the ballot). A unit not marked present, or not a member, is refused
(403 with the reason; outside the cluster-year 404).
"""

from __future__ import annotations

from flask import abort, session, url_for
from flask_babel import gettext as _
from flask_login import login_required

from portal.access import cluster_year_in_scope, current_principal, may
from portal.errors import page as error_page
from portal.extensions import db
from portal.forms import done, saved
from portal.htmx import hx_redirect, is_fragment_request, render
from portal.meetings import bp, views
from portal.meetings.vote_forms import ReceiptForm, ballot_form
from portal.models import Unit
from portal.services.meetings import awards, online, record, voting

RECEIPTS = "vote_receipts"  # session: "window id:unit id" → the receipt code cast from this browser
NEW_RECEIPT = "vote_receipt_new"  # session: the window whose code is still to be shown (once)


def _voter(cluster_id: int, year: int):
    """(cluster, year, meeting, unit id) for a member unit marked present at the meeting; else the refusal."""
    cluster, found, scope = cluster_year_in_scope(cluster_id, year)
    meeting = record.find(db.session, scope)
    if not may(scope, "vote_online"):
        return error_page(403, _("Chỉ tài khoản của đơn vị thành viên được bỏ phiếu."))
    unit_id = current_principal().unit_id
    if meeting is None or not voting.attends(db.session, meeting, unit_id):
        return error_page(403, _("Đơn vị của bạn không có mặt tại hội nghị nên không bỏ phiếu."))
    return cluster, found, meeting, unit_id


def _key(window, unit_id: int) -> str:
    """Keyed by unit too: sign-in and sign-out clear the session, and a code never serves another unit."""
    return f"{window.id}:{unit_id}"


def _saved_code(window, unit_id: int) -> str:
    return (session.get(RECEIPTS) or {}).get(_key(window, unit_id), "") if window else ""


def _ballot_page(loaded, form=None, status=200, notice=None):
    cluster, year, meeting, unit_id = loaded
    window = online.latest(db.session, meeting)
    context = {"cluster": cluster, "year": year, "meeting": meeting, "window": window, "notice": notice}
    context["unit"] = db.session.get(Unit, unit_id)
    context["voted"] = window is not None and voting.has_voted(db.session, window, unit_id)
    context["code"] = _saved_code(window, unit_id)
    context["new_code"] = window is not None and session.pop(NEW_RECEIPT, None) == window.id
    if window is not None and window.is_open:
        chosen = voting.choices_of(db.session, window, context["code"]) if context["voted"] else {}
        context["form"] = form or _form(window, data={f"award_{a}": ids for a, ids in chosen.items()})
        context["papers"] = online.papers(window)
    context["display"] = voting.display
    return render("meetings/vote.html", block="ballot", status=status, **context)


def _form(window, **kwargs):
    papers = online.papers(window)
    labels = {a.id: a.name for a in awards.award_types(db.session)}
    ids = {i for p in papers for i in p.unit_ids}
    names = dict(db.session.execute(db.select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all())
    return ballot_form(papers, labels, names, **kwargs)


def _answer(loaded, ok: bool, form, message: str):
    cluster, year = loaded[0], loaded[1]
    if ok and not is_fragment_request():
        return hx_redirect(url_for("meetings.vote", cluster_id=cluster.id, year=year.year))
    return _ballot_page(loaded, None if ok else form, 200 if ok else 422, message if ok else None)


@bp.get("/<int:cluster_id>/<int:year>/vote")
@login_required
def vote(cluster_id: int, year: int):
    """The ballot of an attending member unit (mobile first), or where its vote stands."""
    loaded = _voter(cluster_id, year)
    return _ballot_page(loaded) if isinstance(loaded, tuple) else loaded


def _open_window(meeting):
    window = online.latest(db.session, meeting)
    if window is None:
        abort(404)
    return window


@bp.post("/<int:cluster_id>/<int:year>/vote")
@login_required
def cast(cluster_id: int, year: int):
    """Cast the unit's ballot (once); the receipt code is shown once and kept in the session."""
    loaded = _voter(cluster_id, year)
    if not isinstance(loaded, tuple):
        return loaded
    window = _open_window(loaded[2])
    form = _form(window)
    call = lambda: voting.cast(db.session, loaded[2], window, loaded[3], form.choices())  # noqa: E731
    outcome = saved(form, call) if form.validate_on_submit() else None
    if outcome and outcome.ok:
        session[RECEIPTS] = (session.get(RECEIPTS) or {}) | {_key(window, loaded[3]): outcome.result}
        session[NEW_RECEIPT] = window.id
    return _answer(loaded, bool(outcome and outcome.ok), form, _("Đã ghi phiếu bầu của đơn vị."))


@bp.post("/<int:cluster_id>/<int:year>/vote/change")
@login_required
def change(cluster_id: int, year: int):
    """Replace the unit's ballot, named by its receipt code (from the session, or typed), until the close."""
    loaded = _voter(cluster_id, year)
    if not isinstance(loaded, tuple):
        return loaded
    window = _open_window(loaded[2])
    form = _form(window)
    code = (form.code.data or "").strip() or _saved_code(window, loaded[3])
    call = lambda: voting.change(db.session, loaded[2], window, loaded[3], code, form.choices())  # noqa: E731
    ok = form.validate_on_submit() and saved(form, call).ok
    if ok:
        session[RECEIPTS] = (session.get(RECEIPTS) or {}) | {_key(window, loaded[3]): voting.normalise(code)}
    return _answer(loaded, ok, form, _("Đã thay đổi phiếu bầu của đơn vị."))


@bp.route("/<int:cluster_id>/<int:year>/receipt", methods=["GET", "POST"])
@login_required
def receipt(cluster_id: int, year: int):
    """Check a receipt code against the published count: was this ballot counted as cast?"""
    cluster, found, scope = cluster_year_in_scope(cluster_id, year)
    meeting = record.find(db.session, scope)
    if meeting is None:
        abort(404)
    form, checked, status = ReceiptForm(), None, 200
    if form.validate_on_submit():
        checked = voting.check_receipt(db.session, meeting, form.code.data)
        status = 200 if checked else 404
    elif form.is_submitted():
        status = 422
    ids = {i for chosen in checked.choices.values() for i in chosen} if checked else set()
    names = dict(db.session.execute(db.select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all()) if ids else {}
    labels = {a.id: a.name for a in awards.award_types(db.session)}
    context = {"cluster": cluster, "year": found, "meeting": meeting, "form": form, "checked": checked}
    context |= {
        "names": names,
        "labels": labels,
        "submitted": form.is_submitted(),
        "panel": online.panel(db.session, meeting),
    }
    return render("meetings/receipt.html", block="receipt", status=status, **context)


@bp.post("/<int:cluster_id>/<int:year>/online/open")
@login_required
def open_vote(cluster_id: int, year: int):
    """The head opens the online vote on every award with a vote to count (quorum required)."""
    loaded = views._running(cluster_id, year)
    outcome = done(lambda: online.open_window(db.session, loaded[3]), flash_category=None)
    return views._answer(loaded, outcome.ok, _("Đã mở bỏ phiếu trực tuyến.") if outcome.ok else outcome.result)


@bp.post("/<int:cluster_id>/<int:year>/online/close")
@login_required
def close_vote(cluster_id: int, year: int):
    """The head closes the online vote: it is counted, and the nominations follow."""
    loaded = views._running(cluster_id, year)
    outcome = done(lambda: online.close_current(db.session, loaded[3]), flash_category=None)
    return views._answer(loaded, outcome.ok, _("Đã đóng bỏ phiếu và kiểm phiếu.") if outcome.ok else outcome.result)
