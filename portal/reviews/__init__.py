from portal.reviews.views import bp

__all__ = ["bp"]
