"""The JSON API (/api/v1). The page where each user manages their API tokens is `portal.api_tokens`."""

from portal.api import assessments, results, views  # noqa: F401 - the API's routes, registered on views.bp
from portal.api.views import bp

__all__ = ["bp"]
