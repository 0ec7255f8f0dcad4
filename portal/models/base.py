"""Shared column helpers, labelled enums for stored codes, and the mixin that puts a model under the audit log."""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DDL, DateTime, Table, event
from sqlalchemy.orm import Mapped, mapped_column

from portal import vntext


def N_(message: str) -> str:
    """Marks a Vietnamese label for the translation catalogue and returns it unchanged.

    Labels stay Vietnamese in the models (services, printouts and Excel files use them as they
    are); templates translate them where they are shown: {{ _(unit.sector_label) }}.
    """
    return message


class LabelledEnum(StrEnum):
    """The codes a column may hold, each with its Vietnamese label: `SELF = "self", N_("Tự chấm")`.

    A member is a `str` equal to its code, so columns stay plain strings: a value read from the
    database compares equal to the member, and templates and forms may keep using the codes.
    """

    label: str

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def labels(cls) -> dict[str, str]:
        """Code → label, in the enum's order (form choices, label lookups in templates)."""
        return {member: member.label for member in cls}


def one_of(column: str, codes: type[StrEnum]) -> str:
    """The CHECK constraint text that keeps `column` to the enum's codes: "stage IN ('self', 'peer')"."""
    quoted = ", ".join(f"'{code}'" for code in codes)
    return f"{column} IN ({quoted})"


def utcnow() -> datetime:
    """Naive UTC timestamp: both SQLite and PostgreSQL store it the same way."""
    return datetime.now(UTC).replace(tzinfo=None)


class Audited:
    """Models whose every insert, update and delete is written to the audit log."""

    __audit_exclude__: frozenset[str] = frozenset()

    def audit_label(self) -> str:
        return getattr(self, "name", None) or f"#{getattr(self, 'id', '?')}"


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


def keep_text_keys(cls, source: str, *, search: tuple[str, ...] = (), person: bool = False) -> None:
    """Recompute a model's stored text keys (portal.vntext) from its columns before every write.

    The columns a model declares decide which keys it keeps: `name_key` (uniqueness),
    `sort_key` (order; by given name first when `person`), `search_key` (the `search`
    columns, one per line, so a query never matches across two of them). A mapper event
    rather than the services, so that no code path can forget them.
    """

    def refresh(_mapper, _connection, target) -> None:
        value = getattr(target, source) or ""
        if hasattr(cls, "name_key"):
            target.name_key = vntext.name_key(value)
        if hasattr(cls, "sort_key"):
            target.sort_key = (vntext.person_sort_key if person else vntext.sort_key)(value)
        if hasattr(cls, "search_key"):
            target.search_key = "\n".join(vntext.search_key(getattr(target, column)) for column in search)

    event.listen(cls, "before_insert", refresh)
    event.listen(cls, "before_update", refresh)


@dataclass(frozen=True)
class RewriteGuard:
    """PostgreSQL DDL that refuses UPDATE and DELETE on a table's rows, unless the transaction says
    `SET LOCAL portal.audit_rewrite = 'on'` (only `flask restore` and the test suite's emptying do).
    Used by the audit log (append-only) and the published result snapshots (immutable)."""

    function: str  # CREATE FUNCTION …
    trigger: str  # CREATE TRIGGER …
    drop: tuple[str, ...]  # what a downgrade runs

    def attach(self, table: Table) -> None:
        """Create the function and trigger with the table (metadata.create_all), on PostgreSQL only."""
        for statement in (self.function, self.trigger):
            event.listen(table, "after_create", DDL(statement).execute_if(dialect="postgresql"))


def rewrite_guard(table: str, name: str, refusal: str) -> RewriteGuard:
    """The guard of `table`: function and trigger both called `name`; `refusal` opens the error message."""
    function = f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
    IF current_setting('portal.audit_rewrite', true) = 'on' THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    RAISE EXCEPTION USING MESSAGE = '{refusal}: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql
"""
    trigger = f"""
CREATE TRIGGER {name} BEFORE UPDATE OR DELETE ON {table}
FOR EACH ROW EXECUTE FUNCTION {name}()
"""
    drop = (f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}()")
    return RewriteGuard(function, trigger, drop)
