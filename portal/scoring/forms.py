"""Forms of the scoring pages: deadlines, return, extension, the Excel import."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import TextAreaField

from portal.forms import Optional, PortalForm, VNDateField, max_length, required


class DeadlineForm(PortalForm):
    deadline = VNDateField(_l("Hạn chót (hết ngày)"), validators=[Optional()])


class ReturnForm(PortalForm):
    reason = TextAreaField(_l("Lý do trả lại"), validators=[required(), max_length(2000)])


class ExtendForm(PortalForm):
    until = VNDateField(_l("Gia hạn đến hết ngày"), validators=[required()])


class ImportForm(PortalForm):
    file = FileField(_l("Tệp Excel đã điền (.xlsx)"))
