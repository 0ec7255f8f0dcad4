"""Forms of the pledge pages: the agreement, a signature, a registered target."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from portal.forms import PortalForm, VNDateField, VNDecimalField, max_length, required


class PledgeForm(PortalForm):
    title = StringField(_l("Tên giao ước"), validators=[required(), max_length(255)])
    number_symbol = StringField(
        _l("Số, ký hiệu"), validators=[Optional(), max_length(64)], render_kw={"placeholder": _l("Số: 01/GƯTĐ-K01")}
    )
    place = StringField(
        _l("Địa danh (dòng ngày tháng)"),
        validators=[Optional(), max_length(128)],
        render_kw={"placeholder": "Cao Lãnh"},
    )
    legal_grounds = TextAreaField(
        _l("Căn cứ (mỗi dòng một căn cứ)"), validators=[Optional(), max_length(8000)], render_kw={"rows": 4}
    )
    goals = TextAreaField(_l("Mục tiêu"), validators=[Optional(), max_length(8000)], render_kw={"rows": 3})
    commitments = TextAreaField(
        _l("Nội dung cam kết (mỗi dòng một nội dung)"),
        validators=[required(), max_length(16000)],
        render_kw={"rows": 7},
    )
    criteria_set_id = SelectField(_l("Bảng tiêu chí gắn với giao ước"), coerce=int, validate_choice=False)
    meeting_date = VNDateField(_l("Ngày hội nghị ký kết"), validators=[Optional()])
    meeting_place = StringField(_l("Địa điểm hội nghị"), validators=[Optional(), max_length(255)])
    recipients = TextAreaField(
        _l("Nơi nhận (mỗi dòng một nơi)"), validators=[Optional(), max_length(4000)], render_kw={"rows": 3}
    )


class SignForm(PortalForm):
    representative_name = StringField(_l("Họ và tên người ký"), validators=[required(), max_length(128)])
    representative_position = StringField(
        _l("Chức vụ"),
        validators=[required(), max_length(128)],
        render_kw={"placeholder": _l("Chủ tịch UBND / Giám đốc")},
    )
    signed_on = VNDateField(_l("Ngày ký"), validators=[required(_l("Nhập ngày ký."))])


class TargetForm(PortalForm):
    target = VNDecimalField(_l("Chỉ tiêu đăng ký"), places=None, validators=[Optional()])
    note = StringField(_l("Ghi chú"), validators=[Optional(), max_length(2000)])
