"""“Thông báo”: each signed-in user's own notices, the bell, the digest preference and its unsubscribe link."""

from portal.notices.views import bp

__all__ = ["bp"]
