from portal.accounts.views import bp

__all__ = ["bp"]
