"""gunicorn's settings, read from the working directory by every `gunicorn … "portal:create_app()"`.

gunicorn answers a request line over `limit_request_line` bytes itself, with a bare HTML 414.
The portal refuses query strings over 4 KB on its own (portal.routing.MAX_QUERY_STRING): a page
in Vietnamese, problem+json under /api/v1. The longest line gunicorn allows (8190 bytes) leaves
that answer to the portal for every query string up to twice its limit.
"""

limit_request_line = 8190
