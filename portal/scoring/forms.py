from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import TextAreaField

from portal.forms import Optional, VNDateField, max_length, required


class DeadlineForm(FlaskForm):
    deadline = VNDateField(_l("Hạn chót (hết ngày)"), validators=[Optional()])


class ReturnForm(FlaskForm):
    reason = TextAreaField(_l("Lý do trả lại"), validators=[required(), max_length(2000)])


class ExtendForm(FlaskForm):
    until = VNDateField(_l("Gia hạn đến hết ngày"), validators=[required()])


class ImportForm(FlaskForm):
    file = FileField(_l("Tệp Excel đã điền (.xlsx)"))
