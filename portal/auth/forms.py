from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

REQUIRED = "Vui lòng nhập trường này."


class LoginForm(FlaskForm):
    username = StringField("Tên đăng nhập", validators=[DataRequired(REQUIRED), Length(max=64)])
    password = PasswordField("Mật khẩu", validators=[DataRequired(REQUIRED), Length(max=256)])
    remember = BooleanField("Ghi nhớ đăng nhập")


def strong_password(_form, field):
    value = field.data or ""
    if len(value) < 10:
        raise ValidationError("Mật khẩu phải có ít nhất 10 ký tự.")
    if value.isdigit() or value.isalpha():
        raise ValidationError("Mật khẩu phải có cả chữ và số hoặc ký tự đặc biệt.")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Mật khẩu hiện tại", validators=[DataRequired(REQUIRED)])
    new_password = PasswordField(
        "Mật khẩu mới",
        validators=[DataRequired(REQUIRED), Length(max=256, message="Mật khẩu quá dài."), strong_password],
    )
    confirm = PasswordField(
        "Nhập lại mật khẩu mới",
        validators=[DataRequired(REQUIRED), EqualTo("new_password", message="Hai lần nhập mật khẩu không khớp.")],
    )


class EmptyForm(FlaskForm):
    """A POST-only button: nothing but the CSRF token."""
