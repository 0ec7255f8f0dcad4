"""Forms of signing in and out, the password change, and buttons without fields."""

from flask import current_app, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from portal.forms import PortalForm
from portal.services.platform import passwords

REQUIRED = _l("Vui lòng nhập trường này.")


class LoginForm(PortalForm):
    username = StringField(_l("Tên đăng nhập"), validators=[DataRequired(REQUIRED), Length(max=64)])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(REQUIRED), Length(max=256)])
    remember = BooleanField(_l("Ghi nhớ đăng nhập"))


def _account_words() -> tuple[str, list[str]]:
    """What an attacker tries first for this account: the username; the person's, unit's and province's names."""
    if not has_request_context():
        return "", []
    names = [current_app.config["PROVINCE_NAME"]]
    if not current_user.is_authenticated:
        return "", names
    names.append(current_user.full_name)
    if current_user.unit is not None:
        names += [current_user.unit.name, current_user.unit.short_name or ""]
    return current_user.username, names


def strong_password(_form, field):
    """The password policy of services.passwords, with its reason in the user's language."""
    username, names = _account_words()
    reason = passwords.problem(field.data or "", username=username, names=names)
    if reason is not None:
        raise ValidationError(_(passwords.REASONS[reason]))


class ChangePasswordForm(PortalForm):
    current_password = PasswordField(_l("Mật khẩu hiện tại"), validators=[DataRequired(REQUIRED)])
    new_password = PasswordField(
        _l("Mật khẩu mới"),
        validators=[DataRequired(REQUIRED), Length(max=256, message=_l("Mật khẩu quá dài.")), strong_password],
    )
    confirm = PasswordField(
        _l("Nhập lại mật khẩu mới"),
        validators=[DataRequired(REQUIRED), EqualTo("new_password", message=_l("Hai lần nhập mật khẩu không khớp."))],
    )
