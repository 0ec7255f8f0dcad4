from portal.api_tokens.views import bp

__all__ = ["bp"]
