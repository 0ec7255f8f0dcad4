"""forms.saved() and forms.done(): one transaction per request, committed or rolled back as a whole."""

from __future__ import annotations

from flask import get_flashed_messages
from sqlalchemy import func, select
from wtforms import StringField

from portal.extensions import db
from portal.forms import PortalForm, done, required, saved
from portal.models import Unit
from portal.services import DomainError
from tests import factories


class _NameForm(PortalForm):
    name = StringField("Tên", validators=[required()])


def _units() -> int:
    return db.session.scalar(select(func.count()).select_from(Unit))


def _refused(message: str, field: str | None = None):
    def call():
        factories.unit("Đơn vị dở dang")
        raise DomainError(message, field)

    return call


def test_done_commits_and_returns_the_result(app):
    with app.test_request_context(method="POST"):
        ok, unit = done(lambda: factories.unit("Sở Tư pháp"))
        db.session.rollback()  # nothing left to undo: the unit is committed
        assert ok
        assert db.session.get(Unit, unit.id).name == "Sở Tư pháp"
        assert get_flashed_messages() == []


def test_done_rolls_back_flashes_the_message_and_returns_it(app):
    with app.test_request_context(method="POST"):
        outcome = done(_refused("Năm đã có dữ liệu chấm điểm, không xóa được."))
        assert outcome == (False, "Năm đã có dữ liệu chấm điểm, không xóa được.")
        assert _units() == 0
        assert get_flashed_messages(with_categories=True) == [
            ("danger", "Năm đã có dữ liệu chấm điểm, không xóa được.")
        ]


def test_done_flashes_under_the_category_asked(app):
    with app.test_request_context(method="POST"):
        assert not done(_refused("Chữ ký đã được xác nhận."), flash_category="warning").ok
        assert get_flashed_messages(with_categories=True) == [("warning", "Chữ ký đã được xác nhận.")]


def test_done_without_a_category_leaves_the_message_to_the_view(app):
    with app.test_request_context(method="POST"):
        outcome = done(_refused("Tài khoản đang bị khóa."), flash_category=None)
        assert outcome == (False, "Tài khoản đang bị khóa.")
        assert _units() == 0
        assert get_flashed_messages() == []


def test_saved_rolls_back_and_puts_the_message_next_to_its_field(app):
    with app.test_request_context(method="POST", data={"name": "Sở Y tế"}):
        form = _NameForm(meta={"csrf": False})
        outcome = saved(form, _refused("Tên đã có.", "name"))
        assert outcome == (False, None)
        assert form.name.errors == ["Tên đã có."]
        assert _units() == 0
        assert get_flashed_messages() == []


def test_saved_puts_a_message_without_a_field_at_the_top_of_the_form(app):
    with app.test_request_context(method="POST", data={"name": "Sở Y tế"}):
        form = _NameForm(meta={"csrf": False})
        assert not saved(form, _refused("Đơn vị đang giữ chức vụ trong cụm.")).ok
        assert form.form_errors == ["Đơn vị đang giữ chức vụ trong cụm."]
        assert _units() == 0
