"""The pledge agreement (giao ước thi đua): drafted by the head, signed by every member."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, Response, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.access import cluster_year_in_scope, current_principal, get_or_404, load_pledge, may, pledge_visible
from portal.extensions import db
from portal.formatting import vn_number, vn_today
from portal.forms import EmptyForm, done, form_status, saved
from portal.htmx import hx_redirect, is_fragment_request, render
from portal.models import Charter, CriteriaSet, Criterion, Pledge, PledgeSignature, Unit
from portal.models.base import utcnow
from portal.models.criteria import SetStatus
from portal.pledges.forms import PledgeForm, SignForm, TargetForm
from portal.policy import ClusterYear, sees
from portal.services.criteria import sets
from portal.services.documents import pledge as documents
from portal.services.pledges import agreements

bp = Blueprint("pledges", __name__, url_prefix="/pledges")


def _context(pledge: Pledge, scope: ClusterYear, **forms) -> dict:
    digest = agreements.current_hash(db.session, pledge)
    statuses = agreements.statuses(db.session, pledge, digest)
    principal = current_principal()
    own = next((s for s in statuses if s.unit.id == principal.unit_id), None)
    sign_form = forms.get("sign_form") or SignForm(
        formdata=None, signed_on=pledge.meeting_date or vn_today(), **_last_signer(own)
    )
    return {
        "pledge": pledge,
        "scope": scope,
        "charter_hash": digest,
        "statuses": statuses,
        "own": own,
        "may_edit": may(scope, "edit_pledge"),
        "may_sign": own is not None and may(scope, "sign_pledge"),
        "sign_form": sign_form,
        "unsigned": [s for s in statuses if not s.current],
        "criteria_rows": _criteria_rows(pledge),
        "doc": documents,
        "today": vn_today(),
    }


def _last_signer(own) -> dict:
    if own is None or own.signature is None:
        return {}
    return {
        "representative_name": own.signature.representative_name,
        "representative_position": own.signature.representative_position,
    }


def _criteria_rows(pledge: Pledge):
    if pledge.criteria_set is None:
        return []
    tree = sets.load_tree(db.session, pledge.criteria_set)
    return [(depth, n, tree.maxima[n.id]) for n, depth in tree.walk()]


@bp.get("/<int:cluster_id>/<int:year>")
@login_required
def for_cluster(cluster_id: int, year: int):
    """The cluster's agreement for the year (or, for the head, the button to draft it)."""
    cluster, year, scope = cluster_year_in_scope(cluster_id, year)
    pledge = agreements.find(db.session, cluster.id, year.id)
    if pledge is None or not pledge_visible(pledge, scope):
        return render(
            "pledges/none.html", cluster=cluster, year=year, may_create=pledge is None and may(scope, "edit_pledge")
        )
    return render("pledges/show.html", **_context(pledge, scope))


@bp.post("/<int:cluster_id>/<int:year>")
@login_required
def create(cluster_id: int, year: int):
    """Draft the year's agreement from the default text."""
    cluster, year, scope = cluster_year_in_scope(cluster_id, year)
    if not may(scope, "edit_pledge") or not EmptyForm().validate_on_submit():
        abort(403)
    ok, pledge = done(lambda: agreements.create(db.session, cluster, year))
    if not ok:
        return hx_redirect(url_for("pledges.for_cluster", cluster_id=cluster.id, year=year.year))
    flash(_("Đã tạo dự thảo giao ước thi đua; hãy xem lại nội dung."), "success")
    return hx_redirect(url_for("pledges.edit", pledge_id=pledge.id))


def _set_choices(form: PledgeForm, pledge: Pledge) -> None:
    versions = db.session.scalars(
        select(CriteriaSet)
        .where(
            CriteriaSet.cluster_id == pledge.cluster_id,
            CriteriaSet.year_id == pledge.year_id,
            CriteriaSet.status.in_((SetStatus.PUBLISHED, SetStatus.LOCKED)),
        )
        .order_by(CriteriaSet.version.desc())
    ).all()
    form.criteria_set_id.choices = [(0, _("— Chưa gắn (chưa mở ký) —"))] + [
        (
            s.id,
            _(
                "%(title)s — phiên bản %(version)s (%(status)s)",
                title=s.title,
                version=s.version,
                status=_(s.status_label).lower(),
            ),
        )
        for s in versions
    ]


@bp.route("/<int:pledge_id>/edit", methods=["GET", "POST"])
@login_required
def edit(pledge_id: int):
    """Edit the agreement's text and the criteria version it binds."""
    pledge, scope = load_pledge(pledge_id, "edit_pledge")
    form = PledgeForm(obj=pledge) if request.method == "GET" else PledgeForm()
    if request.method == "GET":
        form.criteria_set_id.data = pledge.criteria_set_id or 0
    _set_choices(form, pledge)
    if request.method == "POST" and form.validate_on_submit():
        fields = {k: form[k].data for k in agreements.TEXT_FIELDS}
        update = partial(
            agreements.update,
            db.session,
            pledge,
            criteria_set_id=form.criteria_set_id.data or None,
            meeting_date=form.meeting_date.data,
            **fields,
        )
        if saved(form, update).ok:
            flash(_("Đã lưu giao ước."), "success")
            return hx_redirect(url_for("pledges.for_cluster", cluster_id=pledge.cluster_id, year=pledge.year.year))
    return render("pledges/edit.html", block="form", status=form_status(form), pledge=pledge, form=form)


@bp.post("/<int:pledge_id>/sign")
@login_required
def sign(pledge_id: int):
    """The signed-in user's unit signs the agreement as it stands."""
    pledge, scope = load_pledge(pledge_id, "sign_pledge")
    form = SignForm()
    if form.validate_on_submit():
        sign = partial(
            agreements.sign,
            db.session,
            pledge,
            db.session.get(Unit, current_principal().unit_id),
            representative_name=form.representative_name.data,
            representative_position=form.representative_position.data,
            signed_on=form.signed_on.data,
            user_id=current_user.id,
        )
        if saved(form, sign).ok:
            flash(_("Đơn vị đã ký giao ước thi đua."), "success")
            return _after_change(pledge, scope)
    return render("pledges/show.html", block="signatures", status=422, **_context(pledge, scope, sign_form=form))


def _after_change(pledge: Pledge, scope: ClusterYear):
    if is_fragment_request():
        return render("pledges/show.html", block="signatures", **_context(pledge, scope))
    return hx_redirect(url_for("pledges.for_cluster", cluster_id=pledge.cluster_id, year=pledge.year.year))


@bp.post("/signatures/<int:signature_id>/confirm")
@login_required
def confirm(signature_id: int):
    """The head unit confirms a member's signature."""
    signature = get_or_404(PledgeSignature, signature_id)
    pledge, scope = load_pledge(signature.pledge_id, "confirm_signature")
    if not EmptyForm().validate_on_submit():
        abort(400)
    if done(lambda: agreements.confirm(db.session, signature, current_user.id), flash_category="warning").ok:
        flash(_("Đã xác nhận chữ ký của %(unit)s.", unit=signature.unit.name), "success")
    return _after_change(pledge, scope)


@bp.get("/<int:pledge_id>/print")
@login_required
def print_pledge(pledge_id: int):
    """The agreement as a printable page in the administrative format."""
    pledge, scope = load_pledge(pledge_id)
    return render("pledges/print.html", **_context(pledge, scope))


@bp.get("/<int:pledge_id>/export.docx")
@login_required
def export_docx(pledge_id: int):
    """The agreement as a Word document in the administrative format, with all signature blocks."""
    pledge, scope = load_pledge(pledge_id)
    statuses = agreements.statuses(db.session, pledge, agreements.current_hash(db.session, pledge))
    rows = [(depth, n.code, n.title, vn_number(points)) for depth, n, points in _criteria_rows(pledge)] or None
    data = documents.pledge_docx(
        pledge, statuses, province_name=current_app.config["PROVINCE_NAME"], criteria_rows=rows, today=vn_today()
    )
    response = Response(data, mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    filename = f"giao-uoc-thi-dua-{pledge.cluster.code}-{pledge.year.year}.docx"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/<int:pledge_id>/charters/<string:digest>")
@login_required
def charter(pledge_id: int, digest: str):
    """The exact rules signed under a charter hash, as canonical JSON anyone can re-hash."""
    load_pledge(pledge_id)
    found = db.session.get(Charter, digest)
    if found is None or found.pledge_id != pledge_id:
        abort(404)
    response = Response(found.content, mimetype="application/json")
    response.headers["X-Charter-Verified"] = "true" if agreements.verify(found) else "false"
    return response


@bp.route("/<int:cluster_id>/<int:year>/targets", methods=["GET"])
@login_required
def targets(cluster_id: int, year: int):
    """Registered targets: a member enters its own; the head and overseers see them compiled."""
    cluster, year, scope = cluster_year_in_scope(cluster_id, year)
    return render("pledges/targets.html", **_targets_context(cluster, year, scope))


def _targets_context(cluster, year, scope: ClusterYear, failed: dict | None = None) -> dict:
    cset = sets.in_force(db.session, cluster.id, year.id)
    visible = cset is not None and cset.status in (SetStatus.PUBLISHED, SetStatus.LOCKED)
    items = agreements.quantitative_items(db.session, cset) if visible else []
    pledge = agreements.find(db.session, cluster.id, year.id)
    units = agreements.member_units(db.session, pledge) if pledge else _members(year.id, cluster.id)
    return {
        "cluster": cluster,
        "year": year,
        "cset": cset if visible else None,
        "items": items,
        "units": units,
        "registered": agreements.targets_of(db.session, [u.id for u in units], items),
        "scope": scope,
        "own_unit_id": current_principal().unit_id,
        "may_register": may(scope, "register_targets") and cset is not None and cset.status == SetStatus.PUBLISHED,
        "failed": failed or {},
    }


def _members(year_id: int, cluster_id: int) -> list[Unit]:
    from portal.models import Membership

    return list(
        db.session.scalars(
            select(Unit)
            .join(Membership, Membership.unit_id == Unit.id)
            .where(Membership.year_id == year_id, Membership.cluster_id == cluster_id)
            .order_by(Membership.rotation_order)
        )
    )


@bp.post("/targets/<int:criterion_id>")
@login_required
def register_target(criterion_id: int):
    """Save the signed-in unit's target on one criterion (autosaved as the user types, or the row's button)."""
    criterion = get_or_404(Criterion, criterion_id)
    cset = criterion.criteria_set
    if cset.is_template:
        abort(404)
    scope = ClusterYear(cset.year_id, cset.cluster_id)
    if not sees(current_principal(), scope) or cset.status == SetStatus.DRAFT:
        abort(404)
    if not may(scope, "register_targets"):
        abort(403)
    form = TargetForm(prefix=f"c{criterion.id}")
    unit = db.session.get(Unit, current_principal().unit_id)
    if (
        form.validate_on_submit()
        and saved(
            form,
            lambda: agreements.register_target(db.session, cset, unit, criterion, form.target.data, form.note.data),
        ).ok
    ):
        if is_fragment_request():
            return render("pledges/_target_saved.html", item=criterion, saved_at=utcnow())
        flash(_("Đã lưu chỉ tiêu %(code)s.", code=criterion.code), "success")
        return hx_redirect(url_for("pledges.targets", cluster_id=cset.cluster_id, year=cset.year.year))
    return _target_refused(criterion, cset, scope, form)


def _target_refused(criterion: Criterion, cset: CriteriaSet, scope: ClusterYear, form: TargetForm):
    """422 with the message next to the refused field: out of band for the autosave, else the whole page."""
    name, errors = next(((k, v) for k, v in form.errors.items() if v), ("target", form.form_errors))
    error = "; ".join(str(e) for e in errors)
    if is_fragment_request():
        field = form[name].name if name in ("target", "note") else form.target.name
        return render("pledges/_target_saved.html", status=422, item=criterion, error=error, field=field)
    failed = {"item_id": criterion.id, "form": form, "error": error}
    return render("pledges/targets.html", status=422, **_targets_context(cset.cluster, cset.year, scope, failed))
