from portal.years.views import bp

__all__ = ["bp"]
