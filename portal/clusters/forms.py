from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import VNDateField, max_length, required
from portal.models.org import CLUSTER_KINDS


class ClusterForm(FlaskForm):
    kind = SelectField("Loại", choices=list(CLUSTER_KINDS.items()), default="cluster")
    code = StringField("Mã", validators=[required(), max_length(32)])
    name = StringField("Tên cụm, khối", validators=[required(), max_length(255)])
    description = TextAreaField("Mô tả", validators=[Optional(), max_length(4000)], render_kw={"rows": 2})
    active = BooleanField("Đang hoạt động", default=True)


class ClusterFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Tìm kiếm", validators=[Optional(), max_length(100)])
    kind = SelectField("Loại", choices=[("", "Cụm và khối"), *CLUSTER_KINDS.items()], default="")
    year = IntegerField("Năm", validators=[Optional()])


class AddMemberForm(FlaskForm):
    unit_id = SelectField("Đơn vị", coerce=int, validators=[required("Chọn đơn vị.")])


class MoveForm(FlaskForm):
    step = IntegerField("Bước", validators=[required()])


class TermForm(FlaskForm):
    head_id = SelectField("Trưởng", coerce=int)
    deputy_ids = SelectMultipleField(
        "Phó", coerce=int, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput()
    )
    overseer_id = SelectField("Thành viên Hội đồng phụ trách", coerce=int)
    decision_number = StringField(
        "Số quyết định", validators=[Optional(), max_length(64)], render_kw={"placeholder": "VD: 35/QĐ-HĐTĐKT"}
    )
    decision_date = VNDateField("Ngày ban hành", validators=[Optional()])
    decision_issuer = StringField(
        "Cơ quan ban hành",
        validators=[Optional(), max_length(255)],
        render_kw={"placeholder": "VD: Hội đồng Thi đua - Khen thưởng tỉnh"},
    )
    note = TextAreaField("Ghi chú", validators=[Optional(), max_length(2000)], render_kw={"rows": 2})
