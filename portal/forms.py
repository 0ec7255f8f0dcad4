"""Form pieces shared by every area: the base form, translatable messages (Vietnamese msgids), dd/mm/yyyy dates,
Vietnamese decimals, the POST-only button form, `saved()`/`done()` (one transaction per request) and the
in-place edit of a list row."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from flask import Response, flash, has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, Field, StringField
from wtforms.validators import DataRequired, Length, Optional, StopValidation, ValidationError
from wtforms.widgets import TextInput

from portal.extensions import db
from portal.htmx import hx_redirect, is_fragment_request, render
from portal.routing import MAX_ID
from portal.services import DomainError
from portal.services.criteria.methods import normalise_number
from portal.services.platform.control_chars import has_control_characters

REQUIRED = _l("Vui lòng nhập trường này.")
CONTROL_CHARACTERS = _l("Nội dung có ký tự điều khiển ẩn (ví dụ ký tự NUL); hãy xóa đoạn vừa dán và gõ lại.")
TOO_LARGE = _l("Số quá lớn.")
NUMBER = _l("Nhập một số, ví dụ 12,5.")

# WTForms' and Flask-WTF's built-in messages (English; WTForms has no Vietnamese catalogue), by their text.
# Each is our own msgid, so it reads in the user's language like the rest of the portal.
BUILTIN_MESSAGES = {
    "Invalid field name '%s'.": _l("Tên trường không hợp lệ: '%s'."),
    "Field must be equal to %(other_name)s.": _l("Phải trùng với trường %(other_name)s."),
    "Field must be at least %(min)d character long.": _l("Tối thiểu %(min)d ký tự."),
    "Field must be at least %(min)d characters long.": _l("Tối thiểu %(min)d ký tự."),
    "Field cannot be longer than %(max)d character.": _l("Tối đa %(max)d ký tự."),
    "Field cannot be longer than %(max)d characters.": _l("Tối đa %(max)d ký tự."),
    "Field must be exactly %(max)d character long.": _l("Phải đúng %(max)d ký tự."),
    "Field must be exactly %(max)d characters long.": _l("Phải đúng %(max)d ký tự."),
    "Field must be between %(min)d and %(max)d characters long.": _l("Từ %(min)d đến %(max)d ký tự."),
    "Number must be at least %(min)s.": _l("Số phải từ %(min)s trở lên."),
    "Number must be at most %(max)s.": _l("Số không được lớn hơn %(max)s."),
    "Number must be between %(min)s and %(max)s.": _l("Số phải từ %(min)s đến %(max)s."),
    "Date must be at least %(min)s.": _l("Ngày phải từ %(min)s trở về sau."),
    "Date must be at most %(max)s.": _l("Ngày không được sau %(max)s."),
    "Date must be between %(min)s and %(max)s.": _l("Ngày phải từ %(min)s đến %(max)s."),
    "This field is required.": REQUIRED,
    "Invalid input.": _l("Giá trị không hợp lệ."),
    "Invalid email address.": _l("Địa chỉ e-mail không hợp lệ."),
    "Invalid IP address.": _l("Địa chỉ IP không hợp lệ."),
    "Invalid Mac address.": _l("Địa chỉ MAC không hợp lệ."),
    "Invalid URL.": _l("Địa chỉ URL không hợp lệ."),
    "Invalid UUID.": _l("Mã UUID không hợp lệ."),
    "Invalid value, must be one of: %(values)s.": _l("Giá trị không hợp lệ; phải là một trong: %(values)s."),
    "Invalid value, can't be any of: %(values)s.": _l("Giá trị không hợp lệ; không được là: %(values)s."),
    "This field cannot be edited.": _l("Trường này không sửa được."),
    "This field is disabled and cannot have a value.": _l("Trường này đã bị khóa, không nhận giá trị."),
    "Invalid CSRF Token.": _l("Mã bảo vệ biểu mẫu (CSRF) không hợp lệ."),
    "CSRF token missing.": _l("Thiếu mã bảo vệ biểu mẫu (CSRF)."),
    "CSRF failed.": _l("Kiểm tra mã bảo vệ biểu mẫu (CSRF) không thành công."),
    "CSRF token expired.": _l("Mã bảo vệ biểu mẫu (CSRF) đã hết hạn."),
    "Invalid Choice: could not coerce.": _l("Lựa chọn không hợp lệ."),
    "Choices cannot be None.": _l("Chưa có lựa chọn nào."),
    "Not a valid choice.": _l("Lựa chọn không hợp lệ."),
    "Invalid choice(s): one or more data inputs could not be coerced.": _l("Có lựa chọn không hợp lệ."),
    "'%(value)s' is not a valid choice for this field.": _l("“%(value)s” không phải lựa chọn hợp lệ."),
    "'%(value)s' are not valid choices for this field.": _l("“%(value)s” không phải lựa chọn hợp lệ."),
    "Not a valid datetime value.": _l("Ngày giờ không hợp lệ."),
    "Not a valid date value.": _l("Ngày không hợp lệ; nhập theo dạng dd/mm/yyyy, ví dụ 15/03/2025."),
    "Not a valid time value.": _l("Giờ không hợp lệ."),
    "Not a valid week value.": _l("Tuần không hợp lệ."),
    "Not a valid integer value.": _l("Nhập một số nguyên, ví dụ 3."),
    "Not a valid decimal value.": NUMBER,
    "Not a valid float value.": NUMBER,
    "File does not have an approved extension: {extensions}": _l("Loại tệp không được nhận; chỉ nhận: {extensions}"),
    "File does not have an approved extension.": _l("Loại tệp không được nhận."),
}
FILE_SIZE = re.compile(r"File must be between (?P<min_size>\d+) and (?P<max_size>\d+) bytes\.")  # formatted already


class BuiltinMessages:
    """WTForms' translations object: its English messages, looked up in our catalogue when shown."""

    def gettext(self, string):
        message = BUILTIN_MESSAGES.get(string)
        if message is not None:
            return str(message)
        size = FILE_SIZE.fullmatch(string)
        if size:
            return _("Tệp phải từ %(min_size)s đến %(max_size)s byte.", **size.groupdict())
        return string

    def ngettext(self, singular, plural, n):
        return self.gettext(singular if n == 1 else plural)


def plain_input(_form, field):
    """What every field must be: text without control characters, whole numbers a database column holds."""
    for value in field.raw_data or ():
        if isinstance(value, str) and has_control_characters(value):
            raise StopValidation(CONTROL_CHARACTERS)
    numbers = field.data if isinstance(field.data, list) else [field.data]
    if any(isinstance(n, int) and not isinstance(n, bool) and abs(n) > MAX_ID for n in numbers):
        raise StopValidation(TOO_LARGE)  # an id or count beyond 2³¹−1 names nothing and would not fit


class PortalForm(FlaskForm):
    """Every form of the portal.

    - No field takes control characters (a NUL byte is refused by PostgreSQL with a 500),
      nor a whole number beyond 2³¹−1: the message stands next to the field, and the form
      does not validate.
    - WTForms' own messages are in the user's language.
    - A form reads form fields only: a JSON body is no form (FlaskForm would read a JSON
      object as one, and fail on anything else).
    """

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return BuiltinMessages()

        def wrap_formdata(self, form, formdata):
            if has_request_context() and request.is_json and not hasattr(formdata, "getlist"):
                return None
            return super().wrap_formdata(form, formdata)

    def validate(self, extra_validators=None):
        extra = {name: [plain_input, *(extra_validators or {}).get(name, ())] for name in self._fields}
        return super().validate(extra)


class EmptyForm(PortalForm):
    """A POST-only button: nothing but the CSRF token."""


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


class VNDecimalField(DecimalField):
    """A decimal typed the Vietnamese way ("12,5", "1.000") or with a dot.

    A text input, not type="number": browsers drop a value like "0,25" from a
    number input, and would lose the points on every edit.
    """

    widget = TextInput()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("render_kw", {}).setdefault("inputmode", "decimal")
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        if valuelist:
            valuelist = [normalise_number(valuelist[0] or "")]
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(NUMBER) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return format(self.data.normalize(), "f").replace(".", ",")


def domain_message(error: DomainError) -> str:
    """A DomainError's message in the reader's language (its Vietnamese text when the catalogue has none); a value
    that is itself a DomainError (the refusal an import's "Dòng %(row)s: %(error)s" names) is put in it too."""
    params = {
        key: domain_message(value) if isinstance(value, DomainError) else value for key, value in error.params.items()
    }
    return _(error.msgid, **params)


def apply_domain_error(form, error) -> None:
    """Put a DomainError next to the field it names (or at the top of the form)."""
    field: Field | None = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors) + [domain_message(error)]
    else:
        form.form_errors.append(domain_message(error))


__all__ = [
    "EmptyForm",
    "PortalForm",
    "VNDateField",
    "VNDecimalField",
    "apply_domain_error",
    "domain_message",
    "max_length",
    "required",
    "Optional",
    "ValidationError",
]


class Outcome(NamedTuple):
    ok: bool
    result: Any = None


def commit_keeping_loaded() -> None:
    """Commit without expiring what the request has loaded: what it renders next (an autosave's answer, the
    signed-in user after the sign-in session's touch) comes from those objects as committed, not from
    reading them all again."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


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


def done(call: Callable[[], Any], *, flash_category: str | None = "danger") -> Outcome:
    """Run a service call behind a button (no fields to mark) as the request's one transaction.

    The sibling of `saved()` for actions such as delete, confirm or start: success commits and
    returns (True, result). A DomainError rolls everything back, flashes its Vietnamese message
    under `flash_category` and returns (False, message); the view then chooses the response
    (redirect back, or re-render the htmx block with 422). With `flash_category=None` nothing is
    flashed and the view shows the message itself, e.g. in the block it re-renders.
    """
    try:
        result = call()
    except DomainError as error:
        db.session.rollback()
        message = domain_message(error)
        if flash_category is not None:
            flash(message, flash_category)
        return Outcome(False, message)
    db.session.commit()
    return Outcome(True, result)


def form_status(form) -> int:
    """422 when the form comes back with errors (htmx swaps it in place of the one sent), else 200."""
    return 422 if form.errors or form.form_errors else 200


def edit_in_place(
    form,
    call: Callable[[], Any],
    *,
    row: Callable[[], Response],
    message: str,
    card_url: str,
    fragment: str,
    page: str,
    **context,
) -> Response:
    """A list row edited in place. A POST that saves gives the row back (`row()`), or without htmx flashes
    `message` and goes to the object's card; GET, or a POST that does not save, gives the row's form
    (`fragment`; its `page` without htmx), with 422 when it has errors."""
    if form.validate_on_submit() and saved(form, call).ok:
        if is_fragment_request():
            return row()
        flash(message, "success")
        return hx_redirect(card_url)
    return render(fragment if is_fragment_request() else page, status=form_status(form), form=form, **context)
