"""Live updates: the data version of the portal, and its change announced to open pages through Redis.

Every change of an audited row writes an audit entry in the same transaction, and the sealer hands out
the entries' seal positions one after the other, in the order they became visible
(`platform.audit_seal`): the newest seal position is a version of everything the portal shows. It
changes whenever a shown number can, and reading it is a few index lookups. Pages compare it (ETag,
cached standings and reports). (The newest entry id would not do: without a lock over every writer,
a lower id can commit after a higher one was seen.)

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
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from portal.models.audit import AuditEntry, AuditSeal
from portal.models.base import Audited
from portal.services.platform import audit_seal

CHANNEL = "portal:live"
_DIRTY = "live_dirty"
log = logging.getLogger(__name__)


_UNSEALED = "live_unsealed"
_VERSION = "live_version"  # the data version this transaction has read (forgotten when it writes or ends)


def version_columns() -> tuple:
    """(newest entry id, newest sealed entry id, newest seal position) as columns: three index lookups, to
    read alone (`data_version`) or beside what a page reads first anyway (`adopt_version`)."""
    return (
        select(func.max(AuditEntry.id)).scalar_subquery(),
        select(func.max(AuditSeal.entry_id)).scalar_subquery(),
        select(func.max(AuditSeal.position)).scalar_subquery(),
    )


def _versions(session: Session) -> tuple[int, int, int]:
    """(newest entry id, newest sealed entry id, newest seal position): three index lookups, one statement."""
    newest, sealed, position = session.execute(select(*version_columns())).one()
    return newest or 0, sealed or 0, position or 0


def adopt_version(session: Session, newest: int | None, sealed: int | None, position: int | None) -> None:
    """`version_columns` read in another statement of this transaction, taken as this transaction's data
    version when every entry is sealed and none is known yet (otherwise `data_version` reads and seals as
    ever). The same moment as the rows read beside them: nothing a page reads after them is older."""
    if _VERSION in session.info or has_writes(session) or (newest or 0) > (sealed or 0):
        return
    session.info[_VERSION] = position or 0


def data_version(session: Session) -> int:
    """The newest seal position (0 before the first): changes with every audited write once it is sealed.

    A writing request seals its entries before it answers; when the newest entry has no seal yet (its writer
    is between its commit and its seal, or died there), this seals first (waiting for a sealer in flight), so
    a version never leaves out a write that has been answered. When that cannot be done (SQLite reading
    entries it did not seal itself, a lock timeout), the session is marked: caches compute instead (`has_writes`).
    """
    if (known := session.info.get(_VERSION)) is not None:
        return known
    newest, sealed, position = _versions(session)
    if newest > sealed:
        try:
            done = audit_seal.seal_beside(session, sealed + 1, wait=True)
        except DBAPIError:
            done = None
            log.warning("could not seal the newest audit entries", exc_info=True)
        if done is None:
            session.info[_UNSEALED] = True
        else:
            position = _versions(session)[2]
    session.info[_VERSION] = position  # once per transaction: a page and its caches read the same version
    return position


def has_writes(session: Session) -> bool:
    """Does the session's transaction hold writes of its own (flushed or pending), not committed yet?
    What it reads then may be rolled back: a cache must neither serve it nor keep it. (Also true when
    this request's data version could not be made to cover every committed entry: see `data_version`.)"""
    return bool(
        session.info.get(_DIRTY) or session.info.get(_UNSEALED) or session.new or session.dirty or session.deleted
    )


def _mark(session: Session, _flush_context, _instances) -> None:
    if any(isinstance(obj, Audited) for group in (session.new, session.dirty, session.deleted) for obj in group):
        session.info[_DIRTY] = True
        session.info.pop(_VERSION, None)


def forget_version(session: Session) -> None:
    """This transaction has written audit entries: the version it read no longer covers them."""
    session.info.pop(_VERSION, None)


def _end(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_VERSION, None)


def _forget(session: Session, previous_transaction) -> None:
    """A rolled-back transaction announces nothing (a savepoint's rollback leaves the outer changes marked)."""
    if not previous_transaction.nested:
        session.info.pop(_DIRTY, None)
        session.info.pop(_UNSEALED, None)  # the next transaction reads the data version again


_publisher: Callable[[str], None] | None = None


def _after_commit(session: Session) -> None:
    session.info.pop(_UNSEALED, None)
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
        event.listen(session_class, "after_transaction_end", _end)


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
