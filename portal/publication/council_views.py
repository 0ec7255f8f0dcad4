"""The council's page of a year: every published cluster's proposals with the council's vote and the chairman's
decision (the secretariat records them; council members read), and the Government emulation flag shortlist."""

from __future__ import annotations

from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import login_required

from portal.access import current_principal, year_or_404
from portal.extensions import db
from portal.forms import EmptyForm, done, saved
from portal.htmx import hx_redirect, is_fragment_request, render
from portal.policy import can
from portal.publication import bp
from portal.publication.forms import DecisionForm, ShareForm, ShortlistForm
from portal.services.publication import council


def _year(year: int, action: str = "view_clusters"):
    if not can(current_principal(), action):
        abort(403)
    return year_or_404(year)


def _decision_form(proposal) -> DecisionForm:
    """The form of one proposal, prefilled with its decision when there is one."""
    prefix = f"p{proposal.cluster.id}-{proposal.award.id}-{proposal.unit_id}"
    return DecisionForm(prefix=prefix, obj=proposal.decision, formdata=None)


def _page(year, status=200, notice=None, error=None, forms=None):
    found = council.leaders(db.session, year.id)
    share = council.government_share(db.session, year.id)
    shortlist = ShortlistForm()
    shortlist.unit_id.choices = [(x.unit_id, f"{x.unit_name} — {x.cluster.name}") for x in found if x.entry is None]
    share_form = ShareForm(data={"percent": share * 100})
    context = {
        "year": year,
        "proposals": council.proposals(db.session, year.id),
        "leaders": found,
        "share": share,
        "limit": council.shortlist_limit(len(found), share),
        "forms": forms or {},
        "decide": can(current_principal(), "decide_proposals"),
        "shortlist_form": shortlist,
        "share_form": (forms or {}).get("share", share_form),
        "button": EmptyForm(),
        "decision_form": _decision_form,
    }
    return render("publication/council.html", block="council", status=status, notice=notice, error=error, **context)


def _answer(year, ok: bool, message: str, forms=None):
    if ok and not is_fragment_request():
        flash(message, "success")
        return hx_redirect(url_for("publication.council_page", year=year.year))
    if ok:
        return _page(year, notice=message)
    return _page(year, 422, error=None if forms else message, forms=forms)


@bp.get("/council/<int:year>")
@login_required
def council_page(year: int):
    """Every cluster's published proposals of the year, the council's decisions and the shortlist."""
    return _page(_year(year))


@bp.post("/council/<int:year>/decide/<int:cluster_id>/<int:award_type_id>/<int:unit_id>")
@login_required
def decide(year: int, cluster_id: int, award_type_id: int, unit_id: int):
    """Record the council's vote and the chairman's decision on one proposal."""
    found = _year(year, "decide_proposals")
    form = DecisionForm(prefix=f"p{cluster_id}-{award_type_id}-{unit_id}")
    call = lambda: council.decide(  # noqa: E731
        db.session, found.id, cluster_id, award_type_id, unit_id, form.fields()
    )
    ok = form.validate_on_submit() and saved(form, call).ok
    return _answer(found, ok, _("Đã ghi quyết định."), {(cluster_id, award_type_id, unit_id): form})


@bp.post("/council/<int:year>/share")
@login_required
def save_share(year: int):
    """The year's share of leaders that may be proposed for the Government's flag."""
    found = _year(year, "decide_proposals")
    form = ShareForm()
    call = lambda: council.set_government_share(db.session, found.id, form.percent.data)  # noqa: E731
    ok = form.validate_on_submit() and saved(form, call).ok
    return _answer(found, ok, _("Đã lưu tỷ lệ."), {"share": form})


@bp.post("/council/<int:year>/shortlist")
@login_required
def add_to_shortlist(year: int):
    found = _year(year, "decide_proposals")
    form = ShortlistForm()
    form.unit_id.choices = []
    form.validate_on_submit()
    outcome = done(lambda: council.add_to_shortlist(db.session, found.id, form.unit_id.data or 0), flash_category=None)
    return _answer(found, outcome.ok, _("Đã thêm vào danh sách đề nghị.") if outcome.ok else outcome.result)


@bp.post("/council/<int:year>/shortlist/<int:unit_id>/remove")
@login_required
def remove_from_shortlist(year: int, unit_id: int):
    found = _year(year, "decide_proposals")
    leader = next((x for x in council.leaders(db.session, found.id) if x.unit_id == unit_id and x.entry), None)
    if leader is None:
        return _answer(found, False, _("Đơn vị không có trong danh sách đề nghị."))
    done(lambda: council.remove_from_shortlist(db.session, leader.entry), flash_category=None)
    return _answer(found, True, _("Đã bỏ khỏi danh sách đề nghị."))
