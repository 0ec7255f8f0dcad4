from portal.scoring.views import bp

__all__ = ["bp"]
