from portal.units.views import bp

__all__ = ["bp"]
