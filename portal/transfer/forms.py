"""The organisation Excel import form."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SubmitField

from portal.forms import PortalForm


class ImportForm(PortalForm):
    file = FileField(
        _l("Tệp Excel (.xlsx)"),
        validators=[
            FileRequired(_l("Chọn tệp Excel cần nhập.")),
            FileAllowed(
                ["xlsx"], _l("Chỉ nhận tệp Excel .xlsx; tệp .xls hoặc .csv hãy mở bằng Excel và lưu lại dạng .xlsx.")
            ),
        ],
    )
    check = SubmitField(_l("Kiểm tra trước"))
    submit = SubmitField(_l("Nhập dữ liệu"))
