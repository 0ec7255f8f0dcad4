from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SubmitField


class ImportForm(FlaskForm):
    file = FileField(
        "Tệp Excel (.xlsx)",
        validators=[
            FileRequired("Chọn tệp Excel cần nhập."),
            FileAllowed(
                ["xlsx"], "Chỉ nhận tệp Excel .xlsx; tệp .xls hoặc .csv hãy mở bằng Excel và lưu lại dạng .xlsx."
            ),
        ],
    )
    check = SubmitField("Kiểm tra trước")
    submit = SubmitField("Nhập dữ liệu")
