"""Forms of the peer review round: the plan (mode, k, team), a pair added by hand, the deadline."""

from __future__ import annotations

from datetime import UTC, datetime, time

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Optional

from portal.formatting import VN_TZ
from portal.forms import PortalForm
from portal.models.scoring import ASSIGNMENT_MODES

MODE_CHOICES = [(code, _l(label)) for code, label in ASSIGNMENT_MODES.items()]
END_OF_DAY = time(23, 59, 59)


def _unit_id(value) -> int:
    """A unit id from a select; anything else becomes 0, which no unit has (the service then says why)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class VNDeadlineField(StringField):
    """A deadline typed in Vietnam time, dd/mm/yyyy hh:mm or dd/mm/yyyy (the end of that day); data is naive UTC."""

    FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%Y-%m-%dT%H:%M")
    DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d")

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {}).setdefault("placeholder", "dd/mm/yyyy hh:mm")
        super().__init__(label, validators, **kwargs)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return self.data.replace(tzinfo=UTC).astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")

    def process_formdata(self, valuelist):
        self.data = None
        text = " ".join((valuelist[0] if valuelist else "").split())
        if not text:
            return
        local = self._parse(text)
        if local is None:
            raise ValueError(_("Thời hạn không hợp lệ; nhập dd/mm/yyyy hh:mm hoặc dd/mm/yyyy, ví dụ 30/11/2026 17:00."))
        self.data = local.replace(tzinfo=VN_TZ).astimezone(UTC).replace(tzinfo=None)

    def _parse(self, text: str) -> datetime | None:
        for fmt in self.FORMATS:
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
        for fmt in self.DATE_FORMATS:
            try:
                return datetime.combine(datetime.strptime(text, fmt).date(), END_OF_DAY)
            except ValueError:
                continue
        return None


class WholeNumberField(IntegerField):
    """An integer, with the error in the user's language (WTForms' own message is English)."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_("Nhập một số nguyên, ví dụ 3.")) from None


class PlanForm(PortalForm):
    """How reviewers are assigned (creating the round, or "Lập lại phân công")."""

    # the service checks the mode (and says "Chọn cách phân công." next to it)
    mode = RadioField(_l("Cách phân công"), choices=MODE_CHOICES, default="k_each", validate_choice=False)
    k = WholeNumberField(
        _l("Số đơn vị chấm mỗi đơn vị (k)"), default=2, validators=[Optional()], render_kw={"min": 1, "step": 1}
    )
    team = SelectMultipleField(_l("Tổ kiểm tra chéo"), coerce=_unit_id, choices=[], validate_choice=False)


class RoundForm(PlanForm):
    deadline = VNDeadlineField(_l("Hạn chấm chéo"), validators=[Optional()])


class PairForm(PortalForm):
    reviewer_unit_id = SelectField(_l("Đơn vị chấm"), coerce=_unit_id, choices=[], validate_choice=False)
    subject_unit_id = SelectField(_l("Đơn vị được chấm"), coerce=_unit_id, choices=[], validate_choice=False)


class DeadlineForm(PortalForm):
    deadline = VNDeadlineField(_l("Hạn chấm chéo"), validators=[Optional()])
