from portal.api.views import bp

__all__ = ["bp"]
