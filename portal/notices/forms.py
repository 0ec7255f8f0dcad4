"""The digest preference: one check box."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField

from portal.forms import PortalForm


class DigestForm(PortalForm):
    digest = BooleanField(_l("Nhận thư tổng hợp các thông báo chưa đọc qua e-mail (tối đa một thư mỗi ngày)"))
