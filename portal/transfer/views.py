"""Excel import and export of units, clusters and memberships (secretariat only)."""

from io import BytesIO

from flask import Blueprint, current_app, flash, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from portal.access import require, year_from_args
from portal.extensions import db
from portal.htmx import hx_redirect, is_fragment_request, render
from portal.models import AuditEntry, EmulationYear
from portal.services.org.transfer.apply import import_workbook
from portal.services.org.transfer.export import export_workbook, template_workbook
from portal.services.org.transfer.layout import SHEETS, rules
from portal.services.org.transfer.report import ImportReport
from portal.transfer.forms import ImportForm

bp = Blueprint("transfer", __name__, url_prefix="/transfer")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEFAULT_MAX_BYTES = 5 * 1024 * 1024


def _limits() -> dict:
    config = current_app.config
    return {"max_rows": config["IMPORT_MAX_ROWS"], "max_bytes": config.get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)}


def _page(form: ImportForm, report: ImportReport | None = None, status: int = 200):
    all_years = db.session.scalars(select(EmulationYear).order_by(EmulationYear.year.desc())).all()
    recent = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "import").order_by(AuditEntry.id.desc()).limit(5)
    ).all()
    block = "import" if request.method == "POST" else None
    return render(
        "transfer/index.html",
        block=block,
        status=status,
        form=form,
        report=report,
        all_years=all_years,
        recent=recent,
        sheets=SHEETS,
        rules=rules(_limits()["max_rows"]),
        **_limits(),
    )


def _xlsx(data: bytes, filename: str):
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=filename)


@bp.get("/")
@require("import_export")
def index():
    """The template, the export by year, the upload form and the latest imports."""
    return _page(ImportForm(formdata=None))


@bp.get("/template.xlsx")
@require("import_export")
def template():
    """Download the blank workbook with its guide sheet."""
    return _xlsx(template_workbook(_limits()["max_rows"]), "mau-nhap-cum-khoi-thi-dua.xlsx")


@bp.get("/export.xlsx")
@require("import_export")
def export():
    """Download units, clusters and the memberships of one year (?year=YYYY) or of all (?year=all)."""
    choice = request.args.get("year", "all")
    year = None if choice == "all" else year_from_args(choice)
    data = export_workbook(db.session, year, _limits()["max_rows"])
    return _xlsx(data, f"cum-khoi-thi-dua-{year.year if year else 'tat-ca-cac-nam'}.xlsx")


@bp.post("/import")
@require("import_export")
def upload():
    """Check an uploaded workbook; save all of it in one transaction, or nothing."""
    form = ImportForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    dry_run = bool(form.check.data)
    file = form.file.data
    report = import_workbook(
        db.session, file.read(_limits()["max_bytes"] + 1), apply=not dry_run, filename=file.filename or "", **_limits()
    )
    if report.errors or dry_run:
        db.session.rollback()
        return _page(ImportForm(formdata=None), report=report, status=422 if report.errors else 200)
    db.session.commit()
    if is_fragment_request():
        return _page(ImportForm(formdata=None), report=report)
    flash(_("Đã nhập tệp “%(name)s”. %(summary)s", name=file.filename, summary=report.summary()), "success")
    return hx_redirect(url_for("transfer.index"))
