from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Optional

from portal.forms import VNDateField, max_length, required
from portal.models.org import SECTORS


class UnitForm(FlaskForm):
    name = StringField("Tên đơn vị", validators=[required(), max_length(255)])
    short_name = StringField("Tên viết tắt", validators=[Optional(), max_length(64)])
    sector = SelectField("Loại hình", choices=list(SECTORS.items()), default="other")
    address = StringField("Địa chỉ", validators=[Optional(), max_length(255)])


class UnitFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Tìm kiếm", validators=[Optional(), max_length(100)])
    sector = SelectField("Loại hình", choices=[("", "Tất cả loại hình"), *SECTORS.items()], default="")
    status = SelectField(
        "Tình trạng",
        choices=[("active", "Đang hoạt động"), ("retired", "Đã ngừng hoạt động"), ("all", "Tất cả")],
        default="active",
    )


class _ChangeForm(FlaskForm):
    effective_on = VNDateField("Ngày hiệu lực", validators=[required("Nhập ngày hiệu lực.")])
    decision_ref = StringField("Số, ký hiệu quyết định", validators=[Optional(), max_length(128)])
    note = TextAreaField("Ghi chú", validators=[Optional(), max_length(2000)], render_kw={"rows": 2})


class RenameForm(_ChangeForm):
    new_name = StringField("Tên mới", validators=[required(), max_length(255)])


class MergeForm(_ChangeForm):
    successor_id = SelectField("Sáp nhập vào đơn vị", coerce=int, validators=[required("Chọn đơn vị tiếp nhận.")])


class MergeManyForm(_ChangeForm):
    predecessor_ids = SelectMultipleField("Các đơn vị bị sáp nhập", coerce=int)


class RetireForm(_ChangeForm):
    pass
