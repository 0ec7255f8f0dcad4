from portal.audit_log.views import bp

__all__ = ["bp"]
