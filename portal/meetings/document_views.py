"""The year-end meeting's documents as Word files (services/documents): the minutes, the head's proposal
to the council, the cluster's annual report, and each nominee's achievement report.

Outside the cluster-year: 404; a meeting not opened: 404; inside but not allowed
(policy.meeting_document_permission): 403. A document that cannot be made yet — a proposal when
nobody was proposed, an achievement report of a unit not proposed — is refused with the reason
shown on the meeting page (303 back to it). No PDF: LibreOffice is not part of the deployment.
"""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, url_for
from flask_login import login_required

from portal.access import cluster_year_in_scope, current_principal
from portal.extensions import db
from portal.formatting import vn_today
from portal.forms import domain_message
from portal.meetings import bp
from portal.models import Cluster, EmulationYear, ReviewMeeting
from portal.models.meetings import MeetingStatus, Outcome
from portal.policy import ClusterYear, meeting_document_permission
from portal.services import DomainError
from portal.services.documents import achievement, annual, minutes, proposal
from portal.services.documents import facts as facts_svc
from portal.services.meetings import record

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _allowed(scope: ClusterYear, meeting: ReviewMeeting, document: str, unit_id: int | None = None) -> bool:
    closed = meeting.status == MeetingStatus.CLOSED
    return meeting_document_permission(current_principal(), document, scope, unit_id=unit_id, closed=closed)


def _facts(cluster_id: int, year: int, document: str, unit_id: int | None = None) -> facts_svc.Facts:
    """The meeting's facts for a user allowed this document (else 404 / 403)."""
    _cluster, _found, scope = cluster_year_in_scope(cluster_id, year)
    meeting = record.find(db.session, scope)
    if meeting is None:
        abort(404)
    if not _allowed(scope, meeting, document, unit_id):
        abort(403)
    config = current_app.config
    settings = facts_svc.Settings(
        config["PROVINCE_NAME"], dict(config["DOCUMENT_NUMBERS"]), config["AWARD_FORMS"], vn_today()
    )
    return facts_svc.read(db.session, meeting, settings)


def _send(build, facts: facts_svc.Facts, name: str):
    """The .docx as an attachment, or the refusal shown on the meeting page."""
    try:
        data = build()
    except DomainError as refused:
        flash(domain_message(refused), "warning")
        return redirect(url_for("meetings.show", cluster_id=facts.cluster.id, year=facts.year), 303)
    response = Response(data, mimetype=DOCX)
    filename = f"{name}-{facts.cluster.code}-{facts.year}.docx"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/<int:cluster_id>/<int:year>/documents/minutes.docx")
@login_required
def minutes_docx(cluster_id: int, year: int):
    """Biên bản họp bình xét thi đua."""
    facts = _facts(cluster_id, year, "minutes")
    return _send(lambda: minutes.minutes_docx(facts), facts, "bien-ban-hop-binh-xet")


@bp.get("/<int:cluster_id>/<int:year>/documents/proposal.docx")
@login_required
def proposal_docx(cluster_id: int, year: int):
    """Tờ trình đề nghị khen thưởng (Mẫu 01), with the ranked table and the minutes."""
    facts = _facts(cluster_id, year, "proposal")
    return _send(lambda: proposal.proposal_docx(facts), facts, "to-trinh-de-nghi-khen-thuong")


@bp.get("/<int:cluster_id>/<int:year>/documents/annual-report.docx")
@login_required
def annual_docx(cluster_id: int, year: int):
    """Báo cáo tổng kết công tác thi đua, khen thưởng của cụm, khối."""
    facts = _facts(cluster_id, year, "annual")
    return _send(lambda: annual.annual_docx(facts), facts, "bao-cao-tong-ket")


@bp.get("/<int:cluster_id>/<int:year>/documents/achievements/<int:unit_id>.docx")
@login_required
def achievement_docx(cluster_id: int, year: int, unit_id: int):
    """Báo cáo thành tích (Mẫu 02) of one unit the meeting proposed."""
    facts = _facts(cluster_id, year, "achievement", unit_id)
    return _send(lambda: achievement.achievement_docx(facts, unit_id), facts, f"bao-cao-thanh-tich-{unit_id}")


def links(cluster: Cluster, year: EmulationYear, scope: ClusterYear, meeting: ReviewMeeting, nominations) -> list:
    """(label, url) of each document the signed-in user may download from the meeting page."""
    found = []
    ids = {"cluster_id": cluster.id, "year": year.year}
    elected = [n for n in nominations if n.outcome == Outcome.ELECTED]
    if _allowed(scope, meeting, "minutes"):
        found.append(("minutes", None, url_for("meetings.minutes_docx", **ids)))
    if elected and _allowed(scope, meeting, "proposal"):
        found.append(("proposal", None, url_for("meetings.proposal_docx", **ids)))
    if _allowed(scope, meeting, "annual"):
        found.append(("annual", None, url_for("meetings.annual_docx", **ids)))
    units = {n.unit_id: n.unit for n in elected}
    for unit_id, unit in units.items():
        if _allowed(scope, meeting, "achievement", unit_id):
            found.append(("achievement", unit.name, url_for("meetings.achievement_docx", unit_id=unit_id, **ids)))
    return found
