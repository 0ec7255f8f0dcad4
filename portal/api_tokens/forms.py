"""The API token form: a name for a new token."""

from flask_babel import lazy_gettext as _l
from wtforms import StringField

from portal.forms import PortalForm, VNDateField, max_length, required
from portal.services.platform.api_tokens import NAME_MAX


class TokenForm(PortalForm):
    name = StringField(
        _l("Tên khóa"),
        validators=[required(), max_length(NAME_MAX)],
        render_kw={"autocomplete": "off", "placeholder": _l("Ví dụ: Hệ thống một cửa")},
    )
    expires_on = VNDateField(_l("Hết hạn sau ngày (không bắt buộc)"))
