"""The main menu: an entry shows when its area is installed and the user may use it."""

from flask import current_app
from flask_babel import lazy_pgettext

from portal.policy import Principal, can

# (endpoint, label, action the user needs or None for any signed-in user); the "menu" context names
# the areas (plural in English), apart from the same words used as a field label.
MENU = (
    ("home.index", lazy_pgettext("menu", "Trang chủ"), None),
    ("dashboard.index", lazy_pgettext("menu", "Tổng hợp"), "view_dashboard"),
    ("clusters.index", lazy_pgettext("menu", "Cụm, khối"), "view_clusters"),
    ("units.index", lazy_pgettext("menu", "Đơn vị"), "manage_units"),
    ("years.index", lazy_pgettext("menu", "Năm thi đua"), "manage_years"),
    ("council.index", lazy_pgettext("menu", "Hội đồng"), "manage_council"),
    ("accounts.index", lazy_pgettext("menu", "Tài khoản"), "manage_users"),
    ("criteria.templates", lazy_pgettext("menu", "Mẫu tiêu chí"), "manage_templates"),
    ("transfer.index", lazy_pgettext("menu", "Excel"), "import_export"),
    ("audit_log.index", lazy_pgettext("menu", "Nhật ký"), "view_audit"),
)


def menu_for(principal: Principal) -> list[tuple[str, str]]:
    installed = current_app.view_functions
    return [
        (endpoint, label)
        for endpoint, label, action in MENU
        if endpoint in installed and (action is None or can(principal, action))
    ]
