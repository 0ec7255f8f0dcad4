from portal.council.views import bp

__all__ = ["bp"]
