"""A cluster-year's results as the engine computes them: ranking, compared totals, bands, flags, stability.

`/results` (assessments.py) lists each assessment's totals at one stage; `/ranking` gives the
numbers the year-end meeting approves: `read.read_cluster` (one aggregate read) then
`engine.compute`, answered as `ClusterResult.to_dict()`. Who may read it is
`policy.sees_results`, as on the results page: outside the user's scope 404, a member before
the rounds feeding the basis are closed 403.
"""

from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from portal.access import cluster_year_in_scope, current_principal
from portal.api import params
from portal.api.problems import ApiProblem
from portal.api.views import bp
from portal.extensions import db
from portal.models import ScoringRound
from portal.models.results import Basis
from portal.policy import sees_results
from portal.services import DomainError
from portal.services.results import engine, read
from portal.services.results import settings as result_settings

NOT_YET = "Kết quả của cụm, khối chỉ công bố cho đơn vị thành viên khi các vòng chấm tạo nên kết quả đã đóng."
DETAIL = ("0", "1")


@bp.get("/clusters/<id:cluster_id>/years/<year:year>/ranking")
def ranking(cluster_id: int, year: int):
    """The cluster-year's ranking, bands, flags and explanations; ?detail=1 adds the reviewers' figures."""
    errors: dict = {}
    detail = params.choice("detail", DETAIL, errors) == "1"
    params.check(errors)
    _cluster, _year, scope = cluster_year_in_scope(cluster_id, year)
    chosen = result_settings.find(db.session, scope)
    basis = Basis(chosen.basis) if chosen else Basis.AGREED
    rounds = db.session.execute(
        select(ScoringRound.kind, ScoringRound.status).where(
            ScoringRound.cluster_id == scope.cluster_id, ScoringRound.year_id == scope.year_id
        )
    )
    if not sees_results(current_principal(), scope, basis=basis, rounds=dict(rounds.tuples().all())):
        raise ApiProblem(403, NOT_YET)
    try:
        # the median needs each reviewer's points whatever was asked
        cluster = read.read_cluster(db.session, scope.cluster_id, scope.year_id, detail=detail or basis == Basis.MEDIAN)
    except DomainError as error:
        raise ApiProblem(404, error.message) from None
    return jsonify(engine.compute(cluster).to_dict())
