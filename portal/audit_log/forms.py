"""The audit log's filter form."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import Optional, ValidationError

from portal.forms import PortalForm, VNDateField, max_length
from portal.models.audit import ACTIONS


class AuditFilterForm(PortalForm):
    """Filters of the audit log, read from the query string."""

    class Meta:
        csrf = False

    # Object types are those present in the log, set by the view; an unknown one simply finds nothing.
    object_type = SelectField(
        _l("Loại đối tượng"), choices=[("", _l("Mọi loại đối tượng"))], default="", validate_choice=False
    )
    object_id = StringField(_l("Mã đối tượng"), validators=[Optional(), max_length(64)])
    user = StringField(_l("Người thực hiện"), validators=[Optional(), max_length(64)])
    action = SelectField(
        _l("Thao tác"),
        choices=[("", _l("Mọi thao tác")), *((code, _l(label)) for code, label in ACTIONS.items())],
        default="",
        validate_choice=False,
    )
    date_from = VNDateField(_l("Từ ngày"))
    date_to = VNDateField(_l("Đến ngày"))

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("“Đến ngày” phải sau hoặc trùng “Từ ngày”."))
