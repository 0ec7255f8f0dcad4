"""Hostile input never gives a 500 and never reaches the database.

Every route of the url_map (through the authorization matrix's table of URLs) is called as a
role allowed to use it, with NUL bytes and other control characters, 10,000-character text and
numbers beyond any column, in the query string, in each form field (the other fields keep the
values the portal's own page puts in the form, so the hostile one is the only thing wrong) and
as JSON. Every answer must be below 500, and afterwards no row may hold a control character,
a text longer than its column or an integer beyond its column's range: SQLite stores what
PostgreSQL refuses with a 500, so the database is checked as PostgreSQL would.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import BigInteger, Integer, Numeric, String, select
from sqlalchemy.types import JSON
from werkzeug.datastructures import ImmutableMultiDict

from portal.extensions import db
from tests import test_authz_matrix as authz
from tests.conftest import IsolatedClient

ids = authz.ids  # the authorization matrix's small world and the ids its URL templates name

HOSTILE = {
    "nul": "Tên\x00đơn vị",
    "escape": "Tên\x1b[31mđơn vị",
    "long": "x" * 10_000,
    "int32": "2147483648",  # one beyond PostgreSQL's integer
    "huge": "-99999999999999999999",  # beyond bigint and numeric(18, 4) too
}
# Query strings: every known parameter at once with each of these, then each parameter a view read alone
# with fewer (long text is a 414 before any view: test_a_query_string_over_4_kb_is_414_a_page_or_problem_json).
QUERY_ALL = ("nul", "escape", "int32", "huge")
QUERY_EACH = ("nul", "huge")
# Form fields, one at a time: what PostgreSQL refuses (a NUL, text beyond a column, a number beyond any column).
FORM_EACH = ("nul", "long", "huge")
QUERY_PARAMS = (
    "q", "year", "page", "per_page", "unit_id", "user", "cluster_id", "status", "kind", "round_id", "stage",
    "sort", "object_type", "object_id", "action", "date_from", "date_to", "sector", "council_role", "inline",
    "next", "parent_id", "set_id", "criterion_id", "assessment_id",
)  # fmt: skip
DEEP_JSON = "[" * 100_000 + "]" * 100_000
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
PREFERRED_ROLES = ("secretariat", "head", "member", "deputy", "overseer", "council", "outsider")

_read: set[str] = set()  # parameter names the views looked at during the last request


class TrackingDict(ImmutableMultiDict):
    """Query and form parameters that remember which names were looked up."""

    def __getitem__(self, key):
        _read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        _read.add(key)
        return super().__contains__(key)

    def get(self, key, default=None, type=None):  # noqa: A002 - werkzeug's signature
        _read.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        _read.add(key)
        return super().getlist(key, type)


class FormCollector(HTMLParser):
    """Each <form method="post">'s action and the values its fields carry as the page shows them."""

    def __init__(self):
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self._fields: dict[str, str] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        kind = a.get("type", "text")
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._fields = self.forms.setdefault(urlsplit(a.get("action", "")).path, {})
        elif self._fields is None:
            return
        elif tag == "option" and self._select and ("selected" in a or self._select not in self._fields):
            self._fields[self._select] = a.get("value", "")
        elif not a.get("name"):
            return
        elif tag == "input" and kind not in ("file", "submit", "button"):
            if kind not in ("checkbox", "radio") or "checked" in a:
                self._fields[a["name"]] = a.get("value", "on" if kind == "checkbox" else "")
        elif tag == "select":
            self._select = a["name"]
        elif tag == "textarea":
            self._textarea = a["name"]
            self._fields[a["name"]] = ""

    def handle_data(self, data):
        if self._textarea and self._fields is not None:
            self._fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


_page_forms: dict[str, dict[str, dict[str, str]]] = {}  # role → action path → fields (ids repeat per test)


def _role_for(expected: dict) -> str:
    if expected["anonymous"] == authz.PUBLIC:
        return "anonymous"
    allowed = [r for r in PREFERRED_ROLES if expected[r] in (authz.OK, authz.PUBLIC)]
    return allowed[0] if allowed else "head"  # nobody may (finalising a self-assessment): the refusal itself


def _client(app, role, ids):
    if role == "anonymous":
        app.test_client_class = IsolatedClient
        return app.test_client()
    return authz._client_as(app, role, ids)


def _forms_seen_by(app, role, ids) -> dict[str, dict[str, str]]:
    """The post forms on every page the role may open, by action (read once per role per run)."""
    if role not in _page_forms:
        collector = FormCollector()
        client = _client(app, role, ids)
        for (endpoint, method), (template, expected) in authz.MATRIX.items():
            if method == "GET" and not endpoint.startswith("api.") and expected[role] in (authz.OK, authz.PUBLIC):
                response = client.get(template.format(**ids))
                if response.mimetype == "text/html":
                    collector.feed(response.get_data(as_text=True))
        _page_forms[role] = collector.forms
    return _page_forms[role]


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = dict(p.split("=", 1) for p in parts.query.split("&") if p) | params
    return f"{parts.path}?{urlencode(query)}"


def _api(app, role, ids, method, url, **kw):
    app.test_client_class = IsolatedClient
    headers = {"Authorization": f"Bearer {ids['tokens'][role]}"} if role != "anonymous" else {}
    return app.test_client().open(url, method=method, headers=headers, **kw)


def _walk_query(send, url) -> list[str]:
    """Every hostile value in every known parameter at once, then in each parameter the view read."""
    failures = []
    read: set[str] = set()
    for name in QUERY_ALL:
        _read.clear()
        response = send(_with_query(url, dict.fromkeys(QUERY_PARAMS, HOSTILE[name])))
        read |= _read
        if response.status_code >= 500:
            failures.append(f"all query parameters {name}: {response.status_code}")
    _read.clear()
    send(url)
    read |= _read
    for param in sorted(read):
        for name in QUERY_EACH:
            response = send(_with_query(url, {param: HOSTILE[name]}))
            if response.status_code >= 500:
                failures.append(f"?{param}= {name}: {response.status_code}")
    return failures


def _walk_form(app, role, ids, url) -> list[str]:
    """Each field of the page's form hostile in turn, the others as the page filled them; then JSON bodies."""
    client = _client(app, role, ids)
    baseline = dict(_forms_seen_by(app, role, ids).get(urlsplit(url).path, {}))
    _read.clear()
    client.post(url, data={})
    fields = sorted((set(baseline) | _read) - {"csrf_token"})
    failures = []
    for field in fields:
        for name in FORM_EACH:
            if name == "huge" and re.search(r"[^\d.,\s-]", baseline.get(field, "")):
                continue  # a number only where the page puts one (or nothing): ids, counts, points
            response = client.post(url, data=baseline | {field: HOSTILE[name]})
            if response.status_code >= 500:
                failures.append(f"{field}={name}: {response.status_code}")
    for label, body in (("JSON list", "[1]"), ("deep JSON", DEEP_JSON), ("NUL JSON", json.dumps({"name": "\x00"}))):
        response = client.post(url, data=body, content_type="application/json")
        if response.status_code >= 500:
            failures.append(f"{label}: {response.status_code}")
    return failures


def _walk_api_body(app, role, ids, method, url) -> list[str]:
    failures = []
    bodies = {"deep": DEEP_JSON, "list": "[1]"}
    for name, value in HOSTILE.items():
        bodies[f"value {name}"] = json.dumps({"value": value})
        bodies[f"note {name}"] = json.dumps({"value": "1", "note": value})
        bodies[f"revision {name}"] = json.dumps({"value": "1", "revision": int(value) if value[-1].isdigit() else 1})
    for name, body in bodies.items():
        response = _api(app, role, ids, method, url, data=body, content_type="application/json")
        if response.status_code >= 500:
            failures.append(f"{name}: {response.status_code}")
        elif response.status_code >= 400:
            assert response.mimetype == "application/problem+json", name
    return failures


def _stored_violations() -> list[str]:
    """What PostgreSQL would refuse: control characters, text beyond its column, integers beyond theirs."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String | JSON):
                values = db.session.execute(select(column).where(column.is_not(None))).scalars()
                for value in values:
                    text = json.dumps(value, ensure_ascii=False) if isinstance(column.type, JSON) else value
                    if CONTROL.search(text) or (isinstance(column.type, JSON) and "\\u00" in text):
                        found.append(f"{table.name}.{column.name}: control character in {text[:40]!r}")
                    length = getattr(column.type, "length", None)
                    if length and len(value) > length:
                        found.append(f"{table.name}.{column.name}: {len(value)} characters (column {length})")
            elif isinstance(column.type, Numeric) and column.type.precision:
                limit = Decimal(10) ** (column.type.precision - (column.type.scale or 0))
                values = db.session.execute(select(column).where(column.is_not(None))).scalars()
                found += [f"{table.name}.{column.name} = {v}" for v in values if not -limit < Decimal(v) < limit]
            elif isinstance(column.type, Integer):
                limit = 2**63 if isinstance(column.type, BigInteger) else 2**31
                values = db.session.execute(select(column).where(column.is_not(None))).scalars()
                found += [f"{table.name}.{column.name} = {v}" for v in values if not -limit <= v < limit]
    return found


@pytest.mark.parametrize("endpoint, method", sorted(authz.MATRIX))
def test_hostile_input_never_gives_a_500(app, ids, endpoint, method):
    template, expected = authz.MATRIX[(endpoint, method)]
    url, role = template.format(**ids), _role_for(expected)
    # the app's own request class (htmx-flask's), whose parameters remember what was read
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is the 500 a user would get, and the walk goes on
    app.request_class = type("TrackingRequest", (app.request_class,), {"parameter_storage_class": TrackingDict})
    if endpoint.startswith("api."):
        failures = _walk_query(lambda u: _api(app, role, ids, method, u), url)
        if method in ("PUT", "POST"):
            failures += _walk_api_body(app, role, ids, method, url)
    elif method == "GET":
        client = _client(app, role, ids)
        failures = _walk_query(client.get, url)
    else:
        failures = _walk_form(app, role, ids, url)
        if "?" in url:
            client = _client(app, role, ids)
            failures += _walk_query(lambda u: client.post(u, data={}), url)
    assert not failures, f"{method} {url} as {role}: " + "; ".join(failures)
    db.session.rollback()
    stored = _stored_violations()
    assert not stored, f"{method} {url} as {role} stored what PostgreSQL refuses: " + "; ".join(stored)


# --- the inputs of issue 13, one by one -------------------------------------------------------------------

NUL_FORMS = {  # endpoint: (role, url template, form data with a NUL in the field named last)
    "auth.login": ("anonymous", "/login", {"password": "x", "username": "secretariat\x00"}),
    "units.create": ("secretariat", "/units/", {"sector": "other", "name": "Sở Nội\x00 vụ"}),
    "clusters.create": ("secretariat", "/clusters/", {"kind": "cluster", "code": "X9", "name": "Cụm\x00 số 9"}),
    "council.create": ("secretariat", "/council/", {"council_role": "member", "full_name": "Nguyễn\x00 An"}),
    "accounts.create": ("secretariat", "/accounts/", {"kind": "secretariat", "full_name": "An", "username": "a\x00n"}),
    "criteria.create_template": (
        "secretariat",
        "/criteria/templates",
        {"target_total": "100", "score_step": "0,25", "title": "Mẫu\x00 tiêu chí"},
    ),
    "criteria.edit_item": (
        "head",
        "/criteria/items/{criterion}/edit",
        {"code": "2", "kind": "scored", "method": "direct", "max_points": "40", "title": "Cải cách\x00"},
    ),
    "api_tokens.create": ("member", "/account/tokens/", {"name": "Khóa\x00 báo cáo"}),
    "scoring.return_assessment": ("head", "/scoring/assessments/{assessment}/return", {"reason": "Thiếu\x00"}),
    "scoring.save_score": (
        "member",
        "/scoring/assessments/{assessment}/scores/{leaf}",
        {"value": "1", "revision": "0", "note": "Ghi\x00 chú"},
    ),
}


def _audit_count() -> int:
    from portal.models import AuditEntry

    return len(db.session.scalars(select(AuditEntry.id)).all())


@pytest.mark.parametrize("endpoint", sorted(NUL_FORMS))
def test_a_nul_byte_in_a_form_gets_its_message_next_to_the_field(app, ids, endpoint):
    role, template, data = NUL_FORMS[endpoint]
    if endpoint == "scoring.return_assessment":  # only a submitted assessment shows the form to return it
        from portal.models import Assessment

        db.session.get(Assessment, ids["assessment"]).status = "submitted"
        db.session.commit()
    before = _audit_count()
    response = _client(app, role, ids).post(template.format(**ids), data=data, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "ký tự điều khiển ẩn" in response.text
    assert _audit_count() == before and _stored_violations() == []


@pytest.mark.parametrize(
    "url, status",
    [
        ("/units/?q=%00", 400),
        ("/audit-log/?user=%00", 400),
        ("/audit-log/?object_id=1%1B", 400),
        ("/clusters/?year=2147483648", 404),  # no such year
        ("/clusters/{cluster}?year=99999999999999", 404),
        ("/units/?page=99999999999999999999", 400),
        ("/audit-log/?page=2147483648", 400),
        ("/criteria/sets/{criteria_set}/items?parent_id=99999999999999999999", 400),
    ],
)
def test_query_strings_beyond_bounds_get_a_4xx(app, ids, url, status):
    role = "head" if url.startswith("/criteria/") else "secretariat"
    response = _client(app, role, ids).get(url.format(**ids))
    assert response.status_code == status
    assert "<html" in response.text and 'lang="vi"' in response.text


def test_a_number_the_view_never_reads_is_no_error(app, ids):
    assert _client(app, "secretariat", ids).get("/accounts/?unit_id=" + "9" * 40).status_code == 200


def test_a_query_string_over_4_kb_is_414_a_page_or_problem_json(app, ids):
    long = "a" * 4100
    page = _client(app, "secretariat", ids).get(f"/units/?q={long}")
    assert page.status_code == 414 and "Địa chỉ quá dài" in page.text and "<html" in page.text
    api = _api(app, "secretariat", ids, "GET", f"/api/v1/units?q={long}")
    assert api.status_code == 414 and api.mimetype == "application/problem+json"
    assert api.json["status"] == 414 and api.json["title"] == "Địa chỉ quá dài"
    assert _client(app, "secretariat", ids).get(f"/units/?q={'a' * 3000}").status_code == 200


def test_gunicorn_leaves_long_request_lines_to_the_portal():
    """gunicorn reads gunicorn.conf.py from the directory it starts in: its own 414 (HTML) only beyond 8 KB."""
    from config import BASE_DIR

    settings: dict = {}
    exec((BASE_DIR / "gunicorn.conf.py").read_text(), settings)
    from portal.routing import MAX_QUERY_STRING

    assert settings["limit_request_line"] > MAX_QUERY_STRING + 2048  # the method, the path and the protocol too


def test_json_nested_100000_deep_is_a_400_problem(app, ids):
    url = "/api/v1/assessments/{assessment}/scores/{leaf}".format(**ids)
    response = _api(app, "member", ids, "PUT", url, data=DEEP_JSON, content_type="application/json")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert response.json["type"] == "urn:thidua:problem:malformed-json" and "32" in response.json["detail"]
    nested_string = json.dumps({"value": "1", "note": "[" * 50_000})  # brackets inside a string are text
    assert _api(app, "member", ids, "PUT", url, data=nested_string, content_type="application/json").status_code == 422


def test_a_nul_in_a_json_string_is_a_422_naming_the_field(app, ids):
    url = "/api/v1/assessments/{assessment}/scores/{leaf}".format(**ids)
    before = _audit_count()
    body = json.dumps({"value": "1", "note": "Ghi\x00 chú"})
    response = _api(app, "member", ids, "PUT", url, data=body, content_type="application/json")
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert set(response.json["errors"]) == {"note"} and "ký tự điều khiển" in response.json["errors"]["note"]
    assert _audit_count() == before


def test_flask_reads_deep_json_as_a_bad_request(app):
    """Any view that calls request.get_json gets a 400 for JSON too deep, never a RecursionError."""
    with app.test_request_context("/", method="POST", data=DEEP_JSON, content_type="application/json"):
        from flask import request
        from werkzeug.exceptions import BadRequest

        with pytest.raises(BadRequest):
            request.get_json()
    assert app.json.loads('{"a": [[1]]}') == {"a": [[1]]}


def test_a_json_body_is_no_form(app, ids):
    client = _client(app, "secretariat", ids)
    for body in ("[1]", json.dumps({"name": "Sở Nội vụ", "sector": "other"})):
        response = client.post("/units/", data=body, content_type="application/json")
        assert response.status_code == 422
    assert _stored_violations() == []


# --- WTForms' own messages in the user's language ---------------------------------------------------------


def test_wtforms_messages_are_vietnamese_then_english(app, ids):
    client = _client(app, "secretariat", ids)
    choice = client.post("/clusters/", data={"kind": "galaxy", "code": "X1", "name": "Cụm X"})
    assert choice.status_code == 422 and "Lựa chọn không hợp lệ." in choice.text and "Not a valid" not in choice.text
    anonymous = _client(app, "anonymous", ids)
    login = anonymous.post("/login", data={"username": "a" * 65, "password": "x"})
    assert "Tối đa 64 ký tự." in login.text and "Field cannot be longer" not in login.text
    client.post("/language/en", data={"next": "/"})
    anonymous.post("/language/en", data={"next": "/login"})
    assert "Not a valid choice." in client.post("/clusters/", data={"kind": "galaxy", "code": "X1"}).text
    assert "At most 64 characters." in anonymous.post("/login", data={"username": "a" * 65, "password": "x"}).text


def test_every_wtforms_message_has_a_translation():
    from pathlib import Path

    import wtforms
    from babel.messages.pofile import read_po

    from portal.forms import BUILTIN_MESSAGES

    with (Path(wtforms.__file__).parent / "locale" / "wtforms.pot").open("rb") as pot:
        ids = {
            i for message in read_po(pot) if message.id for i in (message.id if message.pluralizable else [message.id])
        }
    assert ids - set(BUILTIN_MESSAGES) == set()


def test_every_form_of_the_portal_is_a_portal_form():
    import importlib
    import pkgutil

    from flask_wtf import FlaskForm

    import portal
    from portal.forms import PortalForm

    for module in pkgutil.walk_packages(portal.__path__, "portal."):
        if module.name.endswith(("forms", "tokens")):
            importlib.import_module(module.name)
    forms, stack = [], list(FlaskForm.__subclasses__())
    while stack:
        cls = stack.pop()
        forms.append(cls)
        stack.extend(cls.__subclasses__())
    ours = [cls for cls in forms if cls.__module__.startswith("portal.") and cls is not PortalForm]
    assert len(ours) > 30
    assert [f"{cls.__module__}.{cls.__name__}" for cls in ours if not issubclass(cls, PortalForm)] == []


def test_an_autosave_naming_a_revision_beyond_any_row_is_a_400(app, ids):
    url = "/scoring/assessments/{assessment}/scores/{leaf}".format(**ids)
    before = _audit_count()
    response = _client(app, "member", ids).post(url, data={"value": "1", "note": "", "revision": "9" * 20})
    assert response.status_code == 400 and _audit_count() == before
