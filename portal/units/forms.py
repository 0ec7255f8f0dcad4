"""Forms of the unit pages: a unit, the filter, rename, merge, retire."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from portal.forms import PortalForm, VNDateField, max_length, required
from portal.models.org import SECTORS

SECTOR_CHOICES = [(code, _l(label)) for code, label in SECTORS.items()]


class UnitForm(PortalForm):
    name = StringField(_l("Tên đơn vị"), validators=[required(), max_length(255)])
    short_name = StringField(_l("Tên viết tắt"), validators=[Optional(), max_length(64)])
    sector = SelectField(_l("Loại hình"), choices=SECTOR_CHOICES, default="other")
    address = StringField(_l("Địa chỉ"), validators=[Optional(), max_length(255)])


class UnitFilterForm(PortalForm):
    class Meta:
        csrf = False

    q = StringField(_l("Tìm kiếm"), validators=[Optional(), max_length(100)])
    sector = SelectField(_l("Loại hình"), choices=[("", _l("Tất cả loại hình")), *SECTOR_CHOICES], default="")
    status = SelectField(
        _l("Tình trạng"),
        choices=[("active", _l("Đang hoạt động")), ("retired", _l("Đã ngừng hoạt động")), ("all", _l("Tất cả"))],
        default="active",
    )


class _ChangeForm(PortalForm):
    effective_on = VNDateField(_l("Ngày hiệu lực"), validators=[required(_l("Nhập ngày hiệu lực."))])
    decision_ref = StringField(_l("Số, ký hiệu quyết định"), validators=[Optional(), max_length(128)])
    note = TextAreaField(_l("Ghi chú"), validators=[Optional(), max_length(2000)], render_kw={"rows": 2})


class RenameForm(_ChangeForm):
    new_name = StringField(_l("Tên mới"), validators=[required(), max_length(255)])


class MergeForm(_ChangeForm):
    successor_id = SelectField(
        _l("Sáp nhập vào đơn vị"), coerce=int, validators=[required(_l("Chọn đơn vị tiếp nhận."))]
    )


class RetireForm(_ChangeForm):
    pass
