"""Live updates: the data version of the portal, and its change announced to open pages through Redis.

Every change of an audited row writes an audit entry in the same transaction, so the newest audit
entry's id is a version of everything the portal shows: it changes whenever a shown number can, and
reading it is one lookup of a primary key's maximum. Pages compare it (ETag, cached standings).

When Redis is configured, `install` makes every session that wrote audited rows publish the new
version on `CHANNEL` once its transaction has committed (never before, never for a rollback), so a
page held open in any gunicorn worker hears of it (`subscribe`, read by the dashboard's
Server-Sent Events stream). Publishing is best effort: a Redis that is down costs a live update,
never a write.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from portal.models.audit import AuditEntry
from portal.models.base import Audited

CHANNEL = "portal:live"
_DIRTY = "live_dirty"
log = logging.getLogger(__name__)


def data_version(session: Session) -> int:
    """The newest audit entry's id (0 before the first): changes with every audited write."""
    return session.scalar(select(func.max(AuditEntry.id))) or 0


def has_writes(session: Session) -> bool:
    """Does the session's transaction hold writes of its own (flushed or pending), not committed yet?
    What it reads then may be rolled back: a cache must neither serve it nor keep it."""
    return bool(session.info.get(_DIRTY) or session.new or session.dirty or session.deleted)


def _mark(session: Session, _flush_context, _instances) -> None:
    if any(isinstance(obj, Audited) for group in (session.new, session.dirty, session.deleted) for obj in group):
        session.info[_DIRTY] = True


def _forget(session: Session, previous_transaction) -> None:
    """A rolled-back transaction announces nothing (a savepoint's rollback leaves the outer changes marked)."""
    if not previous_transaction.nested:
        session.info.pop(_DIRTY, None)


_publisher: Callable[[str], None] | None = None


def _after_commit(session: Session) -> None:
    if session.info.pop(_DIRTY, None) and _publisher is not None:
        try:
            _publisher("changed")
        except Exception:  # a live update is a convenience: the commit has happened whatever Redis says
            log.warning("live update not published", exc_info=True)


def install(session_class, publisher: Callable[[str], None] | None) -> None:
    """After each commit that wrote audited rows, call `publisher` with a short message (once per commit).

    One process serves one app: the app being created sets the publisher (None: nothing is published)."""
    global _publisher
    _publisher = publisher
    if not event.contains(session_class, "before_flush", _mark):
        event.listen(session_class, "before_flush", _mark)
        event.listen(session_class, "after_soft_rollback", _forget)
        event.listen(session_class, "after_commit", _after_commit)


def redis_publisher(client) -> Callable[[str], None]:
    """A publisher sending to `CHANNEL` with a Redis client."""
    return lambda message: client.publish(CHANNEL, message)


def subscribe(client, seconds: float, tick: float = 1.0) -> Iterator[str | None]:
    """Messages on `CHANNEL` for at most `seconds`: each message, or None after `tick` seconds of quiet
    (so the caller can send a keep-alive); the subscription is closed at the end."""
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(CHANNEL)
    try:
        ends = time.monotonic() + seconds
        while (left := ends - time.monotonic()) > 0:
            message = pubsub.get_message(timeout=min(tick, left))
            if message is None:
                yield None
            elif message.get("type") == "message":
                data = message["data"]
                yield data.decode() if isinstance(data, bytes) else str(data)
    finally:
        pubsub.close()
