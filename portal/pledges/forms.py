from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from portal.criteria.forms import VNDecimalField
from portal.forms import VNDateField, max_length, required


class PledgeForm(FlaskForm):
    title = StringField("Tên giao ước", validators=[required(), max_length(255)])
    number_symbol = StringField(
        "Số, ký hiệu", validators=[Optional(), max_length(64)], render_kw={"placeholder": "Số: 01/GƯTĐ-K01"}
    )
    place = StringField(
        "Địa danh (dòng ngày tháng)", validators=[Optional(), max_length(128)], render_kw={"placeholder": "Cao Lãnh"}
    )
    legal_grounds = TextAreaField(
        "Căn cứ (mỗi dòng một căn cứ)", validators=[Optional(), max_length(8000)], render_kw={"rows": 4}
    )
    goals = TextAreaField("Mục tiêu", validators=[Optional(), max_length(8000)], render_kw={"rows": 3})
    commitments = TextAreaField(
        "Nội dung cam kết (mỗi dòng một nội dung)", validators=[required(), max_length(16000)], render_kw={"rows": 7}
    )
    criteria_set_id = SelectField("Bảng tiêu chí gắn với giao ước", coerce=int, validate_choice=False)
    meeting_date = VNDateField("Ngày hội nghị ký kết", validators=[Optional()])
    meeting_place = StringField("Địa điểm hội nghị", validators=[Optional(), max_length(255)])
    recipients = TextAreaField(
        "Nơi nhận (mỗi dòng một nơi)", validators=[Optional(), max_length(4000)], render_kw={"rows": 3}
    )


class SignForm(FlaskForm):
    representative_name = StringField("Họ và tên người ký", validators=[required(), max_length(128)])
    representative_position = StringField(
        "Chức vụ", validators=[required(), max_length(128)], render_kw={"placeholder": "Chủ tịch UBND / Giám đốc"}
    )
    signed_on = VNDateField("Ngày ký", validators=[required("Nhập ngày ký.")])


class TargetForm(FlaskForm):
    target = VNDecimalField("Chỉ tiêu đăng ký", places=None, validators=[Optional()])
    note = StringField("Ghi chú", validators=[Optional(), max_length(2000)])
