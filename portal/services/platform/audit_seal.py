"""The sealer: chains committed audit entries in batches, so writers never queue behind one another.

A writer inserts its entries with its change, in the same transaction, without lock and without hash.
A sealer then takes the advisory lock `SEAL_LOCK_KEY` for a short transaction of its own, reads the
entries that have no seal yet (in id order), chains them after the last seal and inserts one row of
`audit_seals` per entry: position (1, 2, 3 … in sealing order), entry id, previous hash and hash over
the entry's fields (`audit_chain.entry_hash`, the same as the chain before the sealer). Chain order is
sealing order: an entry whose transaction committed late (a lower id after a higher one was sealed) is
sealed in a later batch; nothing is ever inserted behind the head. Sealing twice is a no-op.

Positions are handed out under the lock, hence in the order entries became visible: the newest position
is the portal's data version (`platform.live.data_version`), and a stretch of positions is a stretch of
the log that a cache has or has not looked at (`results.invalidation.touched`).

Who seals (docs/reference/audit-log.md): on PostgreSQL every session that wrote entries, right after its
commit (`install`: an `after_commit` hook, waiting for a sealer in flight rather than skipping, so the
request answers only once its entries are sealed); a reader whose data version lags the newest entry;
`flask audit seal` (cron), `flask audit verify`, `flask backup` and the log page. On SQLite writers are
serialised anyway: the writer seals its entries in its own transaction, once, just before it commits
(`before_commit`), so a transaction of many flushes seals them in one batch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from portal.models.audit import AuditEntry, AuditSeal
from portal.services.platform import audit_chain

SEAL_LOCK_KEY = 7_420_552  # any constant; names the advisory lock that hands out seal positions
BATCH = 1000
AFTER_NEWEST = None  # `floor` for "the entries after the newest sealed one" (one index lookup)
_FLOOR = "audit_seal_floor"  # session.info: the lowest id of the entries this transaction wrote
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Unsealed:
    count: int
    oldest: object  # the oldest unsealed entry's time (UTC), None when there is none


def _lock(connection: Connection, wait: bool) -> bool:
    if connection.dialect.name != "postgresql":
        return True  # SQLite: one writer at a time already
    if connection.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SEAL_LOCK_KEY}):
        return True  # the usual case: one statement
    if wait:  # a sealer in flight: wait for it (a batch takes milliseconds), a stuck one is an error
        connection.execute(text("SET LOCAL lock_timeout = '10s'"))
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEAL_LOCK_KEY})
        return True
    return False


def _batch(connection: Connection, floor: int | None):
    """At most BATCH unsealed entries from `floor` on, in id order, each with the head (position, hash)."""
    newest = select(AuditSeal.position, AuditSeal.hash).order_by(AuditSeal.position.desc()).limit(1).subquery()
    query = (
        select(AuditEntry.id, *(getattr(AuditEntry, name) for name in audit_chain.FIELDS), newest.c.position)
        .add_columns(newest.c.hash.label("head_hash"))
        .outerjoin(newest, text("true"))
        .outerjoin(AuditSeal, AuditSeal.entry_id == AuditEntry.id)
        .where(AuditSeal.entry_id.is_(None))
        .order_by(AuditEntry.id)
        .limit(BATCH)
    )
    if floor is AFTER_NEWEST:
        query = query.where(AuditEntry.id > func.coalesce(select(func.max(AuditSeal.entry_id)).scalar_subquery(), 0))
    elif floor:
        query = query.where(AuditEntry.id >= floor)
    return connection.execute(query).mappings().all()


def seal(connection: Connection, floor: int | None = 0, wait: bool = False) -> int | None:
    """Seal the committed entries without a seal whose id is at least `floor` (0: all of them; AFTER_NEWEST:
    those after the newest sealed entry), inside the caller's transaction. Returns how many were sealed, or
    None when another sealer holds the lock and `wait` is False (it is sealing them: nobody waits)."""
    if not _lock(connection, wait):
        return None
    sealed = 0
    while rows := _batch(connection, floor):
        position, prev = rows[0]["position"] or 0, rows[0]["head_hash"] or audit_chain.GENESIS
        seals = []
        for row in rows:
            position += 1
            digest = audit_chain.entry_hash(prev, row)
            seals.append({"position": position, "entry_id": row["id"], "prev_hash": prev, "hash": digest})
            prev = digest
        connection.execute(insert(AuditSeal), seals)
        sealed += len(seals)
        if len(rows) < BATCH:
            break
    return sealed


def seal_apart(engine: Engine, floor: int | None = 0, wait: bool = False) -> int | None:
    """`seal` in a short transaction of its own (committed on return)."""
    with engine.begin() as connection:
        return seal(connection, floor, wait)


def seal_beside(session: Session, floor: int | None = 0, wait: bool = False) -> int | None:
    """`seal_apart` on the session's engine, outside the session's transaction, on PostgreSQL; None elsewhere
    (SQLite: every writer sealed its own entries already, and a second connection would share the session's)."""
    bind = session.get_bind(mapper=AuditEntry.__mapper__)
    engine = bind.engine if isinstance(bind, Connection) else bind
    if engine.dialect.name != "postgresql":
        return None
    return seal_apart(engine, floor, wait)


def unsealed(connection: Connection) -> Unsealed:
    """How many committed entries have no seal yet, and the oldest one's time."""
    count, oldest = connection.execute(
        select(func.count(AuditEntry.id), func.min(AuditEntry.at))
        .outerjoin(AuditSeal, AuditSeal.entry_id == AuditEntry.id)
        .where(AuditSeal.entry_id.is_(None))
    ).one()
    return Unsealed(count, oldest)


# ------------------------------------------------------------------ the writer's seal, right after its commit


def wrote(session: Session, first_id: int) -> None:
    """The session's transaction inserted entries from id `first_id` on (called by `audit.append`)."""
    floor = session.info.get(_FLOOR)
    session.info[_FLOOR] = first_id if floor is None else min(floor, first_id)


def _before_commit(session: Session) -> None:
    """SQLite: seal this transaction's entries in it, after its last flush (which may write more of them)."""
    if session.get_bind(mapper=AuditEntry.__mapper__).dialect.name == "postgresql":
        return
    session.flush()  # the commit's own flush would come after this hook
    if (floor := session.info.pop(_FLOOR, None)) is not None:
        seal(session.connection(), floor)


def _after_commit(session: Session) -> None:
    floor = session.info.pop(_FLOOR, None)
    if floor is None:
        return
    try:
        # wait for a sealer in flight (a few milliseconds) rather than answer with these entries unsealed
        seal_beside(session, floor, wait=True)
    except DBAPIError:  # the commit has happened: the entries wait for the next sealer (cron: a minute)
        log.warning("audit entries from #%s left unsealed", floor, exc_info=True)


def _forget(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_FLOOR, None)


def install(session_class) -> None:
    """After each commit that wrote entries on PostgreSQL, seal them in a transaction of their own; on
    SQLite, before the commit, in the writer's transaction."""
    from sqlalchemy import event

    if not event.contains(session_class, "after_commit", _after_commit):
        event.listen(session_class, "before_commit", _before_commit)
        event.listen(session_class, "after_commit", _after_commit)
        event.listen(session_class, "after_soft_rollback", _forget)


def links(connection: Connection):
    """The chain's links in position order, each with its entry's fields (`missing` when the entry is gone),
    for `audit_chain.verify`; read in batches."""
    query = (
        select(
            AuditSeal.entry_id.label("id"),
            AuditSeal.prev_hash,
            AuditSeal.hash,
            AuditEntry.id.is_(None).label("missing"),
            *(getattr(AuditEntry, name) for name in audit_chain.FIELDS),
        )
        .outerjoin(AuditEntry, AuditEntry.id == AuditSeal.entry_id)
        .order_by(AuditSeal.position)
        .execution_options(yield_per=2000)
    )
    return (row._mapping for row in connection.execute(query))
