"""Errors of the JSON API as `application/problem+json` (RFC 9457).

Every answer under /api/v1 that is an error has this shape: `type`, `title`,
`status`, `detail`, plus `errors` ({field: message}) for a 422 and the current
state of the row for a 409. Errors raised inside an API view are handled by the
blueprint; errors Flask raises before any view is chosen (unknown path, method not
allowed, CSRF on an unknown path) are rewritten by `rewrite_page_errors`.
"""

from __future__ import annotations

import json

from flask import Response, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.errors import MESSAGES

PROBLEM_JSON = "application/problem+json"
PREFIX = "/api/v1"
VALIDATION = "urn:thidua:problem:validation"
CONFLICT = "urn:thidua:problem:conflict"
MALFORMED = "urn:thidua:problem:malformed-json"

API_MESSAGES = {
    **MESSAGES,
    401: (
        _l("Chưa xác thực"),
        _l(
            "Thiếu khóa API hoặc khóa không hợp lệ, đã bị thu hồi hay đã hết hạn. "
            "Gửi tiêu đề Authorization: Bearer <khóa>."
        ),
    ),
    409: (_l("Xung đột dữ liệu"), _l("Dữ liệu vừa được người khác thay đổi.")),
    415: (_l("Kiểu nội dung không được hỗ trợ"), _l("Gửi nội dung JSON với Content-Type: application/json.")),
    422: (_l("Dữ liệu không hợp lệ"), _l("Dữ liệu gửi lên không hợp lệ.")),
}


class ApiProblem(Exception):
    """Raised by API code to answer with a problem document."""

    def __init__(self, status: int, detail: str | None = None, *, type_: str = "about:blank", **extra):
        super().__init__(detail)
        self.status, self.detail, self.type_, self.extra = status, detail, type_, extra


def invalid(errors: dict[str, str], detail: str | None = None) -> ApiProblem:
    """422 with the Vietnamese message of each field that is wrong."""
    return ApiProblem(422, detail or "; ".join(errors.values()), type_=VALIDATION, errors=errors)


def problem(status: int, detail: str | None = None, *, type_: str = "about:blank", headers=None, **extra) -> Response:
    title, default_detail = API_MESSAGES.get(status, API_MESSAGES[500] if status >= 500 else API_MESSAGES[400])
    body = {"type": type_, "title": str(title), "status": status, "detail": str(detail or default_detail), **extra}
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON, headers=headers)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    response.headers["Cache-Control"] = "no-store"
    return response


def from_http_exception(error: HTTPException) -> Response:
    code = error.code or 500
    # keep what the exception says about the answer (Allow for 405, Retry-After for 429)
    headers = [(k, v) for k, v in error.get_headers() if k.lower() not in ("content-type", "content-length")]
    return problem(code, headers=headers)


def is_api_request() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def register(bp, db) -> None:
    """Error handlers for errors raised in API views, and the rewrite for those raised before them."""

    @bp.errorhandler(ApiProblem)
    def api_problem(error: ApiProblem):
        db.session.rollback()
        return problem(error.status, error.detail, type_=error.type_, **error.extra)

    def http_error(error: HTTPException):
        return from_http_exception(error)

    # by code as well as by class: the app's own handlers for these codes (HTML pages) would come first
    bp.register_error_handler(HTTPException, http_error)
    for code in (400, 401, 403, 404, 405, 409, 413, 414, 415, 422, 429):
        bp.register_error_handler(code, http_error)

    @bp.errorhandler(InternalServerError)
    def server_error(_error):
        db.session.rollback()
        return problem(500)

    @bp.after_app_request
    def rewrite_page_errors(response: Response) -> Response:
        """An /api/v1 URL that matched no view got the portal's HTML error page: answer in problem+json."""
        if not is_api_request() or response.status_code < 400 or response.mimetype == PROBLEM_JSON:
            return response
        routing = request.routing_exception
        if isinstance(routing, HTTPException):  # the routing answer wins over CSRF's complaint about a POST
            return from_http_exception(routing)
        return problem(response.status_code)
