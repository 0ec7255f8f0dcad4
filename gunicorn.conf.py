"""gunicorn's settings, read from the working directory by every `gunicorn … "portal:create_app()"`.

gunicorn answers a request line over `limit_request_line` bytes itself, with a bare HTML 414.
The portal refuses query strings over 4 KB on its own (portal.routing.MAX_QUERY_STRING): a page
in Vietnamese, problem+json under /api/v1. The longest line gunicorn allows (8190 bytes) leaves
that answer to the portal for every query string up to twice its limit.

Once a worker has loaded the app, the objects it holds for its whole life (modules, the app, its
compiled templates and SQLAlchemy's mappings: about 160 000) are moved out of the garbage collector's
reach (`gc.freeze`). Otherwise every full collection walks them all again: 190 ms on the shared 2-core
machine of bench/README.md ("SQLite at province scale"), paid by whichever request triggers it; 14 ms
once frozen.
"""

import gc

limit_request_line = 8190


def post_worker_init(worker):
    """After the worker has imported and created the app: its long-lived objects leave the collector."""
    gc.freeze()
