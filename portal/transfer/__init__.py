from portal.transfer.views import bp

__all__ = ["bp"]
