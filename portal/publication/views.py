"""The published results of a cluster-year: publish (the head, or a deputy the head lets lead), recompute
(anyone who sees the cluster-year), corrections as revisions (the head or the secretariat, with a reason),
and what changed between two revisions chosen with GET parameters (?from=1&to=2).

An htmx request gets the page's `publication` block back (422 with the message when refused), a plain
form post a 303 back to the page.
"""

from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import formatting
from portal.access import cluster_year_in_scope, may
from portal.extensions import db
from portal.forms import EmptyForm, done, saved
from portal.htmx import hx_redirect, is_fragment_request, render
from portal.publication import bp
from portal.publication.forms import CorrectionForm
from portal.services.publication import compose, council, receipts, revisions, snapshots
from portal.services.results import report


def _number(value) -> str:
    """A stored number (a string such as "90.00") the Vietnamese way."""
    return formatting.vn_number(Decimal(value), 2) if value not in (None, "") else "—"


def _revision(history, value):
    """The snapshot of a revision number given as a GET parameter (None when absent or unknown)."""
    try:
        number = int(value or 0)
    except ValueError:
        return None
    return next((s for s in history if s.revision == number), None)


def _diff(history):
    before = _revision(history, request.args.get("from"))
    after = _revision(history, request.args.get("to"))
    if before is None or after is None:
        return None
    return revisions.diff(snapshots.content_of(before), snapshots.content_of(after))


def _receipt(content):
    """A receipt code given as ?receipt=…, checked against the snapshot's online ballots."""
    code = (request.args.get("receipt") or "").strip()[:64]
    if content is None or not code:
        return None
    return {"code": code, "found": receipts.check(content, code), "ballots": receipts.ballot_count(content)}


def _context(cluster, year, scope, correction=None, checked=None):
    history = snapshots.history(db.session, scope)
    latest = history[-1] if history else None
    content = snapshots.content_of(latest) if latest else None
    if correction is None and content is not None:
        correction = CorrectionForm().fill(content)
    return {
        "cluster": cluster,
        "year": year,
        "history": history,
        "snapshot": latest,
        "content": content,
        "diff": _diff(history),
        "receipt": _receipt(content),
        "checked": checked,
        "decisions": council.decisions_for_cluster(db.session, cluster.id, year.id),
        "can_publish": may(scope, "publish_results"),
        "can_correct": may(scope, "correct_results"),
        "correction": correction,
        "button": EmptyForm(),
        "band_label": report.band_label,
        "number": _number,
    }


def _page(loaded, status=200, notice=None, error=None, **extra):
    cluster, year, scope = loaded
    context = _context(cluster, year, scope, **extra)
    return render("publication/show.html", block="publication", status=status, notice=notice, error=error, **context)


def _answer(loaded, ok: bool, message: str, **extra):
    cluster, year, _scope = loaded
    if ok and not is_fragment_request():
        flash(message, "success")
        return hx_redirect(url_for("publication.show", cluster_id=cluster.id, year=year.year))
    if ok:
        return _page(loaded, notice=message)
    return _page(loaded, 422, error=None if extra else message, **extra)


@bp.get("/<int:cluster_id>/<int:year>")
@login_required
def show(cluster_id: int, year: int):
    """The published results: hash, revisions, approved table, nominations, the council's decisions."""
    return _page(cluster_year_in_scope(cluster_id, year))


@bp.get("/<int:cluster_id>/<int:year>/verify")
@login_required
def verify(cluster_id: int, year: int):
    """Recompute the latest revision's numbers from its stored input: "khớp" or the differences."""
    loaded = cluster_year_in_scope(cluster_id, year)
    latest = snapshots.latest(db.session, loaded[2])
    checked = compose.recompute(snapshots.content_of(latest)) if latest else None
    return _page(loaded, checked=checked if latest else None)


@bp.post("/<int:cluster_id>/<int:year>/publish")
@login_required
def publish(cluster_id: int, year: int):
    """ "Công bố kết quả": freeze the snapshot and lock what the numbers come from."""
    loaded = cluster_year_in_scope(cluster_id, year)
    if not may(loaded[2], "publish_results"):
        abort(403)
    outcome = done(lambda: snapshots.publish(db.session, loaded[2], current_user.id), flash_category=None)
    return _answer(loaded, outcome.ok, _("Đã công bố kết quả.") if outcome.ok else outcome.result)


@bp.post("/<int:cluster_id>/<int:year>/revise")
@login_required
def revise(cluster_id: int, year: int):
    """A correction of the published points, with its reason: the next revision."""
    loaded = cluster_year_in_scope(cluster_id, year)
    if not may(loaded[2], "correct_results"):
        abort(403)
    latest = snapshots.latest(db.session, loaded[2])
    if latest is None:
        return _answer(loaded, False, _("Kết quả năm này chưa công bố."))
    form = CorrectionForm().fill(snapshots.content_of(latest))
    call = lambda: snapshots.revise(  # noqa: E731
        db.session, loaded[2], form.correction(), form.reason.data or "", current_user.id
    )
    ok = form.validate_on_submit() and saved(form, call).ok
    return _answer(loaded, ok, _("Đã lưu đính chính thành một lần công bố mới."), correction=form)
