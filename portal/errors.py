"""Error pages in the user's language: the page's `content` block for an htmx fragment request, the whole page
otherwise (a boosted link or a history restore swaps the whole body); `Vary: HX-Request` on both."""

from flask import Flask, Response, current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError

from portal.extensions import db
from portal.htmx import render

MESSAGES = {
    400: (_l("Yêu cầu không hợp lệ"), _l("Dữ liệu gửi lên không hợp lệ.")),
    403: (_l("Không có quyền"), _l("Bạn không có quyền thực hiện thao tác này.")),
    404: (_l("Không tìm thấy"), _l("Trang hoặc dữ liệu bạn tìm không tồn tại hoặc bạn không có quyền xem.")),
    405: (_l("Phương thức không được phép"), _l("Thao tác này không thực hiện được theo cách đó.")),
    413: (_l("Tệp quá lớn"), _l("Tệp gửi lên vượt quá dung lượng cho phép.")),
    414: (_l("Địa chỉ quá dài"), _l("Địa chỉ trang (phần bộ lọc sau dấu ?) quá dài. Vui lòng rút gọn bộ lọc.")),
    429: (_l("Quá nhiều yêu cầu"), _l("Bạn đã thử quá nhiều lần. Vui lòng thử lại sau.")),
    500: (_l("Lỗi hệ thống"), _l("Đã có lỗi xảy ra. Thao tác chưa được lưu; vui lòng thử lại.")),
}


def page(code: int, detail: str | None = None) -> Response:
    """The error page for `code`, with `detail` instead of the code's usual message when given."""
    title, message = MESSAGES.get(code, MESSAGES[500])
    return render("errors/error.html", block="content", status=code, code=code, title=title, message=detail or message)


def register(app: Flask) -> None:
    for code in (400, 403, 404, 405, 413, 414, 429):
        app.register_error_handler(code, lambda e, code=code: page(code))

    @app.errorhandler(CSRFError)
    def csrf_error(_e):
        return page(
            400, _("Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ (CSRF). Vui lòng tải lại trang và thử lại.")
        )

    @app.errorhandler(DataError)
    def data_error(error):
        """The database refused a value (a NUL byte, a number or text beyond its column): the request was
        bad, nothing was saved. Forms and query strings are checked before this; reaching here is a gap
        in those checks, hence the log entry."""
        db.session.rollback()
        current_app.logger.warning("Value refused by the database on %s %s: %s", request.method, request.path, error)
        return page(400)

    @app.errorhandler(500)
    def internal_error(_e):
        db.session.rollback()
        return page(500)
