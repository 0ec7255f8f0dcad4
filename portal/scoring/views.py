"""Self-assessment (tự chấm điểm), verification (thẩm định) and explanation (giải trình) pages.

One generic page serves every stage of an assessment: its author's inputs per
criterion (saved one field at a time), with the earlier stages of the same unit
beside them for reference. The cluster-year page is the round's control room for
the head and the progress view for the deputy, the overseer and the secretariat.
"""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, current_app, flash, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from portal import live
from portal.access import (
    authorize_scope,
    cluster_year_in_scope,
    criterion_of,
    current_principal,
    get_or_404,
    load_assessment,
    may,
)
from portal.extensions import db
from portal.formatting import vn_datetime, vn_end_of_day
from portal.forms import EmptyForm, commit_keeping_loaded, domain_message, done, saved
from portal.htmx import hx_redirect, render
from portal.models import Assessment, EmulationYear, ScoringRound
from portal.models.scoring import Stage
from portal.policy import ClusterYear
from portal.routing import MAX_ID
from portal.scoring import pages
from portal.scoring.forms import DeadlineForm, ExtendForm, ImportForm, ReturnForm
from portal.services import DomainError
from portal.services.criteria import sets
from portal.services.platform import mail
from portal.services.platform.live import data_version
from portal.services.scoring import assessments, reminders, rounds, verification
from portal.services.scoring.excel.apply import import_workbook
from portal.services.scoring.excel.export import export_workbook
from portal.services.scoring.excel.parse import ImportReport

bp = Blueprint("scoring", __name__, url_prefix="/scoring")


# ---------------------------------------------------------------- the cluster-year page


@bp.get("/<int:cluster_id>/<int:year>")
@login_required
def for_cluster(cluster_id: int, year: int):
    """Open the self round, set deadlines, follow who has submitted; a member finds its own form here.

    Live: its region polls this URL (304 while nothing changed) and, with Redis, refreshes on the stream."""
    cluster, year, scope = cluster_year_in_scope(cluster_id, year)
    tag = live.etag(data_version(db.session))

    def page():
        context = pages.cluster_context(cluster, year, scope)
        return render("scoring/cluster.html", etag=tag, live=live.streaming(), **context)

    return live.answer(tag, page)


@bp.get("/<int:cluster_id>/<int:year>/live")
@login_required
def stream(cluster_id: int, year: int):
    """The progress page's event stream (Redis only, else 404), for whoever may read the page."""
    cluster_year_in_scope(cluster_id, year)
    return live.stream()


@bp.post("/<int:cluster_id>/<int:year>/open")
@login_required
def open_round(cluster_id: int, year: int):
    cluster, year, scope = cluster_year_in_scope(cluster_id, year)
    if not may(scope, "run_rounds"):
        abort(403)
    form = DeadlineForm()
    cset = sets.in_force(db.session, cluster.id, year.id)
    if form.validate_on_submit():
        deadline = vn_end_of_day(form.deadline.data) if form.deadline.data else None

        def call():
            if cset is None:
                raise DomainError("Chưa có bảng tiêu chí đã công bố.")
            return assessments.open_self_round(db.session, cset, deadline=deadline)

        if saved(form, call).ok:
            flash(_("Đã mở vòng tự chấm điểm; các đơn vị thành viên đã có thể chấm."), "success")
            return hx_redirect(url_for("scoring.for_cluster", cluster_id=cluster.id, year=year.year))
    context = pages.cluster_context(cluster, year, scope, open_form=form)
    return render("scoring/cluster.html", status=422, **context)


@bp.post("/rounds/<int:round_id>/deadline")
@login_required
def round_deadline(round_id: int):
    scoring_round = get_or_404(ScoringRound, round_id)
    scope = ClusterYear(scoring_round.year_id, scoring_round.cluster_id)
    authorize_scope(scope, "run_rounds")
    form = DeadlineForm()
    if form.validate_on_submit():
        deadline = vn_end_of_day(form.deadline.data) if form.deadline.data else None
        if saved(form, lambda: rounds.set_deadline(db.session, scoring_round, deadline)).ok:
            flash(_("Đã lưu hạn chót."), "success")
            return hx_redirect(_cluster_url(scoring_round.cluster_id, scope))
    cluster, year, scope = cluster_year_in_scope(scoring_round.cluster_id, _year_of(scope))
    forms = {f"{scoring_round.kind}_deadline_form": form}
    return render("scoring/cluster.html", status=422, **pages.cluster_context(cluster, year, scope, **forms))


@bp.post("/rounds/<int:round_id>/close")
@login_required
def close_round(round_id: int):
    """Close the self or the verification round (the head): nothing more is handed in; members read the results."""
    scoring_round = get_or_404(ScoringRound, round_id)
    scope = ClusterYear(scoring_round.year_id, scoring_round.cluster_id)
    authorize_scope(scope, "run_rounds")
    if not EmptyForm().validate_on_submit():
        abort(400)
    if done(lambda: rounds.close_round(db.session, scoring_round)).ok:
        flash(_("Đã đóng vòng; các đơn vị thành viên xem được kết quả khi mọi vòng tính điểm đã đóng."), "success")
    return hx_redirect(_cluster_url(scoring_round.cluster_id, scope))


@bp.post("/<int:cluster_id>/<int:year>/remind")
@login_required
def remind(cluster_id: int, year: int):
    """E-mail the reminder to units that have not submitted (only when the portal has mail configured)."""
    cluster, found_year, scope = cluster_year_in_scope(cluster_id, year)
    if not may(scope, "run_rounds"):
        abort(403)
    if not EmptyForm().validate_on_submit() or not mail.configured(current_app.config):
        abort(400)
    back = url_for("scoring.for_cluster", cluster_id=cluster.id, year=found_year.year)
    try:
        reminder = reminders.send(db.session, current_app.config, cluster, found_year)
    except mail.MailError:
        flash(_("Không gửi được e-mail; hãy sao chép danh sách để nhắc bằng cách khác."), "danger")
        return hx_redirect(back)
    if reminder.recipients:
        db.session.commit()
        sent = len(reminder.recipients)
        flash(
            ngettext("Đã gửi e-mail nhắc tới %(num)s địa chỉ.", "Đã gửi e-mail nhắc tới %(num)s địa chỉ.", sent),
            "success",
        )
    else:
        flash(_("Các đơn vị chưa nộp chưa khai báo địa chỉ e-mail."), "warning")
    return hx_redirect(back)


# ---------------------------------------------------------------- one assessment


@bp.get("/assessments/<int:assessment_id>")
@login_required
def assessment(assessment_id: int):
    current, scope = load_assessment(assessment_id)
    return render("scoring/assessment.html", **pages.assessment_context(current, scope))


@bp.get("/assessments/<int:assessment_id>/scores/<int:criterion_id>")
@login_required
def score_row(assessment_id: int, criterion_id: int):
    """One criterion's row as stored now (after a conflict, to take the other user's value)."""
    current, scope = load_assessment(assessment_id)
    criterion = criterion_of(current, criterion_id)
    return render("scoring/_row.html", **pages.row_context(current, scope, criterion))


@bp.post("/assessments/<int:assessment_id>/scores/<int:criterion_id>")
@login_required
def save_score(assessment_id: int, criterion_id: int):
    """Autosave of one criterion: value and explanation, guarded by the revision the form was made on."""
    current, scope = load_assessment(assessment_id, "edit")
    sheet = assessments.sheet_of(db.session, current)  # its criteria land in the session: criterion_of reads none
    criterion = criterion_of(current, criterion_id)
    raw, note, revision = request.form.get("value", ""), request.form.get("note", ""), _revision()
    try:
        score = assessments.save_score(
            db.session, current, criterion, raw, note, expected_revision=revision, user_id=current_user.id, sheet=sheet
        )
        db.session.flush()
        answer = pages.saved_context(current, scope, criterion, score, sheet)
    except (assessments.ConflictError, StaleDataError, IntegrityError):
        # a colleague saved first (the database's version check and unique key are the backstop of the lock)
        db.session.rollback()
        theirs = assessments.score_maps(db.session, [current.id])[current.id].get(criterion.id)
        if theirs is None:
            raise
        context = pages.row_context(current, scope, criterion, mine={"value": raw, "note": note}, theirs=theirs)
        return render("scoring/_saved.html", status=409, **context)
    except DomainError as error:
        db.session.rollback()
        context = pages.row_context(
            current, scope, criterion, error=domain_message(error), mine={"value": raw, "note": note}
        )
        return render("scoring/_saved.html", status=422, **context)
    commit_keeping_loaded()
    return render("scoring/_saved.html", **answer)


def _revision() -> int | None:
    """The revision the autosaved form was made on (none for a criterion not scored yet); 400 if not one."""
    try:
        revision = int(request.form["revision"]) if request.form.get("revision") else None
    except ValueError:
        abort(400)
    if revision is not None and not 0 <= revision <= MAX_ID:  # no row ever had it; PostgreSQL would refuse it
        abort(400)
    return revision


@bp.post("/assessments/<int:assessment_id>/submit")
@login_required
def submit(assessment_id: int):
    current, scope = load_assessment(assessment_id, "edit")
    outcome = done(lambda: assessments.submit(db.session, current, current_user.id), flash_category=None)
    if not outcome.ok:
        context = pages.assessment_context(current, scope, submit_error=outcome.result)
        return render("scoring/assessment.html", block="actions", status=422, **context)
    flash(pages.submitted_message(current), "success")
    return hx_redirect(url_for("scoring.assessment", assessment_id=current.id))


@bp.post("/assessments/<int:assessment_id>/return")
@login_required
def return_assessment(assessment_id: int):
    current, scope = load_assessment(assessment_id, "lead")
    form = ReturnForm()
    if (
        form.validate_on_submit()
        and saved(form, lambda: assessments.return_for_revision(db.session, current, form.reason.data)).ok
    ):
        flash(_("Đã trả lại bản chấm của %(unit)s để sửa.", unit=current.subject.name), "success")
        return hx_redirect(_cluster_url(current.round.cluster_id, scope))
    return _cluster_with_error(current, scope, return_form=form)


@bp.post("/assessments/<int:assessment_id>/extend")
@login_required
def extend(assessment_id: int):
    current, scope = load_assessment(assessment_id, "lead")
    form = ExtendForm()
    if (
        form.validate_on_submit()
        and saved(form, lambda: assessments.extend(db.session, current, vn_end_of_day(form.until.data))).ok
    ):
        flash(
            _(
                "Đã gia hạn cho %(unit)s đến %(until)s.",
                unit=current.subject.name,
                until=vn_datetime(current.extended_until),
            ),
            "success",
        )
        return hx_redirect(_cluster_url(current.round.cluster_id, scope))
    return _cluster_with_error(current, scope, extend_form=form)


@bp.post("/assessments/<int:assessment_id>/verify")
@login_required
def verify(assessment_id: int):
    """Start (or continue) verifying a submitted self-assessment."""
    current, scope = load_assessment(assessment_id, "lead")
    if current.stage != Stage.SELF:
        abort(404)
    return _start_stage(
        current,
        scope,
        lambda: verification.start_verification(db.session, current, _acting_unit_id(), current_user.id),
    )


@bp.post("/assessments/<int:assessment_id>/finalize")
@login_required
def finalize(assessment_id: int):
    """Fix the final score of a unit, from its verification (and explanation)."""
    current, scope = load_assessment(assessment_id, "lead")
    if current.stage != Stage.VERIFIED:
        abort(404)
    return _start_stage(
        current, scope, lambda: verification.start_final(db.session, current, _acting_unit_id(), current_user.id)
    )


@bp.post("/assessments/<int:assessment_id>/explain")
@login_required
def explain(assessment_id: int):
    """The assessed unit answers the verification it received."""
    current, scope = load_assessment(assessment_id)
    principal = current_principal()
    if current.stage != Stage.VERIFIED:
        abort(404)
    if principal.unit_id != current.subject_unit_id or not may(scope, "self_assess"):
        abort(403)
    return _start_stage(current, scope, lambda: verification.start_explanation(db.session, current))


def _start_stage(current: Assessment, scope: ClusterYear, call):
    if not EmptyForm().validate_on_submit():
        abort(400)
    ok, created = done(call)
    if not ok:
        return hx_redirect(url_for("scoring.assessment", assessment_id=current.id))
    return hx_redirect(url_for("scoring.assessment", assessment_id=created.id))


def _acting_unit_id() -> int:
    unit_id = current_principal().unit_id
    if unit_id is None:
        abort(403)
    return unit_id


def _year_of(scope: ClusterYear) -> int:
    return db.session.get(EmulationYear, scope.year_id).year


def _cluster_url(cluster_id: int, scope: ClusterYear) -> str:
    return url_for("scoring.for_cluster", cluster_id=cluster_id, year=_year_of(scope))


def _cluster_with_error(current: Assessment, scope: ClusterYear, **forms):
    cluster, year, scope = cluster_year_in_scope(current.round.cluster_id, _year_of(scope))
    context = pages.cluster_context(cluster, year, scope, failed_id=current.id, **forms)
    return render("scoring/cluster.html", status=422, **context)


# ---------------------------------------------------------------- the offline route (Excel)


@bp.get("/assessments/<int:assessment_id>/export.xlsx")
@login_required
def export_xlsx(assessment_id: int):
    """The unit's form, prefilled, to fill in Excel and upload back."""
    current, _scope = load_assessment(assessment_id)
    content = export_workbook(db.session, current)
    filename = f"tu-cham-{current.subject_unit_id}-{current.id}.xlsx"
    return send_file(
        BytesIO(content),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=filename,
    )


@bp.post("/assessments/<int:assessment_id>/import")
@login_required
def import_xlsx(assessment_id: int):
    """Every value of the uploaded form is checked first; if any is wrong, nothing is saved."""
    current, scope = load_assessment(assessment_id, "edit")
    if not ImportForm().validate_on_submit():
        abort(400)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _import_failed(current, scope, [_("Chọn tệp Excel (.xlsx) đã điền.")])
    errors, report = _import(current, upload.stream)
    if errors:
        return _import_failed(current, scope, errors)
    db.session.commit()
    message = _(
        "Đã nhập từ Excel: %(saved)s tiêu chí được lưu, %(same)s không đổi.", saved=report.saved, same=report.unchanged
    )
    flash(message, "success")
    for note in report.skipped:
        flash(note, "warning")
    return hx_redirect(url_for("scoring.assessment", assessment_id=current.id))


def _import(current: Assessment, stream) -> tuple[list[str], ImportReport | None]:
    """Read the workbook into the assessment: (errors, report); after any error nothing stays (rolled back)."""
    max_rows = current_app.config["CRITERIA_IMPORT_MAX_ROWS"]
    try:
        report = import_workbook(db.session, current, stream, user_id=current_user.id, max_rows=max_rows)
    except DomainError as error:
        db.session.rollback()
        return [domain_message(error)], None
    if report.errors:
        db.session.rollback()
    return report.errors, report


def _import_failed(current: Assessment, scope: ClusterYear, errors: list[str]):
    context = pages.assessment_context(current, scope, import_errors=errors)
    return render("scoring/assessment.html", status=422, **context)
