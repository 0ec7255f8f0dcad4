from portal.evidence.views import bp

__all__ = ["bp"]
