from portal.results.views import bp

__all__ = ["bp"]
