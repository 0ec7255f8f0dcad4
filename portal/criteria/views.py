"""Criteria sets: the head builds the year's table in place; members read it once published."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from flask import Blueprint, Response, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_required
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from portal import vntext
from portal.access import cluster_year_in_scope, current_principal, get_or_404, load_set, may, require, set_allows
from portal.criteria import sources
from portal.criteria.forms import DelegationForm, ImportForm, ItemForm, SetForm, StartForm, VersionForm
from portal.extensions import db
from portal.formatting import vn_number
from portal.forms import EmptyForm, domain_message, done, form_status, saved
from portal.htmx import hx_redirect, is_fragment_request, render
from portal.models import Cluster, CriteriaSet, Criterion, EmulationYear, Term
from portal.models.criteria import CriterionKind, SetStatus
from portal.models.org import CLUSTER_KINDS
from portal.models.years import PositionRole
from portal.redirects import safe_next
from portal.routing import arg_int
from portal.services import DomainError
from portal.services.criteria import sets
from portal.services.criteria.excel.apply import replace_tree
from portal.services.criteria.excel.export import export_workbook
from portal.services.criteria.excel.layout import RowError
from portal.services.criteria.excel.parse import parse_workbook
from portal.services.criteria.excel.report import errors_workbook, group_errors
from portal.services.org.cluster_year import ensure_term
from portal.services.pledges import agreements

bp = Blueprint("criteria", __name__, url_prefix="/criteria")
ITEM_FIELDS = (
    "code",
    "title",
    "kind",
    "method",
    "max_points",
    "points_each",
    "measure_unit",
    "guidance",
    "evidence_required",
)


def _term(cset: CriteriaSet) -> Term | None:
    if cset.is_template:
        return None
    return db.session.scalar(select(Term).where(Term.year_id == cset.year_id, Term.cluster_id == cset.cluster_id))


def _context(cset: CriteriaSet, **extra) -> dict:
    term = _term(cset)
    tree = sets.load_tree(db.session, cset)
    may_edit = set_allows(cset, "edit", term)
    return {
        "cset": cset,
        "tree": tree,
        "term": term,
        "warnings": sets.warnings(cset, tree),
        "may_edit": may_edit,
        "editing": may_edit and cset.editable,
        "max_depth": sets.MAX_DEPTH,
        "history": [] if cset.is_template else sets.versions(db.session, cset.cluster_id, cset.year_id),
        "settings_form": extra.pop("settings_form", None) or SetForm(obj=cset, formdata=None),
        "version_form": extra.pop("version_form", None) or VersionForm(formdata=None),
        "delegation_form": DelegationForm(obj=term, formdata=None) if term else None,
        "new_form": extra.pop("new_form", None) or ItemForm(formdata=None),
        "import_form": ImportForm(formdata=None),
        **extra,
    }


def _tree_response(cset: CriteriaSet, status: int = 200):
    """After a change: the tree block for htmx, the page otherwise."""
    if is_fragment_request():
        return render("criteria/show.html", block="tree", status=status, **_context(cset))
    return hx_redirect(url_for("criteria.show", set_id=cset.id))


@bp.get("/<int:cluster_id>/<int:year>")
@login_required
def for_cluster(cluster_id: int, year: int):
    """The cluster's table for the year, or (for its head) the form to start one."""
    cluster, year, scope = cluster_year_in_scope(cluster_id, year)
    cset = sets.in_force(db.session, cluster.id, year.id)
    if cset is not None and set_allows(cset, "view"):
        return render("criteria/show.html", **_context(cset))
    may_start = may(scope, "edit_criteria")  # what criteria_permission asks to edit a draft of the cluster-year
    form = StartForm(formdata=None, title=f"Bảng tiêu chí thi đua năm {year.year}")
    sources.fill_choices(form, cluster, year)
    return render("criteria/start.html", cluster=cluster, year=year, form=form, may_start=may_start)


@bp.post("/<int:cluster_id>/<int:year>")
@login_required
def start(cluster_id: int, year: int):
    """Start the year's table: empty, or copied from last year, another cluster or a template."""
    cluster, year, scope = cluster_year_in_scope(cluster_id, year)
    ensure_term(db.session, year, cluster)
    if not may(scope, "edit_criteria"):
        abort(403)
    form = StartForm()
    sources.fill_choices(form, cluster, year)
    if form.validate_on_submit():
        ok, cset = saved(form, lambda: _create_set(form, cluster, year, source=sources.chosen(form, cluster, year)))
        if ok:
            flash(_("Đã tạo bảng tiêu chí (bản nháp)."), "success")
            return hx_redirect(url_for("criteria.show", set_id=cset.id))
    return render("criteria/start.html", status=422, cluster=cluster, year=year, form=form, may_start=True)


def _create_set(form: SetForm, cluster: Cluster | None, year: EmulationYear | None, **more) -> CriteriaSet:
    """A new draft table with the form's title, target and step (a template has no cluster nor year)."""
    return sets.create_set(
        db.session,
        cluster,
        year,
        title=form.title.data,
        target_total=form.target_total.data,
        score_step=form.score_step.data,
        **more,
    )


@bp.get("/sets/<int:set_id>")
@login_required
def show(set_id: int):
    """A criteria set: the tree with live totals; editing controls for its builders."""
    cset = load_set(set_id)
    return render("criteria/show.html", block="tree" if is_fragment_request() else None, **_context(cset))


@bp.post("/sets/<int:set_id>/settings")
@login_required
def settings(set_id: int):
    """Title, declared total and scoring step of the set."""
    cset = load_set(set_id, "edit")
    form = SetForm()
    if form.validate_on_submit():
        update = partial(
            sets.update_set,
            db.session,
            cset,
            title=form.title.data,
            target_total=form.target_total.data,
            score_step=form.score_step.data,
        )
        if saved(form, update).ok:
            flash(_("Đã lưu thông tin bảng tiêu chí."), "success")
            return hx_redirect(url_for("criteria.show", set_id=cset.id))
    return render("criteria/show.html", status=422, **_context(cset, settings_form=form, open_settings=True))


def _item_values(form: ItemForm) -> dict:
    return {k: form[k].data for k in ITEM_FIELDS}


@bp.route("/sets/<int:set_id>/items", methods=["GET", "POST"])
@login_required
def add_item(set_id: int):
    """Add a section (no parent) or a child criterion; GET gives the empty form."""
    cset = load_set(set_id, "edit")
    parent = None
    parent_id = arg_int("parent_id", values=request.values)
    if parent_id:
        parent = db.session.get(Criterion, parent_id)
        if parent is None or parent.set_id != cset.id:
            abort(404)
    form = (
        ItemForm(formdata=None, kind=parent.kind if parent else CriterionKind.SCORED)
        if request.method == "GET"
        else ItemForm()
    )
    if (
        request.method == "POST"
        and form.validate_on_submit()
        and saved(form, lambda: sets.add_criterion(db.session, cset, parent, **_item_values(form))).ok
    ):
        return _tree_response(cset)
    return _item_form(cset, form, parent=parent, status=form_status(form))


def _item_form(cset, form, *, parent=None, criterion=None, status=200):
    target = f"#edit-{criterion.id}" if criterion else f"#new-under-{parent.id if parent else 'root'}"
    template = "criteria/_item_form.html" if is_fragment_request() else "criteria/item.html"
    # a parent's points are its children's sum: its form has no method nor points to ask for
    has_children = criterion is not None and sets.has_children(db.session, criterion)
    response = render(
        template,
        status=status,
        cset=cset,
        form=form,
        parent=parent,
        criterion=criterion,
        target=target,
        has_children=has_children,
    )
    if status == 422 and is_fragment_request():
        response.headers["HX-Retarget"], response.headers["HX-Reswap"] = target, "innerHTML"
    return response


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit_item(item_id: int):
    """Edit a criterion in place."""
    criterion = get_or_404(Criterion, item_id)
    cset = load_set(criterion.set_id, "edit")
    form = ItemForm(obj=criterion) if request.method == "GET" else ItemForm()
    if (
        request.method == "POST"
        and form.validate_on_submit()
        and saved(form, lambda: sets.update_criterion(db.session, criterion, **_item_values(form))).ok
    ):
        return _tree_response(cset)
    return _item_form(cset, form, criterion=criterion, status=form_status(form))


@bp.post("/items/<int:item_id>/delete")
@login_required
def delete_item(item_id: int):
    """Delete a criterion and everything under it."""
    criterion = get_or_404(Criterion, item_id)
    cset = load_set(criterion.set_id, "edit")
    return _change(cset, lambda: sets.delete_criterion(db.session, criterion), _("Đã xóa tiêu chí."))


@bp.post("/items/<int:item_id>/move")
@login_required
def move_item(item_id: int):
    """Move a criterion up or down among its siblings."""
    criterion = get_or_404(Criterion, item_id)
    cset = load_set(criterion.set_id, "edit")
    step = arg_int("step", minimum=-1, maximum=1, values=request.form)
    if step not in (-1, 1):
        abort(400)
    return _change(cset, lambda: sets.move_criterion(db.session, criterion, step), None)


def _change(cset: CriteriaSet, action, message: str | None):
    if not EmptyForm().validate_on_submit():
        abort(400)
    ok, result = done(action)
    if not ok:
        return (
            _tree_response(cset, status=422)
            if is_fragment_request()
            else hx_redirect(url_for("criteria.show", set_id=cset.id))
        )
    for warning in result if isinstance(result, list) else []:
        flash(warning, "warning")
    if message:
        flash(message, "success")
    return _tree_response(cset)


@bp.get("/sets/<int:set_id>/lock")
@login_required
def confirm_lock(set_id: int):
    """Before locking: which members have no target on a quantitative criterion (their targets freeze as none)."""
    cset = load_set(set_id, "edit")
    if cset.status != SetStatus.PUBLISHED or cset.is_template:
        return hx_redirect(url_for("criteria.show", set_id=cset.id))
    members, gaps = agreements.target_gaps(db.session, cset)
    return render("criteria/lock.html", cset=cset, members=members, gaps=gaps, form=EmptyForm(formdata=None))


@bp.post("/sets/<int:set_id>/<any(publish, unpublish, lock):step>")
@login_required
def lifecycle(set_id: int, step: str):
    """Publish (members see it), back to draft, or lock when scoring opens."""
    cset = load_set(set_id, "edit")
    messages = {
        "publish": _("Đã công bố bảng tiêu chí; các thành viên đã xem được."),
        "unpublish": _("Bảng tiêu chí trở lại bản nháp."),
        "lock": _("Đã khóa bảng tiêu chí để chấm điểm."),
    }
    action = {"publish": sets.publish, "unpublish": sets.unpublish, "lock": sets.lock}[step]
    response = _change(cset, lambda: action(db.session, cset), messages[step])
    return hx_redirect(url_for("criteria.show", set_id=cset.id)) if response.status_code < 400 else response


@bp.post("/sets/<int:set_id>/versions")
@login_required
def new_version(set_id: int):
    """Change a locked set as a new, audited version with a reason."""
    cset = load_set(set_id, "edit")
    form = VersionForm()
    if form.validate_on_submit():
        ok, successor = saved(form, lambda: sets.new_version(db.session, cset, form.reason.data))
        if ok:
            flash(_("Đã tạo phiên bản %(version)s (bản nháp) để điều chỉnh.", version=successor.version), "success")
            return hx_redirect(url_for("criteria.show", set_id=successor.id))
    return render("criteria/show.html", status=422, **_context(cset, version_form=form))


@bp.post("/sets/<int:set_id>/delete")
@login_required
def delete_set(set_id: int):
    """Delete a draft that was started by mistake."""
    cset = load_set(set_id, "edit")
    back = (
        url_for("criteria.templates")
        if cset.is_template
        else url_for("criteria.for_cluster", cluster_id=cset.cluster_id, year=cset.year.year)
    )
    if not done(lambda: sets.delete_set(db.session, cset)).ok:
        return hx_redirect(url_for("criteria.show", set_id=set_id))
    flash(_("Đã xóa bản nháp."), "success")
    return hx_redirect(back)


@bp.post("/<int:cluster_id>/<int:year>/delegation")
@login_required
def delegation(cluster_id: int, year: int):
    """The head lets its deputies build and run the cluster's year with it (or not)."""
    cluster, year, scope = cluster_year_in_scope(cluster_id, year)
    if current_principal().role_in(scope) != PositionRole.HEAD:
        abort(403)
    term = ensure_term(db.session, year, cluster)
    form = DelegationForm()
    if form.validate_on_submit():
        term.deputy_may_lead = form.deputy_may_lead.data
        db.session.commit()
        flash(
            _("Đã lưu phân quyền cho đơn vị Phó.")
            if term.deputy_may_lead
            else _("Đơn vị Phó không còn quyền chỉnh sửa."),
            "success",
        )
    back = url_for("criteria.for_cluster", cluster_id=cluster.id, year=year.year)
    return hx_redirect(safe_next(request.form.get("next"), back))


@bp.get("/templates")
@require("view_templates")
def templates():
    """The province's criteria templates (the secretariat builds and publishes them)."""
    query = select(CriteriaSet).where(CriteriaSet.cluster_id.is_(None))
    if not current_principal().is_secretariat:
        query = query.where(CriteriaSet.status != SetStatus.DRAFT)
    form = StartForm(formdata=None, title="Mẫu bảng tiêu chí")
    found = sorted(db.session.scalars(query), key=lambda s: vntext.sort_key(s.title))  # a few templates
    return render("criteria/templates.html", sets=found, form=form)


@bp.post("/templates")
@require("manage_templates")
def create_template():
    """Create a province template (a criteria set of no cluster)."""
    form = SetForm()
    if form.validate_on_submit():
        kind = request.form.get("template_kind")
        template_kind = kind if kind in CLUSTER_KINDS else None
        ok, cset = saved(form, lambda: _create_set(form, None, None, template_kind=template_kind))
        if ok:
            return hx_redirect(url_for("criteria.show", set_id=cset.id))
    found = db.session.scalars(select(CriteriaSet).where(CriteriaSet.cluster_id.is_(None))).all()
    return render("criteria/templates.html", status=422, sets=found, form=form)


@bp.get("/sets/<int:set_id>/export.xlsx")
@login_required
def export_xlsx(set_id: int):
    """The table as an Excel workbook in the documented layout (round-trips exactly)."""
    cset = load_set(set_id)
    data = export_workbook(cset, sets.load_tree(db.session, cset))
    response = Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    name = "mau" if cset.is_template else f"{cset.cluster.code}-{cset.year.year}-v{cset.version}"
    response.headers["Content-Disposition"] = f'attachment; filename="bang-tieu-chi-{name}.xlsx"'
    return response


def _errors_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="criteria-import-errors")


def _import_refused(cset: CriteriaSet, errors: list[RowError], filename: str = ""):
    """The page again with every error, grouped by message with all its rows, and the list to download."""
    token = _errors_signer().dumps({"set": cset.id, "file": filename, "errors": [list(e) for e in errors]})
    return render(
        "criteria/show.html",
        status=422,
        **_context(
            cset,
            import_errors=group_errors(errors),
            import_error_count=len(errors),
            import_errors_token=token,
        ),
    )


@bp.post("/sets/<int:set_id>/import")
@login_required
def import_xlsx(set_id: int):
    """Replace the draft's criteria with an Excel table: all of it, or nothing and every error listed."""
    cset = load_set(set_id, "edit")
    form = ImportForm()
    upload = form.file.data if form.validate_on_submit() else None
    if upload is None or not upload.filename:
        return _import_refused(cset, [RowError(None, "", _("Chọn tệp Excel (.xlsx) để nhập."))])
    parsed = parse_workbook(upload.read(), max_rows=current_app.config["CRITERIA_IMPORT_MAX_ROWS"])
    if parsed.errors:
        return _import_refused(cset, list(parsed.errors), upload.filename)
    step = cset.score_step
    try:
        count = replace_tree(db.session, cset, parsed)
    except DomainError as error:
        db.session.rollback()
        return _import_refused(cset, [RowError(None, "", domain_message(error))], upload.filename)
    new_step = cset.score_step
    db.session.commit()
    _flash_imported(count, step, new_step)
    return hx_redirect(url_for("criteria.show", set_id=cset.id))


def _flash_imported(count: int, step: Decimal, new_step: Decimal) -> None:
    """How many criteria came in, and the scoring step if the import had to change it."""
    flash(
        ngettext("Đã nhập %(num)s tiêu chí từ tệp Excel.", "Đã nhập %(num)s tiêu chí từ tệp Excel.", count), "success"
    )
    if new_step != step:
        flash(
            _(
                "Bước điểm khi chấm đổi từ %(old)s thành %(new)s để chấm được đủ điểm chuẩn ghi trong tệp.",
                old=vn_number(step),
                new=vn_number(new_step),
            ),
            "info",
        )


@bp.post("/sets/<int:set_id>/import-errors.xlsx")
@login_required
def import_errors_xlsx(set_id: int):
    """The errors of a refused import as a workbook, one line per error (row, column, message)."""
    cset = load_set(set_id, "edit")
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        payload = _errors_signer().loads(request.form.get("errors", ""))
    except BadSignature:
        abort(400)
    if payload.get("set") != cset.id:
        abort(400)
    errors = [RowError(*error) for error in payload["errors"]]
    response = Response(
        errors_workbook(errors, payload.get("file", "")),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="loi-nhap-bang-tieu-chi-{cset.id}.xlsx"'
    return response


@bp.get("/sets/<int:set_id>/print")
@login_required
def print_set(set_id: int):
    """A printable page of the table."""
    return render("criteria/print.html", **_context(load_set(set_id)))
