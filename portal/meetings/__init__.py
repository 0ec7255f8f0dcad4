"""The year-end meeting of a cluster-year (views: record, attendance, approved table, votes, nominations) and
the secretariat's award quotas and vote rules (quota_views), the online secret ballot (ballot_views),
the meeting's Word documents (document_views)."""

from flask import Blueprint

bp = Blueprint("meetings", __name__, url_prefix="/meetings")


@bp.before_request
def default_award_types() -> None:
    """The province's default award types exist before any meeting page reads them (their own transaction),
    so that the ids a page shows are those a form posts back."""
    from portal.extensions import db
    from portal.services.meetings import awards

    if awards.ensure_award_types(db.session):
        db.session.commit()


from portal.meetings import ballot_views, document_views, quota_views, views  # noqa: E402,F401  (register the routes on bp)
