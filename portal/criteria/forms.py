"""Forms of the criteria pages: a table and its settings, a criterion, versions, import, delegation."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, NumberRange, Optional

from portal.forms import PortalForm, VNDecimalField, max_length, required
from portal.models.criteria import CRITERION_KINDS, METHODS

KIND_CHOICES = [(code, _l(label)) for code, label in CRITERION_KINDS.items()]
METHOD_CHOICES = [(code, _l(label)) for code, label in METHODS.items()]


class SetForm(PortalForm):
    title = StringField(_l("Tên bảng tiêu chí"), validators=[required(), max_length(255)])
    target_total = VNDecimalField(
        _l("Tổng điểm chuẩn"),
        default=Decimal("100"),
        places=None,
        validators=[
            InputRequired(_l("Nhập tổng điểm chuẩn.")),
            NumberRange(min=Decimal("0.01"), max=10000, message=_l("Từ 0,01 đến 10.000.")),
        ],
    )
    score_step = VNDecimalField(
        _l("Bước điểm khi chấm"),
        default=Decimal("0.25"),
        places=None,
        validators=[
            InputRequired(_l("Nhập bước điểm.")),
            NumberRange(min=Decimal("0.01"), max=10, message=_l("Từ 0,01 đến 10.")),
        ],
    )


class StartForm(SetForm):
    source = RadioField(_l("Bắt đầu từ"), default="empty", choices=[("empty", _l("Bảng trống"))])
    source_set_id = SelectField(_l("Bảng nguồn"), coerce=int, choices=[], validate_choice=False)


class ItemForm(PortalForm):
    code = StringField(_l("Số thứ tự"), validators=[required(_l("Nhập số thứ tự, ví dụ I, 1 hoặc a.")), max_length(16)])
    title = TextAreaField(_l("Nội dung tiêu chí"), validators=[required(), max_length(4000)], render_kw={"rows": 2})
    kind = SelectField(_l("Loại"), choices=KIND_CHOICES, default="scored")
    method = SelectField(_l("Phương pháp chấm"), choices=METHOD_CHOICES, default="direct")
    max_points = VNDecimalField(_l("Điểm chuẩn (điểm tối đa)"), places=None, validators=[Optional()])
    points_each = VNDecimalField(_l("Điểm mỗi lần"), places=None, validators=[Optional()])
    measure_unit = StringField(_l("Đơn vị tính (định lượng)"), validators=[Optional(), max_length(64)])
    guidance = TextAreaField(_l("Cách chấm"), validators=[Optional(), max_length(8000)], render_kw={"rows": 2})
    evidence_required = BooleanField(_l("Yêu cầu minh chứng"))


class VersionForm(PortalForm):
    reason = TextAreaField(
        _l("Lý do điều chỉnh"),
        validators=[required(_l("Nêu lý do điều chỉnh.")), max_length(2000)],
        render_kw={"rows": 2},
    )


class ImportForm(PortalForm):
    file = FileField(_l("Tệp Excel (.xlsx)"))


class DelegationForm(PortalForm):
    deputy_may_lead = BooleanField(_l("Cho phép đơn vị Phó cùng xây dựng tiêu chí, giao ước và điều hành"))
