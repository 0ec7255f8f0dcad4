"""The JSON API (/api/v1) and the page where each user manages their API tokens (/account/tokens)."""

from portal.api import assessments, views  # noqa: F401 - the API's routes, registered on views.bp
from portal.api import tokens as tokens_page
from portal.api.views import bp

__all__ = ["bp", "tokens_page"]
