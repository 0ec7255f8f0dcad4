"""Assessments (self-scores, peer reviews, verification, final), their scores, submission and results.

Reading and writing an assessment follow `policy.assessment_permission`, as on the
pages: another unit's draft does not exist for the user (404); a submitted one may
be read but not changed (403). Every write is one transaction: committed, or
rolled back with a problem document (409 conflict, 422 with the field's message).
"""

from __future__ import annotations

import json
from decimal import Decimal

from flask import jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from portal.access import (
    assessment_allows,
    cluster_year_in_scope,
    criterion_of,
    current_principal,
    facts_allow,
    load_assessment,
)
from portal.api import params, serialize
from portal.api.problems import CONFLICT, MALFORMED, ApiProblem, invalid
from portal.api.views import bp
from portal.extensions import db
from portal.models import Assessment, Criterion, Score, ScoringRound
from portal.models.scoring import ASSESSMENT_STATUSES, STAGES, Stage
from portal.policy import ClusterYear
from portal.routing import MAX_JSON_DEPTH, json_depth
from portal.services import DomainError
from portal.services.criteria import tree as treelib
from portal.services.platform import control_chars
from portal.services.platform.control_chars import any_control_characters
from portal.services.results import totals as results
from portal.services.scoring import assessments

NOTE_MAX = 4000
VALUE_MAX = 100


@bp.get("/clusters/<id:cluster_id>/years/<year:year>/assessments", endpoint="assessments")
def assessment_list(cluster_id: int, year: int):
    """The cluster-year's assessments the user may read; ?stage=self|peer|…, ?status=draft|submitted|returned."""
    errors: dict = {}
    stage = params.choice("stage", STAGES, errors)
    status = params.choice("status", ASSESSMENT_STATUSES, errors)
    page, per_page = params.paging(errors)
    params.check(errors)
    _cluster, _year, scope = cluster_year_in_scope(cluster_id, year)
    visible = _visible(scope, stage, status)
    return params.paginate_list(visible, page, per_page, lambda row: serialize.assessment(*row))


def _visible(scope: ClusterYear, stage: str | None, status: str | None) -> list[tuple[Assessment, ScoringRound]]:
    """The cluster-year's assessments (of this stage and status) the user may read, with their rounds, by id."""
    query = (
        select(Assessment, ScoringRound)
        .join(ScoringRound, ScoringRound.id == Assessment.round_id)
        .where(ScoringRound.year_id == scope.year_id, ScoringRound.cluster_id == scope.cluster_id)
        .order_by(Assessment.id)
    )
    if stage:
        query = query.where(Assessment.stage == stage)
    if status:
        query = query.where(Assessment.status == status)
    # a cluster-year holds a few hundred assessments at most: read them, let the policy choose, then cut a page
    return [(a, r) for a, r in db.session.execute(query).all() if assessment_allows(a, "view")]


def _paths(nodes: list[Criterion]) -> dict[int, str]:
    """Each criterion's full code (I.2.a) by id."""
    return treelib.build(nodes).paths()


@bp.get("/assessments/<id:assessment_id>")
def assessment(assessment_id: int):
    """One assessment with every leaf criterion's score (value, points, note, revision) and its totals."""
    found, _scope = load_assessment(assessment_id, "view")
    return jsonify(_detail(found))


def _detail(found: Assessment) -> dict:
    scoring_round = found.round
    nodes = list(db.session.scalars(select(Criterion).where(Criterion.set_id == found.criteria_set_id)))
    tree = treelib.build(nodes)
    paths = _paths(nodes)
    scores = {s.criterion_id: s for s in db.session.scalars(select(Score).where(Score.assessment_id == found.id))}
    totals = assessments.totals(db.session, found)
    may_edit = assessment_allows(found, "edit")
    return serialize.assessment(found, scoring_round) | {
        "deadline": serialize.when(found.effective_deadline),
        "returned_reason": found.returned_reason,
        "may_edit": may_edit,
        "totals": {
            "base": serialize.points(totals.base),
            "bonus": serialize.points(totals.bonus),
            "deduction": serialize.points(totals.deduction),
            "total": serialize.points(totals.total),
            "missing": totals.missing,
        },
        "scores": [serialize.score(leaf, paths[leaf.id], scores.get(leaf.id)) for leaf in tree.leaves()],
    }


def _json_body() -> dict:
    """The request's JSON object: 415 without a JSON content type, 400 when it does not parse."""
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        raise ApiProblem(415)

    def no_constants(name):
        raise ValueError(name)

    raw = request.get_data(cache=False) or b"null"
    if json_depth(raw) > MAX_JSON_DEPTH:  # json.loads recurses per level: deep enough, and it ends in a 500
        raise ApiProblem(400, f"JSON lồng nhau quá {MAX_JSON_DEPTH} cấp.", type_=MALFORMED)
    try:
        body = json.loads(raw, parse_float=Decimal, parse_constant=no_constants)
    except (ValueError, UnicodeDecodeError):
        raise ApiProblem(400, "Nội dung không phải JSON hợp lệ.", type_=MALFORMED) from None
    if not isinstance(body, dict):
        raise invalid({"body": "Nội dung phải là một đối tượng JSON."})
    refused = {str(key): control_chars.MESSAGE for key, value in body.items() if any_control_characters([key, value])}
    if refused:
        raise invalid(refused)
    return body


def _score_input(body: dict) -> tuple[str | Decimal | None, str, int | None]:
    """The value, note and revision of a score's JSON body; 422 naming every field that is wrong."""
    errors = {}
    unknown = sorted(set(body) - {"value", "note", "revision"})
    if unknown:
        errors[unknown[0]] = f"Trường không được hỗ trợ: {', '.join(unknown)}."
    value, note, revision = _value(body, errors), _note(body, errors), _revision(body, errors)
    if errors:
        raise invalid(errors)
    return value, note, revision


def _value(body: dict, errors: dict) -> str | Decimal | None:
    if "value" not in body:
        errors["value"] = "Thiếu trường “value” (số, chuỗi như “12,5”, hoặc null để xóa)."
    value = body.get("value")
    if isinstance(value, bool) or not (value is None or isinstance(value, (str, int, Decimal))):
        errors["value"] = "“value” phải là số, chuỗi (ví dụ “12,5”) hoặc null."
    elif isinstance(value, str) and len(value) > VALUE_MAX:
        errors["value"] = f"“value” tối đa {VALUE_MAX} ký tự."
    return Decimal(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _note(body: dict, errors: dict) -> str:
    note = body.get("note", "")
    if note is None:
        note = ""
    if not isinstance(note, str) or len(note) > NOTE_MAX:
        errors["note"] = f"“note” phải là chuỗi, tối đa {NOTE_MAX} ký tự."
    return note


def _revision(body: dict, errors: dict) -> int | None:
    revision = body.get("revision")
    if isinstance(revision, Decimal) and revision.is_finite() and revision == revision.to_integral_value():
        revision = int(revision)  # 3.0 is the integer 3 in JSON
    if revision is not None and (isinstance(revision, bool) or not isinstance(revision, int) or revision < 1):
        errors["revision"] = "“revision” phải là số nguyên từ 1, hoặc null."
    return revision


def _current(assessment_id: int, criterion_id: int) -> dict:
    """What is saved now, for the 409 answer (read after the rollback)."""
    row = db.session.scalar(
        select(Score).where(Score.assessment_id == assessment_id, Score.criterion_id == criterion_id)
    )
    return {
        "value": serialize.number(row.value) if row else None,
        "points": serialize.points(row.points) if row else None,
        "note": row.note if row else "",
        "revision": row.revision if row else None,
    }


@bp.put("/assessments/<id:assessment_id>/scores/<id:criterion_id>")
def save_score(assessment_id: int, criterion_id: int):
    """Save one criterion's value and note, naming the revision it was made on (409 if it moved since)."""
    found, _scope = load_assessment(assessment_id, "edit")
    criterion = criterion_of(found, criterion_id)
    value, note, revision = _score_input(_json_body())
    user_id = current_principal().user_id
    try:
        score = assessments.save_score(
            db.session, found, criterion, value, note, expected_revision=revision, user_id=user_id
        )
        db.session.commit()
    except assessments.ConflictError as error:
        db.session.rollback()
        raise ApiProblem(409, error.message, type_=CONFLICT, current=_current(found.id, criterion.id)) from None
    except (StaleDataError, IntegrityError):  # saved by someone else between our read and our write
        db.session.rollback()
        raise ApiProblem(409, type_=CONFLICT, current=_current(assessment_id, criterion_id)) from None
    except DomainError as error:
        raise invalid({error.field or "value": error.message}, error.message) from None
    nodes = db.session.scalars(select(Criterion).where(Criterion.set_id == criterion.set_id)).all()
    return jsonify(serialize.score(criterion, _paths(list(nodes))[criterion.id], score))


@bp.post("/assessments/<id:assessment_id>/submit")
def submit(assessment_id: int):
    """Hand the assessment in: every criterion must have a value; it is locked afterwards."""
    found, _scope = load_assessment(assessment_id, "edit")
    try:
        assessments.submit(db.session, found, current_principal().user_id)
        db.session.commit()
    except DomainError as error:
        raise invalid({error.field or "assessment": error.message}, error.message) from None
    return jsonify(_detail(found))


@bp.get("/clusters/<id:cluster_id>/years/<year:year>/results")
def cluster_results(cluster_id: int, year: int):
    """Totals per assessment of a stage (default self), best first: base, bonus, deduction, total, submitted."""
    errors: dict = {}
    stage = params.choice("stage", STAGES, errors) or Stage.SELF
    page, per_page = params.paging(errors)
    params.check(errors)
    _cluster, _year, scope = cluster_year_in_scope(cluster_id, year)
    rows = [row for row in results.cluster_totals(db.session, scope, stage) if facts_allow(row.facts, "view")]
    return params.paginate_list(rows, page, per_page, _result)


def _result(row: results.AssessmentTotals) -> dict:
    return {
        "assessment_id": row.assessment_id,
        "round_id": row.round_id,
        "subject_unit_id": row.subject_unit_id,
        "subject_unit_name": row.subject_name,
        "author_unit_id": row.author_unit_id,
        "stage": row.stage,
        "status": row.status,
        "submitted": row.submitted,
        "submitted_at": serialize.when(row.submitted_at),
        "base": serialize.points(row.base),
        "bonus": serialize.points(row.bonus),
        "deduction": serialize.points(row.deduction),
        "total": serialize.points(row.total),
    }
