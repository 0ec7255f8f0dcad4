from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Optional, Regexp

from portal.forms import max_length, required
from portal.models.org import COUNCIL_ROLES

# A simple shape check: something@domain.tld, no spaces. Delivery proves the rest.
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE = r"^[0-9+ ]+$"


def _strip(value):
    """Trim pasted spaces before the format checks run."""
    return value.strip() if isinstance(value, str) else value


class CouncilMemberForm(FlaskForm):
    full_name = StringField("Họ và tên", validators=[required(), max_length(128)], filters=[_strip])
    position = StringField(
        "Chức vụ",
        validators=[Optional(), max_length(255)],
        filters=[_strip],
        render_kw={"placeholder": "VD: Giám đốc Sở Nội vụ"},
    )
    organisation = StringField("Cơ quan, đơn vị", validators=[Optional(), max_length(255)], filters=[_strip])
    council_role = SelectField("Vai trò trong Hội đồng", choices=list(COUNCIL_ROLES.items()), default="member")
    phone = StringField(
        "Điện thoại",
        filters=[_strip],
        render_kw={"inputmode": "tel"},
        validators=[
            Optional(),
            max_length(32),
            Regexp(PHONE, message="Số điện thoại chỉ gồm chữ số, dấu cách và dấu +."),
        ],
    )
    email = StringField(
        "E-mail",
        filters=[_strip],
        render_kw={"inputmode": "email"},
        validators=[
            Optional(),
            max_length(255),
            Regexp(EMAIL, message="Địa chỉ e-mail không hợp lệ, ví dụ: ten@snv.gov.vn."),
        ],
    )


class CouncilFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Tìm kiếm", validators=[Optional(), max_length(100)])
    council_role = SelectField("Vai trò", choices=[("", "Mọi vai trò"), *COUNCIL_ROLES.items()], default="")
    status = SelectField(
        "Tình trạng",
        choices=[("active", "Đang hoạt động"), ("inactive", "Đã ngừng hoạt động"), ("all", "Tất cả")],
        default="active",
    )


class ConfirmForm(FlaskForm):
    """A POST-only button: nothing but the CSRF token."""
