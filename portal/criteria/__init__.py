from portal.criteria.views import bp

__all__ = ["bp"]
