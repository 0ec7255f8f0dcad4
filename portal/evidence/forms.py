"""The evidence upload form."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired

from portal.forms import PortalForm


class UploadForm(PortalForm):
    """One evidence file; its kind and size are judged on the server by its content (services.evidence)."""

    file = FileField(_l("Tệp minh chứng"), validators=[FileRequired(_l("Chọn tệp để tải lên."))])
