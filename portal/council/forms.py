"""Forms of the council pages: a member, the filter, confirmation buttons."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import Optional, Regexp

from portal.forms import PortalForm, max_length, required
from portal.models.org import COUNCIL_ROLES

# A simple shape check: something@domain.tld, no spaces. Delivery proves the rest.
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE = r"^[0-9+ ]+$"
ROLE_CHOICES = [(code, _l(label)) for code, label in COUNCIL_ROLES.items()]


def _strip(value):
    """Trim pasted spaces before the format checks run."""
    return value.strip() if isinstance(value, str) else value


class CouncilMemberForm(PortalForm):
    full_name = StringField(_l("Họ và tên"), validators=[required(), max_length(128)], filters=[_strip])
    position = StringField(
        _l("Chức vụ"),
        validators=[Optional(), max_length(255)],
        filters=[_strip],
        render_kw={"placeholder": _l("VD: Giám đốc Sở Nội vụ")},
    )
    organisation = StringField(_l("Cơ quan, đơn vị"), validators=[Optional(), max_length(255)], filters=[_strip])
    council_role = SelectField(_l("Vai trò trong Hội đồng"), choices=ROLE_CHOICES, default="member")
    phone = StringField(
        _l("Điện thoại"),
        filters=[_strip],
        render_kw={"inputmode": "tel"},
        validators=[
            Optional(),
            max_length(32),
            Regexp(PHONE, message=_l("Số điện thoại chỉ gồm chữ số, dấu cách và dấu +.")),
        ],
    )
    email = StringField(
        _l("E-mail"),
        filters=[_strip],
        render_kw={"inputmode": "email"},
        validators=[
            Optional(),
            max_length(255),
            Regexp(EMAIL, message=_l("Địa chỉ e-mail không hợp lệ, ví dụ: ten@snv.gov.vn.")),
        ],
    )


class CouncilFilterForm(PortalForm):
    class Meta:
        csrf = False

    q = StringField(_l("Tìm kiếm"), validators=[Optional(), max_length(100)])
    council_role = SelectField(_l("Vai trò"), choices=[("", _l("Mọi vai trò")), *ROLE_CHOICES], default="")
    status = SelectField(
        _l("Tình trạng"),
        choices=[("active", _l("Đang hoạt động")), ("inactive", _l("Đã ngừng hoạt động")), ("all", _l("Tất cả"))],
        default="active",
    )


class ConfirmForm(PortalForm):
    """A POST-only button: nothing but the CSRF token."""
