"""Evidence files (minh chứng): upload, download and removal, authorised per assessment.

The list of one criterion's files is a fragment (`evidence/_list.html`) that the
assessment page includes in every criterion row; uploads and deletions swap it.
The bytes are served only here, after the same check as the assessment itself.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import errors
from portal.access import assessment_allows, criterion_of, get_or_404, load_assessment
from portal.evidence.forms import UploadForm
from portal.extensions import db
from portal.forms import EmptyForm, domain_message, done
from portal.htmx import hx_redirect, is_fragment_request, render
from portal.models import Assessment, Criterion, Evidence
from portal.services import DomainError
from portal.services.scoring import evidence

bp = Blueprint("evidence", __name__, url_prefix="/evidence")

FORM_OVERHEAD = 1 << 20  # multipart boundaries, part headers and the CSRF token around the file

# The partial is included by other areas' pages: what it needs from here is global.
bp.add_app_template_global(evidence.ACCEPT, "evidence_accept")
bp.add_app_template_global(evidence.INLINE_TYPES, "evidence_inline_types")
bp.add_app_template_filter(evidence.size_label, "vn_filesize")


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, _values) -> None:
    """An upload's body may be larger than other forms'; set before CSRF protection reads the body."""
    if endpoint == "evidence.upload":
        request.max_content_length = current_app.config["EVIDENCE_MAX_BYTES"] + FORM_OVERHEAD


def _folder() -> str:
    return current_app.config["EVIDENCE_FOLDER"]


def _list(assessment: Assessment, criterion: Criterion, *, status: int = 200, error: str | None = None):
    """The criterion's files (and the upload form while the user may still change them), page or fragment."""
    return render(
        "evidence/page.html",
        block="list",
        status=status,
        assessment=assessment,
        criterion=criterion,
        files=evidence.files_of(db.session, assessment.id, criterion.id),
        editable=assessment_allows(assessment, "edit") and evidence.is_open(assessment),
        error=error,
    )


def _back(default: str) -> str:
    """After a plain (non-htmx) form post: the portal page it came from, else `default`."""
    parts = urlsplit(request.referrer or "")
    if parts.netloc == request.host and parts.path.startswith("/") and not parts.path.startswith("//"):
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return default


@bp.get("/assessments/<int:assessment_id>/criteria/<int:criterion_id>")
@login_required
def for_criterion(assessment_id: int, criterion_id: int):
    """One criterion's evidence files (the fragment the assessment page embeds, or a page of its own)."""
    assessment, _scope = load_assessment(assessment_id, "view")
    return _list(assessment, criterion_of(assessment, criterion_id))


@bp.post("/assessments/<int:assessment_id>/criteria/<int:criterion_id>")
@login_required
def upload(assessment_id: int, criterion_id: int):
    """Attach a file to one criterion of the user's own assessment: the updated list (201), or the error (422)."""
    assessment, _scope = load_assessment(assessment_id, "edit")
    criterion = criterion_of(assessment, criterion_id)
    form = UploadForm()
    if not form.validate_on_submit():
        return _list(assessment, criterion, status=422, error=next(iter(form.file.errors), _("Chọn tệp để tải lên.")))
    try:
        stored = _store(assessment, criterion, form.file.data)
    except DomainError as error:
        db.session.rollback()
        return _list(assessment, criterion, status=422, error=domain_message(error))
    _commit_or_discard(stored.storage_key)
    if not is_fragment_request():
        return hx_redirect(_back(url_for(".for_criterion", assessment_id=assessment.id, criterion_id=criterion.id)))
    return _list(assessment, criterion, status=201)


def _store(assessment: Assessment, criterion: Criterion, upload) -> Evidence:
    """The uploaded file kept for the criterion, within the portal's limits of size and number."""
    config = current_app.config
    return evidence.store(
        db.session,
        assessment,
        criterion,
        upload.filename,
        upload.stream,
        folder=_folder(),
        max_bytes=config["EVIDENCE_MAX_BYTES"],
        max_files=config["EVIDENCE_MAX_FILES"],
        user_id=current_user.id,
    )


def _commit_or_discard(storage_key: str) -> None:
    """Commit the new row; if the commit fails, its file must not stay behind."""
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        evidence.discard_file(_folder(), storage_key)
        raise


@bp.get("/<int:evidence_id>")
@login_required
def download(evidence_id: int):
    """The file, to whoever may read its assessment: an attachment (images and PDF inline on ?inline=1)."""
    found = get_or_404(Evidence, evidence_id)
    load_assessment(found.assessment_id, "view")
    path = evidence.path_of(_folder(), found)
    if not path.is_file():
        current_app.logger.error("evidence #%s: file %s is missing", found.id, found.storage_key)
        abort(404)
    inline = request.args.get("inline") == "1" and found.content_type in evidence.INLINE_TYPES
    response = send_file(
        path,
        mimetype=found.content_type,
        as_attachment=not inline,
        download_name=found.filename,
        etag=found.sha256,
        last_modified=found.uploaded_at,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/<int:evidence_id>/delete")
@login_required
def delete(evidence_id: int):
    """Remove a file while the assessment may still change; its bytes go once the removal is committed."""
    found = get_or_404(Evidence, evidence_id)
    assessment, _scope = load_assessment(found.assessment_id, "edit")
    criterion = criterion_of(assessment, found.criterion_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    outcome = done(lambda: evidence.delete(db.session, found, assessment), flash_category=None)
    if not outcome.ok:
        return _list(assessment, criterion, status=422, error=outcome.result)
    evidence.discard_file(_folder(), outcome.result)
    if not is_fragment_request():
        return hx_redirect(_back(url_for(".for_criterion", assessment_id=assessment.id, criterion_id=criterion.id)))
    return _list(assessment, criterion)


@bp.errorhandler(413)
def too_large(_error):
    """A body over the upload limit: the size rule next to the file input (htmx), or an error page."""
    message = _(
        "Tệp quá lớn: mỗi tệp tối đa %(size)s.", size=evidence.size_label(current_app.config["EVIDENCE_MAX_BYTES"])
    )
    args = request.view_args or {}
    assessment = db.session.get(Assessment, args["assessment_id"]) if "assessment_id" in args else None
    if is_fragment_request() and assessment is not None and assessment_allows(assessment, "edit"):
        criterion = db.session.get(Criterion, args.get("criterion_id"))
        if criterion is not None and criterion.set_id == assessment.criteria_set_id:
            # 422, not 413: the page's htmx swaps 422 answers only, and the message belongs next to the input
            return _list(assessment, criterion, status=422, error=message)
    return errors.page(413, message)
