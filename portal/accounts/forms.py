"""Forms of the accounts pages: create and edit an account, filter the list."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Optional

from portal.forms import PortalForm, max_length, required
from portal.models.users import USER_KINDS

KIND_CHOICES = [(code, _l(label)) for code, label in USER_KINDS.items()]


def optional_id(value) -> int:
    """A select's value as an id, 0 for "none chosen" or anything that is not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class AccountForm(PortalForm):
    # Choices are checked by the service, which explains in Vietnamese what is wrong.
    kind = SelectField(_l("Loại tài khoản"), choices=KIND_CHOICES, default="unit", validate_choice=False)
    unit_id = SelectField(_l("Đơn vị"), coerce=optional_id, validate_choice=False)
    council_member_id = SelectField(_l("Thành viên Hội đồng"), coerce=optional_id, validate_choice=False)
    username = StringField(
        _l("Tên đăng nhập"),
        validators=[required(), max_length(64)],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    full_name = StringField(_l("Họ và tên"), validators=[required(), max_length(128)])
    email = StringField(_l("E-mail"), validators=[Optional(), max_length(255)], render_kw={"type": "email"})


class AccountEditForm(PortalForm):
    full_name = StringField(_l("Họ và tên"), validators=[required(), max_length(128)])
    email = StringField(_l("E-mail"), validators=[Optional(), max_length(255)], render_kw={"type": "email"})
    active = BooleanField(_l("Đang hoạt động"))


class AccountFilterForm(PortalForm):
    class Meta:
        csrf = False

    q = StringField(_l("Tìm kiếm"), validators=[Optional(), max_length(100)])
    kind = SelectField(_l("Loại tài khoản"), choices=[("", _l("Tất cả loại tài khoản")), *KIND_CHOICES], default="")
    status = SelectField(
        _l("Tình trạng"),
        choices=[("all", _l("Mọi tình trạng")), ("active", _l("Đang hoạt động")), ("inactive", _l("Đã khóa"))],
        default="all",
    )
