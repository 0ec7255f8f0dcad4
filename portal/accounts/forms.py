from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Optional

from portal.forms import max_length, required
from portal.models.users import USER_KINDS


def optional_id(value) -> int:
    """A select's value as an id, 0 for "none chosen" or anything that is not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class AccountForm(FlaskForm):
    # Choices are checked by the service, which explains in Vietnamese what is wrong.
    kind = SelectField("Loại tài khoản", choices=list(USER_KINDS.items()), default="unit", validate_choice=False)
    unit_id = SelectField("Đơn vị", coerce=optional_id, validate_choice=False)
    council_member_id = SelectField("Thành viên Hội đồng", coerce=optional_id, validate_choice=False)
    username = StringField(
        "Tên đăng nhập",
        validators=[required(), max_length(64)],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    full_name = StringField("Họ và tên", validators=[required(), max_length(128)])
    email = StringField("E-mail", validators=[Optional(), max_length(255)], render_kw={"type": "email"})


class AccountEditForm(FlaskForm):
    full_name = StringField("Họ và tên", validators=[required(), max_length(128)])
    email = StringField("E-mail", validators=[Optional(), max_length(255)], render_kw={"type": "email"})
    active = BooleanField("Đang hoạt động")


class AccountFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Tìm kiếm", validators=[Optional(), max_length(100)])
    kind = SelectField("Loại tài khoản", choices=[("", "Tất cả loại tài khoản"), *USER_KINDS.items()], default="")
    status = SelectField(
        "Tình trạng",
        choices=[("all", "Mọi tình trạng"), ("active", "Đang hoạt động"), ("inactive", "Đã khóa")],
        default="all",
    )
