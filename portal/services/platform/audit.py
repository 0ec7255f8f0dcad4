"""Writes the audit log.

Every insert, update and delete of an `Audited` model is recorded by a session
hook in the same transaction as the change itself, so nothing is changed
without its entry and no entry outlives a rolled-back change. Who acted comes
from a context variable that the web layer (or a CLI command) sets.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from portal.models.audit import AuditEntry
from portal.models.base import Audited, utcnow
from portal.services.platform import audit_seal, live


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str


SYSTEM = Actor(None, "hệ thống")
_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar("audit_actor", default=SYSTEM)


def set_actor(actor: Actor) -> contextvars.Token:
    return _actor.set(actor)


def reset_actor(token: contextvars.Token) -> None:
    """Back to whoever acted before `set_actor` returned `token` (later `set_actor` calls included)."""
    _actor.reset(token)


@contextmanager
def acting_as(actor: Actor):
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def _jsonable(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(action: str, obj, changes: dict) -> dict:
    actor = _actor.get()
    # New rows have their key but no identity yet while the flush is under way.
    ident = inspect(obj).mapper.primary_key_from_instance(obj)
    try:
        label = obj.audit_label()
    except Exception:  # a label must never block a change; ids still identify it
        label = ""
    return {
        "at": utcnow(),
        "user_id": actor.user_id,
        "username": actor.username,
        "action": action,
        "object_type": type(obj).__name__,
        "object_id": ",".join(str(i) for i in ident if i is not None),
        "object_label": label[:255],
        "changes": changes,
        "summary": "",
    }


def _diff(obj, action: str) -> dict:
    state = inspect(obj)
    changes = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in obj.__audit_exclude__ or key in ("created_at",):
            continue
        hist = state.attrs[key].history
        if action == "create":
            value = getattr(obj, key)
            if value not in (None, ""):
                changes[key] = [None, _jsonable(value)]
        elif action == "delete":
            value = state.dict.get(key)  # what was loaded; an expired column reads as None
            changes[key] = [_jsonable(value), None]
        elif hist.has_changes():
            before = hist.deleted[0] if hist.deleted else None
            after = hist.added[0] if hist.added else None
            if before != after:
                changes[key] = [_jsonable(before), _jsonable(after)]
    return changes


def _after_flush(session: Session, _flush_context) -> None:
    rows = []
    for action, objects in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            if not isinstance(obj, Audited):
                continue
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            changes = _diff(obj, action)
            if action == "update" and not changes:
                continue
            rows.append(_row(action, obj, changes))
    if rows:
        append(session, rows)


def append(session: Session, rows: list[dict]) -> None:
    """Insert entries, unchained: no lock, nothing read first, so writers never queue behind one another.

    The sealer chains them (`audit_seal`): on PostgreSQL right after this transaction commits, in a short
    transaction of its own; on SQLite, which serialises writers anyway, just before this transaction commits.
    """
    connection = session.connection()
    ids = connection.execute(insert(AuditEntry).returning(AuditEntry.id), rows).scalars().all()
    live.forget_version(session)
    audit_seal.wrote(session, min(ids))


def _noop(target, value, oldvalue, initiator):
    return value


@event.listens_for(Audited, "mapper_configured", propagate=True)
def _load_old_values(mapper, class_) -> None:
    """Setting an expired attribute (say, after a commit) loads its old value first, so
    the log always has the true 'before', not a blank."""
    for attr in mapper.column_attrs:
        event.listen(getattr(class_, attr.key), "set", _noop, active_history=True, retval=True)


def install(session_class) -> None:
    """Attach the hook once to the session class the app uses (and the sealer's, after each commit)."""
    if not event.contains(session_class, "after_flush", _after_flush):
        event.listen(session_class, "after_flush", _after_flush)
    audit_seal.install(session_class)


def record_event(session: Session, action: str, summary: str, obj=None, changes: dict | None = None) -> None:
    """An entry for something that is not a row change: sign-in, import, password change."""
    actor = _actor.get()
    row = {
        "at": utcnow(),
        "user_id": actor.user_id,
        "username": actor.username,
        "action": action,
        "object_type": type(obj).__name__ if obj is not None else "",
        "object_id": str(obj.id) if obj is not None else "",
        "object_label": (obj.audit_label() if obj is not None else "")[:255],
        "changes": changes or {},
        "summary": summary,
    }
    append(session, [row])
