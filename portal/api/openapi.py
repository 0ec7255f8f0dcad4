"""The OpenAPI 3.1 document of /api/v1, as Python data.

It describes every route of the `api` blueprint, no more and no less
(tests/api/test_openapi.py compares it with the url_map), and CI runs schemathesis
against the running app with it (tests/api/test_schemathesis.py). When a route or
a field changes, change it here in the same commit.
"""

from __future__ import annotations

from copy import deepcopy

from portal.api.params import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE
from portal.models.criteria import CRITERION_KINDS, METHODS, SET_STATUSES
from portal.models.org import CLUSTER_KINDS, SECTORS
from portal.models.results import BAND_CODES, BASES, FLOOR_LEVELS, NON_PARTICIPATION, SCALE_MODES, TIE_BREAKERS
from portal.models.scoring import ASSESSMENT_STATUSES, ROUND_KINDS, STAGES
from portal.models.users import USER_KINDS
from portal.models.years import POSITION_ROLES
from portal.services.results.inputs import BELOW_BANDS

JSON = "application/json"
PROBLEM = "application/problem+json"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    if "$ref" in schema:
        return {"oneOf": [schema, {"type": "null"}]}
    kind = schema["type"]
    return {**schema, "type": [kind, "null"] if isinstance(kind, str) else [*kind, "null"]}


def obj(properties: dict, description: str | None = None) -> dict:
    """An object with exactly these properties, all of them always present."""
    schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
ID = {"type": "integer", "minimum": 1}
BOOLEAN = {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time", "description": "UTC, ISO 8601 (…Z)"}
DECIMAL = {
    "type": "string",
    "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
    "description": 'An exact decimal number written as a string (JSON numbers would lose precision): "12.5".',
    "examples": ["12.5"],
}
POINTS = {
    "type": "string",
    "pattern": r"^-?[0-9]+\.[0-9]{2}$",
    "description": 'Points as an exact decimal string with two decimals: "12.50".',
    "examples": ["12.50"],
}


def enum(values) -> dict:
    return {"type": "string", "enum": list(values)}


def page_of(item: str) -> dict:
    return obj(
        {
            "items": {"type": "array", "items": ref(item)},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "total": {"type": "integer", "minimum": 0},
        },
        f"One page of {item} items.",
    )


def ranking_schemas() -> dict:
    """The engine's result (services/results/output.py: ClusterResult.to_dict()), field for field."""
    share = {**DECIMAL, "description": "A share (0.9 = 90 %), to 1/10,000, rounded down."}
    figure = nullable(DECIMAL)
    spread = obj(
        {
            "count": INTEGER,
            "mean": DECIMAL,
            "low": nullable(DECIMAL),
            "high": nullable(DECIMAL),
            "std_dev": nullable(DECIMAL),
        },
        "Points given by several reviewers: number, mean, lowest, highest, population standard deviation. "
        "A leaf's peer spread without ?detail=1 has null for the figures its basis did not need (the range is "
        "read for the trimmed mean and for a unit that withheld its reviews; the standard deviation only with detail).",
    )
    bands = enum((*BAND_CODES, BELOW_BANDS))
    sources = ("final", "verified", "self", "none", *BASES, "lowest_basis", "not_applicable")
    return {
        "RankingSettings": obj(
            {
                "basis": enum(BASES),
                "trim_min_reviewers": {"type": "integer", "minimum": 3},
                "self_weight": share,
                "scale_mode": enum(SCALE_MODES),
                "tie_rules": {
                    "type": "array",
                    "items": obj({"breaker": enum(TIE_BREAKERS), "section_id": nullable(ID)}),
                },
                "non_participation": enum(NON_PARTICIPATION),
                "non_participation_points": DECIMAL,
                "floor_level": enum(FLOOR_LEVELS),
                "bands": {
                    "type": "array",
                    "items": obj(
                        {"code": enum(BAND_CODES), "label": STRING, "min_total_share": share, "min_floor_share": share}
                    ),
                    "description": "Highest first.",
                },
                "reviewer_bias_share": share,
                "self_excess_share": share,
                "mutual_share": share,
            },
            "The settings the results were computed with (the head's choices and the year's bands).",
        ),
        "Spread": spread,
        "LeafResult": obj(
            {
                "criterion_id": ID,
                "code": STRING,
                "kind": enum(CRITERION_KINDS),
                "max_points": DECIMAL,
                "applicable": BOOLEAN,
                "points": DECIMAL,
                "source": enum(sources),
                "self_points": figure,
                "verified": figure,
                "explanation": figure,
                "final": figure,
                "agreed": figure,
                "verified_reason": STRING,
                "final_reason": STRING,
                "peer": nullable(ref("Spread")),
            },
            "One leaf of one unit: the points that count, where they came from (source), every stage's points.",
        ),
        "SectionResult": obj(
            {
                "section_id": ID,
                "code": STRING,
                "kind": enum(CRITERION_KINDS),
                "points": DECIMAL,
                "maximum": DECIMAL,
                "average": DECIMAL,
            },
            "A section's points (before caps) against its applicable maximum and the cluster's average.",
        ),
        "BandGap": obj(
            {
                "band": enum(BAND_CODES),
                "total_share": share,
                "min_total_share": share,
                "total_short": BOOLEAN,
                "criterion_id": nullable(ID),
                "criterion_code": STRING,
                "criterion_share": nullable(share),
                "min_floor_share": share,
            },
            "What kept the unit out of the band just above its own.",
        ),
        "Stability": obj(
            {"best": ID, "worst": ID, "decided_by_one_reviewer": BOOLEAN},
            "The best and worst rank when any one reviewer's scores are left out.",
        ),
        "Flag": obj(
            {
                "kind": enum(("mutual_high", "reviewer_harsh", "reviewer_lenient", "self_excess")),
                "unit_id": ID,
                "other_unit_id": nullable(ID),
                "figures": {
                    "type": "array",
                    "items": obj({"name": STRING, "value": {"oneOf": [DECIMAL, INTEGER]}}),
                },
            },
            "Something the meeting should look at, with the figures that raised it.",
        ),
        "UnitResult": obj(
            {
                "unit_id": ID,
                "name": STRING,
                "rank": ID,
                "tie_unresolved": BOOLEAN,
                "eligible": BOOLEAN,
                "ineligible_reason": STRING,
                "base": DECIMAL,
                "bonus": DECIMAL,
                "deduction": DECIMAL,
                "penalty": DECIMAL,
                "raw_total": DECIMAL,
                "applicable_maximum": DECIMAL,
                "compared_base": DECIMAL,
                "compared_total": DECIMAL,
                "total_share": share,
                "band": bands,
                "band_gap": nullable(ref("BandGap")),
                "non_participation": {"type": "string", "enum": ["", *NON_PARTICIPATION]},
                "withheld_reviews": {"type": "integer", "minimum": 0},
                "sections": {"type": "array", "items": ref("SectionResult")},
                "leaves": {"type": "array", "items": ref("LeafResult")},
                "reviewers": nullable(ref("Spread")),
                "stability": nullable(ref("Stability")),
            },
            "One unit's place: rank (1, 2, 2, 4), totals raw and compared, band, eligibility, explanations.",
        ),
        "Ranking": obj(
            {
                "cluster_id": ID,
                "year_id": ID,
                "criteria_set_id": ID,
                "settings": ref("RankingSettings"),
                "detail": {"type": "boolean", "description": "Reviewers' spread, bias and mutual flags computed"},
                "stability": {"type": "boolean", "description": "Rank stability computed (detail and a peer basis)"},
                "target_total": DECIMAL,
                "scored_maximum": DECIMAL,
                "leaders": {"type": "array", "items": ID, "description": "Units ranked 1 (several: a shared first)"},
                "units": {"type": "array", "items": ref("UnitResult")},
                "flags": {"type": "array", "items": ref("Flag")},
            },
            "The cluster-year's results (docs/reference/results.md): units in rank, then name order.",
        ),
    }


SCHEMAS = {
    "Problem": {
        "type": "object",
        "description": "An error (RFC 9457). `title` and `detail` are in Vietnamese.",
        "properties": {
            "type": STRING,
            "title": STRING,
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": STRING,
        },
        "required": ["type", "title", "status", "detail"],
        "additionalProperties": False,
    },
    "ValidationProblem": {
        "type": "object",
        "description": "422: `errors` maps each wrong field or parameter to its Vietnamese message.",
        "properties": {
            "type": STRING,
            "title": STRING,
            "status": {"const": 422},
            "detail": STRING,
            "errors": {"type": "object", "additionalProperties": STRING},
        },
        "required": ["type", "title", "status", "detail", "errors"],
        "additionalProperties": False,
    },
    "ConflictProblem": {
        "type": "object",
        "description": "409: someone saved the criterion after the revision you sent; `current` is what is saved now.",
        "properties": {
            "type": STRING,
            "title": STRING,
            "status": {"const": 409},
            "detail": STRING,
            "current": obj(
                {
                    "value": nullable(DECIMAL),
                    "points": nullable(POINTS),
                    "note": STRING,
                    "revision": nullable({"type": "integer", "minimum": 1}),
                }
            ),
        },
        "required": ["type", "title", "status", "detail", "current"],
        "additionalProperties": False,
    },
    "Me": obj(
        {
            "user": obj(
                {
                    "id": ID,
                    "username": STRING,
                    "full_name": STRING,
                    "kind": enum(USER_KINDS),
                    "unit_id": nullable(ID),
                    "council_member_id": nullable(ID),
                }
            ),
            "token": obj({"id": ID, "name": STRING, "prefix": STRING, "expires_at": nullable(DATETIME)}),
        },
        "The user the token acts for, and the token.",
    ),
    "Year": obj({"id": ID, "year": {"type": "integer", "minimum": 2000, "maximum": 2100}, "is_current": BOOLEAN}),
    "Unit": obj(
        {
            "id": ID,
            "name": STRING,
            "short_name": STRING,
            "sector": enum(SECTORS),
            "address": STRING,
            "active": BOOLEAN,
            "retired_on": nullable(DATE),
            "merged_into_id": nullable(ID),
        },
        "A member unit (đơn vị thành viên).",
    ),
    "Cluster": obj(
        {
            "id": ID,
            "kind": enum(CLUSTER_KINDS),
            "code": STRING,
            "name": STRING,
            "description": STRING,
            "active": BOOLEAN,
        },
        "An emulation cluster (cụm, kind=cluster) or block (khối, kind=block).",
    ),
    "Term": obj(
        {
            "decision_number": STRING,
            "decision_date": nullable(DATE),
            "decision_issuer": STRING,
            "proposed_by_rotation": BOOLEAN,
            "deputy_may_lead": BOOLEAN,
            "head_unit_id": nullable(ID),
            "deputy_unit_ids": {"type": "array", "items": ID},
            "overseer": nullable(obj({"id": ID, "full_name": STRING, "position": STRING})),
        },
        "The cluster's leadership that year, set by a numbered decision.",
    ),
    "Member": obj(
        {
            "membership_id": ID,
            "unit_id": ID,
            "unit_name": STRING,
            "rotation_order": INTEGER,
            "role": enum((*POSITION_ROLES, "member")),
        }
    ),
    "ClusterYear": obj(
        {
            "cluster": ref("Cluster"),
            "year": INTEGER,
            "term": nullable(ref("Term")),
            "members": {"type": "array", "items": ref("Member")},
        },
        "A cluster in one year: its members in rotation order and its term.",
    ),
    "CriteriaSetSummary": obj(
        {
            "id": ID,
            "cluster_id": nullable(ID),
            "year": nullable(INTEGER),
            "version": {"type": "integer", "minimum": 1},
            "title": STRING,
            "status": enum(SET_STATUSES),
            "target_total": POINTS,
            "score_step": POINTS,
            "deduction_capped": BOOLEAN,
            "version_reason": STRING,
            "published_at": nullable(DATETIME),
            "locked_at": nullable(DATETIME),
        },
        "A version of a cluster-year's criteria table (cluster_id and year null: a province template).",
    ),
    "Criterion": obj(
        {
            "id": ID,
            "code": STRING,
            "title": STRING,
            "guidance": STRING,
            "kind": enum(CRITERION_KINDS),
            "method": nullable(enum(METHODS)),
            "max_points": POINTS,
            "points_each": nullable(POINTS),
            "measure_unit": STRING,
            "evidence_required": BOOLEAN,
            "children": {"type": "array", "items": ref("Criterion")},
        },
        "A section, criterion or sub-criterion. Leaves have a method; a parent's max_points is its children's sum.",
    ),
    "AssessmentSummary": obj(
        {
            "id": ID,
            "round_id": ID,
            "round_kind": enum(ROUND_KINDS),
            "cluster_id": ID,
            "criteria_set_id": ID,
            "subject_unit_id": ID,
            "author_unit_id": ID,
            "stage": enum(STAGES),
            "status": enum(ASSESSMENT_STATUSES),
            "submitted_at": nullable(DATETIME),
        },
        "One author's scoring of one unit at one stage (self, peer, verified, explanation, final).",
    ),
    "Score": obj(
        {
            "criterion_id": ID,
            "code": {"type": "string", "description": "The full code, e.g. I.2.a"},
            "title": STRING,
            "kind": enum(CRITERION_KINDS),
            "method": enum(METHODS),
            "max_points": nullable(POINTS),
            "value": nullable(DECIMAL),
            "points": nullable(POINTS),
            "note": STRING,
            "revision": nullable({"type": "integer", "minimum": 1}),
            "updated_at": nullable(DATETIME),
        },
        "One leaf criterion of an assessment; value, points and revision are null until it is scored.",
    ),
    "Totals": obj(
        {
            "base": POINTS,
            "bonus": POINTS,
            "deduction": POINTS,
            "total": POINTS,
            "missing": {"type": "array", "items": STRING, "description": "Codes of leaves not scored yet"},
        },
        "base + bonus (capped) − deduction (capped when the table says so).",
    ),
    "Result": obj(
        {
            "assessment_id": ID,
            "round_id": ID,
            "subject_unit_id": ID,
            "subject_unit_name": STRING,
            "author_unit_id": ID,
            "stage": enum(STAGES),
            "status": enum(ASSESSMENT_STATUSES),
            "submitted": BOOLEAN,
            "submitted_at": nullable(DATETIME),
            "base": POINTS,
            "bonus": POINTS,
            "deduction": POINTS,
            "total": POINTS,
        }
    ),
    "ScoreInput": {
        "type": "object",
        "description": "A criterion's value as the unit reports it: points (direct), the actual result "
        "(quantitative), 1/0 or Đạt/Không đạt (pass/fail), a count (per occurrence). A string is read the "
        'Vietnamese way ("12,5", "1.000"); null clears it. `revision`: the revision you read (null for a '
        "criterion not scored yet, or to overwrite without checking).",
        "properties": {
            "value": {"oneOf": [{"type": "string", "maxLength": 100}, {"type": "number"}, {"type": "null"}]},
            "note": {"type": ["string", "null"], "maxLength": 4000},
            "revision": {"type": ["integer", "null"], "minimum": 1},
        },
        "required": ["value"],
        "additionalProperties": False,
    },
}
SCHEMAS["CriteriaSet"] = {
    **deepcopy(SCHEMAS["CriteriaSetSummary"]),
    "description": "A criteria table with its tree; the totals are of the maxima.",
}
SCHEMAS["CriteriaSet"]["properties"] |= {
    "base_total": POINTS,
    "bonus_cap": POINTS,
    "deduction_cap": POINTS,
    "criteria": {"type": "array", "items": ref("Criterion")},
}
SCHEMAS["CriteriaSet"]["required"] = list(SCHEMAS["CriteriaSet"]["properties"])
SCHEMAS["Assessment"] = {**deepcopy(SCHEMAS["AssessmentSummary"]), "description": "An assessment with its scores."}
SCHEMAS["Assessment"]["properties"] |= {
    "deadline": nullable(DATETIME),
    "returned_reason": STRING,
    "may_edit": {"type": "boolean", "description": "Whether the token's user writes this assessment"},
    "totals": ref("Totals"),
    "scores": {"type": "array", "items": ref("Score")},
}
SCHEMAS["Assessment"]["required"] = list(SCHEMAS["Assessment"]["properties"])
SCHEMAS |= ranking_schemas()
for _item in ("Year", "Unit", "Cluster", "CriteriaSetSummary", "AssessmentSummary", "Result"):
    SCHEMAS[f"{_item}Page"] = page_of(_item)


def _problem(description: str, schema: str = "Problem", headers: dict | None = None) -> dict:
    response = {"description": description, "content": {PROBLEM: {"schema": ref(schema)}}}
    if headers:
        response["headers"] = headers
    return response


RESPONSES = {
    "BadRequest": _problem(
        "The query string holds a control character (a NUL byte…), or the body is not valid JSON or nests deeper "
        "than 32 levels."
    ),
    "UriTooLong": _problem("The query string is longer than 4 KB."),
    "Unauthorized": _problem(
        "No bearer token, or it is unknown, revoked or expired, or its user is locked.",
        headers={"WWW-Authenticate": {"schema": STRING, "required": True}},
    ),
    "Forbidden": _problem("Inside the user's scope but not allowed (e.g. another unit's submitted assessment)."),
    "NotFound": _problem("Does not exist, or is outside the user's scope (another cluster, another unit's draft)."),
    "Conflict": _problem("Saved by someone else after the revision sent.", "ConflictProblem"),
    "UnsupportedMediaType": _problem("The body must be sent as application/json."),
    "Unprocessable": _problem("A parameter or field is wrong; see `errors`.", "ValidationProblem"),
    "ServerError": _problem("An unexpected error; nothing was saved."),
}

PARAMETERS = {
    "page": {
        "name": "page",
        "in": "query",
        "description": "Page number, from 1.",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
    },
    "per_page": {
        "name": "per_page",
        "in": "query",
        "description": f"Items per page, at most {MAX_PER_PAGE}.",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
    },
    "cluster_id": {"name": "cluster_id", "in": "path", "required": True, "schema": ID},
    "year": {
        "name": "year",
        "in": "path",
        "required": True,
        "description": "The emulation year, e.g. 2026.",
        "schema": {"type": "integer", "minimum": 2000, "maximum": 2100},
    },
    "unit_id": {"name": "unit_id", "in": "path", "required": True, "schema": ID},
    "set_id": {"name": "set_id", "in": "path", "required": True, "schema": ID},
    "assessment_id": {"name": "assessment_id", "in": "path", "required": True, "schema": ID},
    "criterion_id": {"name": "criterion_id", "in": "path", "required": True, "schema": ID},
}
LINK_HEADER = {
    "Link": {
        "description": 'RFC 8288 links to the first, prev, next and last pages: <…?page=2&per_page=50>; rel="next"',
        "schema": STRING,
        "required": True,
    }
}


def param(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def error(name: str) -> dict:
    return {"$ref": f"#/components/responses/{name}"}


def operation(
    operation_id: str,
    summary: str,
    schema: str,
    *,
    errors: tuple[int, ...] = (),
    parameters: tuple = (),
    body: str | None = None,
    page: bool = False,
    tag: str,
    links: dict | None = None,
) -> dict:
    codes = {400: "BadRequest", 403: "Forbidden", 404: "NotFound", 409: "Conflict", 414: "UriTooLong"}
    codes |= {415: "UnsupportedMediaType", 422: "Unprocessable"}
    ok = {"description": "OK", "content": {JSON: {"schema": ref(schema)}}}
    if page:
        ok["headers"] = LINK_HEADER
        parameters = (*parameters, param("page"), param("per_page"))
    if links:
        ok["links"] = links
    if page and 422 not in errors:
        errors = (*errors, 422)
    responses = {"200": ok, "401": error("Unauthorized")}
    # every operation: a query string with control characters (400) or over 4 KB (414), refused before any view
    responses |= {str(code): error(codes[code]) for code in sorted({*errors, 400, 414})}
    responses["500"] = error("ServerError")
    result = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "parameters": list(parameters),
        "responses": responses,
    }
    if body:
        result["requestBody"] = {"required": True, "content": {JSON: {"schema": ref(body)}}}
    return result


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "description": description, "schema": schema}


CLUSTER_YEAR = (param("cluster_id"), param("year"))
STAGE_FILTER = _query("stage", enum(STAGES), "Only this stage (self, peer, verified, explanation, final).")


def _link(operation_id: str, **parameters: str) -> dict:
    """An OpenAPI link: the operation a response leads to, with where each of its parameters comes from."""
    return {"operationId": operation_id, "parameters": parameters}


def _meta_paths() -> dict:
    return {
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document",
                "tags": ["meta"],
                "security": [],
                "responses": {
                    "200": {"description": "OpenAPI 3.1", "content": {JSON: {"schema": {"type": "object"}}}},
                },
            }
        },
        "/me": {"get": operation("getMe", "Who the token acts for", "Me", tag="meta")},
    }


def _org_paths() -> dict:
    return {
        "/years": {"get": operation("listYears", "Emulation years, newest first", "YearPage", page=True, tag="org")},
        "/units": {
            "get": operation(
                "listUnits",
                "Member units the user sees (the secretariat: all)",
                "UnitPage",
                page=True,
                parameters=(
                    _query(
                        "year",
                        {"type": "integer", "minimum": 2000, "maximum": 2100},
                        "Only units that are members of a cluster in this year.",
                    ),
                ),
                tag="org",
            )
        },
        "/units/{unit_id}": {
            "get": operation("getUnit", "One unit", "Unit", errors=(404,), parameters=(param("unit_id"),), tag="org")
        },
        "/clusters": {
            "get": operation(
                "listClusters",
                "Clusters and blocks the user sees",
                "ClusterPage",
                page=True,
                parameters=(_query("kind", enum(CLUSTER_KINDS), "cluster (cụm) or block (khối)."),),
                tag="org",
                links={"GetCluster": _link("getCluster", cluster_id="$response.body#/items/0/id")},
            )
        },
        "/clusters/{cluster_id}": {
            "get": operation(
                "getCluster",
                "One cluster or block",
                "Cluster",
                errors=(404,),
                parameters=(param("cluster_id"),),
                tag="org",
            )
        },
        "/clusters/{cluster_id}/years/{year}": {
            "get": operation(
                "getClusterYear",
                "A cluster's year: members, head, deputies, overseer, decision",
                "ClusterYear",
                errors=(404,),
                parameters=CLUSTER_YEAR,
                tag="org",
            )
        },
    }


def _criteria_paths() -> dict:
    return {
        "/clusters/{cluster_id}/years/{year}/criteria-sets": {
            "get": operation(
                "listCriteriaSets",
                "Versions of the year's criteria table (drafts only for the head, deputies, overseer, secretariat)",
                "CriteriaSetSummaryPage",
                errors=(404,),
                page=True,
                parameters=CLUSTER_YEAR,
                tag="criteria",
                links={"GetCriteriaSet": _link("getCriteriaSet", set_id="$response.body#/items/0/id")},
            )
        },
        "/criteria-sets/{set_id}": {
            "get": operation(
                "getCriteriaSet",
                "A criteria table with its tree",
                "CriteriaSet",
                errors=(404,),
                parameters=(param("set_id"),),
                tag="criteria",
            )
        },
    }


def _assessment_read_paths() -> dict:
    first = "$response.body#/items/0/id"
    return {
        "/clusters/{cluster_id}/years/{year}/assessments": {
            "get": operation(
                "listAssessments",
                "Assessments the user may read (own drafts; others once submitted; peer reviews per the round)",
                "AssessmentSummaryPage",
                errors=(404,),
                page=True,
                parameters=(
                    *CLUSTER_YEAR,
                    STAGE_FILTER,
                    _query("status", enum(ASSESSMENT_STATUSES), "Only this status."),
                ),
                tag="scoring",
                links={
                    "GetAssessment": _link("getAssessment", assessment_id=first),
                    "SubmitAssessment": _link("submitAssessment", assessment_id=first),
                },
            )
        },
        "/assessments/{assessment_id}": {
            "get": operation(
                "getAssessment",
                "One assessment with its scores and totals",
                "Assessment",
                errors=(404,),
                parameters=(param("assessment_id"),),
                tag="scoring",
                links={
                    "SaveFirstScore": _link(
                        "saveScore",
                        assessment_id="$request.path.assessment_id",
                        criterion_id="$response.body#/scores/0/criterion_id",
                    ),
                    "Submit": _link("submitAssessment", assessment_id="$request.path.assessment_id"),
                },
            )
        },
    }


def _assessment_write_paths() -> dict:
    return {
        "/assessments/{assessment_id}/scores/{criterion_id}": {
            "put": operation(
                "saveScore",
                "Save one criterion's value and note (optimistic locking with `revision`)",
                "Score",
                errors=(400, 403, 404, 409, 415, 422),
                parameters=(param("assessment_id"), param("criterion_id")),
                body="ScoreInput",
                tag="scoring",
            )
        },
        "/assessments/{assessment_id}/submit": {
            "post": operation(
                "submitAssessment",
                "Hand the assessment in (every criterion scored); it is locked afterwards",
                "Assessment",
                errors=(403, 404, 422),
                parameters=(param("assessment_id"),),
                tag="scoring",
            )
        },
    }


def _result_paths() -> dict:
    return {
        "/clusters/{cluster_id}/years/{year}/results": {
            "get": operation(
                "listResults",
                "Totals per assessment of a stage, best first (drafts only where the user may read them)",
                "ResultPage",
                errors=(404,),
                page=True,
                parameters=(*CLUSTER_YEAR, {**STAGE_FILTER, "description": "The stage; self by default."}),
                tag="scoring",
                links={"GetAssessment": _link("getAssessment", assessment_id="$response.body#/items/0/assessment_id")},
            )
        },
        "/clusters/{cluster_id}/years/{year}/ranking": {
            "get": operation(
                "getRanking",
                "The results: ranking, compared totals, bands with gaps, flags, explanations; ?detail=1 adds the "
                "reviewers' spread, bias and mutual flags, each leaf's peer range and standard deviation, and "
                "rank stability",
                "Ranking",
                errors=(403, 404, 422),
                parameters=(
                    *CLUSTER_YEAR,
                    _query("detail", enum(("0", "1")), "1: read each reviewer's points (0 by default)."),
                ),
                tag="scoring",
            )
        },
    }


def paths() -> dict:
    """Every operation of the API, by path, in the order of the tags."""
    return {
        **_meta_paths(),
        **_org_paths(),
        **_criteria_paths(),
        **_assessment_read_paths(),
        **_assessment_write_paths(),
        **_result_paths(),
    }


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Cổng thi đua Cụm, Khối — API",
            "version": "1.0.0",
            "description": (
                "Read the organisation (units, clusters and blocks, years, memberships, terms), criteria tables, "
                "assessments and results; save scores and submit assessments. Authenticate with a personal API "
                "token (Khóa API, created on /account/tokens): `Authorization: Bearer tdk_…`. The token acts with "
                "exactly its user's permissions: outside the user's scope 404, inside it but not allowed 403. "
                "Errors are application/problem+json (RFC 9457). Lists are paged with ?page=&per_page= (at most "
                f'{MAX_PER_PAGE}) and a Link header. Decimal numbers are strings ("12.50"); dates ISO 8601.'
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": name} for name in ("meta", "org", "criteria", "scoring")],
        "paths": paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "tdk_ followed by 43 URL-safe characters",
                }
            },
            "schemas": deepcopy(SCHEMAS),
            "responses": deepcopy(RESPONSES),
            "parameters": deepcopy(PARAMETERS),
        },
    }
