from portal.home.views import bp

__all__ = ["bp"]
