"""The backup file's layout: its members and manifest, and how each kind of value is written and read back."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, Integer, LargeBinary, Numeric, String, Time, inspect, text
from sqlalchemy.engine import Connection

FORMAT = "portal-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH = 1000
FILES = "files/"
SAFE_PATH = re.compile(r"[0-9A-Za-z_-][0-9A-Za-z._-]*(/[0-9A-Za-z_-][0-9A-Za-z._-]*)*")

# Called as progress(step, table, rows) with step "backup", "delete" or "restore".
Progress = Callable[[str, str, int], None]


def saved_tables(metadata) -> list:
    """The tables a backup holds, parents before children: all but those derived from the others
    (`info["derived"]`: the score tallies, which the scores' triggers fill again as they are restored)."""
    return [table for table in metadata.sorted_tables if not table.info.get("derived")]


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message (Vietnamese) says why."""


@dataclass
class Summary:
    created_at: str
    revision: str | None
    tables: list[tuple[str, int]] = field(default_factory=list)
    files: int = 0

    @property
    def rows(self) -> int:
        return sum(count for _, count in self.tables)


# --- values ------------------------------------------------------------------------------

# Order matters: Float is a Numeric, and every kind not listed is refused rather than guessed.
_KINDS = (
    (JSON, "json"),
    (Boolean, "bool"),
    (Float, "float"),
    (Numeric, "decimal"),
    (Integer, "int"),
    (DateTime, "datetime"),
    (Date, "date"),
    (Time, "time"),
    (LargeBinary, "bytes"),
    (String, "str"),
)
_DECODERS = {
    "decimal": Decimal,
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
    "time": time.fromisoformat,
    "bytes": base64.b64decode,
}


def column_kind(column) -> str:
    for type_, kind in _KINDS:
        if isinstance(column.type, type_):
            return "float" if kind == "decimal" and not column.type.asdecimal else kind
    raise BackupError(f"Cột {column.table.name}.{column.name} có kiểu {column.type!r} chưa được hỗ trợ khi sao lưu.")


def encode(kind: str, value):
    """A value as the JSON line holds it, by its column's kind."""
    if value is None:
        return None
    if kind == "decimal":
        return str(value)
    if kind in ("datetime", "date", "time"):
        return value.isoformat()
    if kind == "bytes":
        return base64.b64encode(value).decode("ascii")
    return value


def decode(kind: str, value):
    """A value of a JSON line back as its column's Python value."""
    return value if value is None or kind not in _DECODERS else _DECODERS[kind](value)


def json_line(values: list) -> bytes:
    """One row as a line of its table's .jsonl member."""
    return (json.dumps(values, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def revision(conn: Connection) -> str | None:
    """The database's Alembic revision (heads joined by commas); None without Alembic."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return ",".join(sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())) or None
