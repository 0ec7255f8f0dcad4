"""Forms of the year pages: a year, confirmations, the next year, the overview filter."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, TextAreaField
from wtforms.validators import Optional, StopValidation

from portal.forms import PortalForm, max_length, required
from portal.models.org import CLUSTER_KINDS

KIND_CHOICES = [(code, _l(label)) for code, label in CLUSTER_KINDS.items()]


class YearField(IntegerField):
    """A four-digit year; text that is not a number gets our own message, not WTForms' generic one."""

    def process_formdata(self, valuelist):
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            return
        if not text.isascii() or not text.isdigit():
            raise ValueError(_("Năm phải là một số, ví dụ 2027."))
        self.data = int(text)

    def pre_validate(self, form):
        if self.process_errors:  # the message above is enough; skip "required"
            raise StopValidation()


class YearForm(PortalForm):
    year = YearField(
        _l("Năm thi đua"), validators=[required()], render_kw={"inputmode": "numeric", "placeholder": _l("VD: 2027")}
    )
    note = TextAreaField(_l("Ghi chú"), validators=[Optional(), max_length(2000)], render_kw={"rows": 2})


class ConfirmForm(PortalForm):
    """A POST-only button: nothing but the CSRF token."""


class NextYearForm(PortalForm):
    make_current = BooleanField(_l("Đặt năm mới làm năm hiện hành ngay"), default=False)


class OverviewFilterForm(PortalForm):
    class Meta:
        csrf = False

    kind = SelectField(_l("Loại"), choices=[("", _l("Cụm và khối")), *KIND_CHOICES], default="")
