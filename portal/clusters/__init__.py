from portal.clusters.views import bp

__all__ = ["bp"]
