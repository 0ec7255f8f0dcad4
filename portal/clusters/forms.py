"""Forms of the cluster pages: a cluster, its filter, its members for a year (add, move in the rotation), its term."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import PortalForm, VNDateField, max_length, required
from portal.models.org import CLUSTER_KINDS

KIND_CHOICES = [(code, _l(label)) for code, label in CLUSTER_KINDS.items()]


class ClusterForm(PortalForm):
    kind = SelectField(_l("Loại"), choices=KIND_CHOICES, default="cluster")
    code = StringField(_l("Mã"), validators=[required(), max_length(32)])
    name = StringField(_l("Tên cụm, khối"), validators=[required(), max_length(255)])
    description = TextAreaField(_l("Mô tả"), validators=[Optional(), max_length(4000)], render_kw={"rows": 2})
    active = BooleanField(_l("Đang hoạt động"), default=True)


class ClusterFilterForm(PortalForm):
    class Meta:
        csrf = False

    q = StringField(_l("Tìm kiếm"), validators=[Optional(), max_length(100)])
    kind = SelectField(_l("Loại"), choices=[("", _l("Cụm và khối")), *KIND_CHOICES], default="")
    year = IntegerField(_l("Năm"), validators=[Optional()])


class AddMemberForm(PortalForm):
    unit_id = SelectField(_l("Đơn vị"), coerce=int, validators=[required(_l("Chọn đơn vị."))])


class MoveForm(PortalForm):
    step = IntegerField(_l("Bước"), validators=[required()])


class TermForm(PortalForm):
    head_id = SelectField(_l("Trưởng"), coerce=int)
    deputy_ids = SelectMultipleField(
        _l("Phó"), coerce=int, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput()
    )
    overseer_id = SelectField(_l("Thành viên Hội đồng phụ trách"), coerce=int)
    decision_number = StringField(
        _l("Số quyết định"), validators=[Optional(), max_length(64)], render_kw={"placeholder": _l("VD: 35/QĐ-HĐTĐKT")}
    )
    decision_date = VNDateField(_l("Ngày ban hành"), validators=[Optional()])
    decision_issuer = StringField(
        _l("Cơ quan ban hành"),
        validators=[Optional(), max_length(255)],
        render_kw={"placeholder": _l("VD: Hội đồng Thi đua - Khen thưởng tỉnh")},
    )
    note = TextAreaField(_l("Ghi chú"), validators=[Optional(), max_length(2000)], render_kw={"rows": 2})
