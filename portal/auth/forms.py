from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

REQUIRED = _l("Vui lòng nhập trường này.")


class LoginForm(FlaskForm):
    username = StringField(_l("Tên đăng nhập"), validators=[DataRequired(REQUIRED), Length(max=64)])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(REQUIRED), Length(max=256)])
    remember = BooleanField(_l("Ghi nhớ đăng nhập"))


def strong_password(_form, field):
    value = field.data or ""
    if len(value) < 10:
        raise ValidationError(_l("Mật khẩu phải có ít nhất 10 ký tự."))
    if value.isdigit() or value.isalpha():
        raise ValidationError(_l("Mật khẩu phải có cả chữ và số hoặc ký tự đặc biệt."))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Mật khẩu hiện tại"), validators=[DataRequired(REQUIRED)])
    new_password = PasswordField(
        _l("Mật khẩu mới"),
        validators=[DataRequired(REQUIRED), Length(max=256, message=_l("Mật khẩu quá dài.")), strong_password],
    )
    confirm = PasswordField(
        _l("Nhập lại mật khẩu mới"),
        validators=[DataRequired(REQUIRED), EqualTo("new_password", message=_l("Hai lần nhập mật khẩu không khớp."))],
    )


class EmptyForm(FlaskForm):
    """A POST-only button: nothing but the CSRF token."""
