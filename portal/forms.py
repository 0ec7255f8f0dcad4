"""Form pieces shared by every area: translatable messages (Vietnamese msgids), dd/mm/yyyy dates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Field, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.extensions import db
from portal.services import DomainError

REQUIRED = _l("Vui lòng nhập trường này.")


def required(message=REQUIRED):
    return DataRequired(message)


def max_length(n: int):
    return Length(max=n, message=_l("Tối đa %(max)d ký tự."))  # WTForms fills in %(max)d


class VNDateField(StringField):
    """A date typed as dd/mm/yyyy, whatever the browser's locale."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {})
        kwargs["render_kw"].setdefault("placeholder", "dd/mm/yyyy")
        kwargs["render_kw"].setdefault("inputmode", "numeric")
        super().__init__(label, validators, **kwargs)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%d/%m/%Y") if self.data else ""

    def process_formdata(self, valuelist):
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            return
        for fmt in ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"):
            try:
                self.data = datetime.strptime(text, fmt).date()
                return
            except ValueError:
                continue
        raise ValueError(_("Ngày không hợp lệ; nhập theo dạng dd/mm/yyyy, ví dụ 15/03/2025."))


def apply_domain_error(form, error) -> None:
    """Put a DomainError next to the field it names (or at the top of the form)."""
    field: Field | None = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors) + [error.message]
    else:
        form.form_errors.append(error.message)


__all__ = ["VNDateField", "apply_domain_error", "max_length", "required", "Optional", "ValidationError"]


class Outcome(NamedTuple):
    ok: bool
    result: Any = None


def saved(form, call: Callable[[], Any]) -> Outcome:
    """Run a service call for a submitted form as the request's one transaction.

    Success commits and returns (True, result). A DomainError rolls everything back and
    puts its Vietnamese message next to the field it names, so the view re-renders the
    form with 422 and nothing is half-saved.
    """
    try:
        result = call()
    except DomainError as error:
        db.session.rollback()
        apply_domain_error(form, error)
        return Outcome(False)
    db.session.commit()
    return Outcome(True, result)
