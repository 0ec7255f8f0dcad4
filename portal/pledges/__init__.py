from portal.pledges.views import bp

__all__ = ["bp"]
