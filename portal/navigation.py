"""The main menu: an entry shows when its area is installed and the user may use it."""

from flask import current_app

from portal.policy import Principal, can

# (endpoint, label, action the user needs or None for any signed-in user)
MENU = (
    ("home.index", "Trang chủ", None),
    ("clusters.index", "Cụm, khối", "view_clusters"),
    ("units.index", "Đơn vị", "manage_units"),
    ("years.index", "Năm thi đua", "manage_years"),
    ("council.index", "Hội đồng", "manage_council"),
    ("accounts.index", "Tài khoản", "manage_users"),
    ("criteria.templates", "Mẫu tiêu chí", "manage_templates"),
    ("transfer.index", "Excel", "import_export"),
    ("audit_log.index", "Nhật ký", "view_audit"),
)


def menu_for(principal: Principal) -> list[tuple[str, str]]:
    installed = current_app.view_functions
    return [
        (endpoint, label)
        for endpoint, label, action in MENU
        if endpoint in installed and (action is None or can(principal, action))
    ]
