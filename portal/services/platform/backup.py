"""Backup and restore of the whole database as one portable file (flask backup / flask restore).

The file is a ZIP archive:

    tables/<table>.jsonl   one per table: one JSON array per row, in the manifest's column order,
                           rows in primary-key order
    files/<path>           with files_folder (the evidence files, minh chứng): every file under it,
                           stored as is, at its path relative to the folder
    manifest.json          written last: format and version, Alembic revision, created_at (UTC),
                           and per table its columns with their kinds, row count and the SHA-256
                           of its .jsonl bytes (check by hand: unzip -p FILE tables/units.jsonl | sha256sum);
                           with files_folder, "files": each file's path, size and SHA-256

A ZIP rather than one gzip'd stream: every table's SHA-256 is known only after the table is
written, yet a restore must read the manifest first and verify every table before touching the
database; a ZIP's directory gives both without a second pass over the data, and any unzip tool
opens it. Values keep their type by the column's kind: Decimal as a string, dates and times ISO
8601, bytes base64, JSON columns as JSON, so a restore gives back exactly what was saved.

Plain Python and SQLAlchemy Core: no Flask, no ORM session, so restored rows (the audit log
above all) are written exactly as saved and the audit hook writes nothing of its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
import zipfile
import zlib
from collections import defaultdict, deque
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Time,
    inspect,
    literal,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

FORMAT = "portal-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH = 1000
FILES = "files/"
_SAFE_PATH = re.compile(r"[0-9A-Za-z_-][0-9A-Za-z._-]*(/[0-9A-Za-z_-][0-9A-Za-z._-]*)*")

# Called as progress(step, table, rows) with step "backup", "delete" or "restore".
Progress = Callable[[str, str, int], None]


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


def _encode(kind: str, value):
    if value is None:
        return None
    if kind == "decimal":
        return str(value)
    if kind in ("datetime", "date", "time"):
        return value.isoformat()
    if kind == "bytes":
        return base64.b64encode(value).decode("ascii")
    return value


def _decode(kind: str, value):
    return value if value is None or kind not in _DECODERS else _DECODERS[kind](value)


def _line(values: list) -> bytes:
    return (json.dumps(values, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


# --- backup ------------------------------------------------------------------------------


def write_backup(
    engine: Engine,
    metadata: MetaData,
    path: str | Path,
    progress: Progress | None = None,
    *,
    files_folder: str | Path | None = None,
) -> Summary:
    """Write every table (and the files under `files_folder`) to `path`, through a temporary file renamed
    only once complete."""
    path = Path(path)
    if not path.parent.is_dir():
        raise BackupError(f"Thư mục “{path.parent}” không tồn tại.")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw:
            with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive, _snapshot(engine) as conn:
                summary = Summary(datetime.now(UTC).isoformat(timespec="seconds"), _revision(conn))
                entries = [_write_table(conn, archive, table, summary, progress) for table in metadata.sorted_tables]
                files = _write_files(archive, Path(files_folder)) if files_folder else None
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "created_at": summary.created_at,
                    "alembic_revision": summary.revision,
                    "dialect": conn.dialect.name,
                    "tables": entries,
                }
                if files is not None:
                    manifest["files"] = files
                    summary.files = len(files)
                archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except SQLAlchemyError as error:
        raise BackupError(f"Không đọc được cơ sở dữ liệu: {getattr(error, 'orig', None) or error}") from error
    finally:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
    return summary


@contextmanager
def _snapshot(engine: Engine):
    """One consistent view of every table, even while the portal keeps writing."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        elif conn.dialect.name == "sqlite" and not conn.connection.driver_connection.in_transaction:
            conn.exec_driver_sql("BEGIN")  # pysqlite would not open a transaction for reads
        try:
            yield conn
        finally:
            conn.rollback()


def _order(table: Table) -> list:
    # JSON has no ordering (nor equality) on PostgreSQL; a table without a key sorts by the rest.
    return list(table.primary_key.columns) or [c for c in table.columns if column_kind(c) != "json"]


def _write_table(conn: Connection, archive: zipfile.ZipFile, table: Table, summary: Summary, progress) -> dict:
    columns = [(column.name, column_kind(column)) for column in table.columns]
    kinds = [kind for _, kind in columns]
    member = f"tables/{table.name}.jsonl"
    digest, count = hashlib.sha256(), 0
    rows = conn.execute(select(table).order_by(*_order(table)).execution_options(yield_per=BATCH))
    with archive.open(member, "w", force_zip64=True) as out:
        for row in rows:
            line = _line([_encode(kind, value) for kind, value in zip(kinds, row, strict=True)])
            digest.update(line)
            out.write(line)
            count += 1
    summary.tables.append((table.name, count))
    if progress:
        progress("backup", table.name, count)
    return {
        "name": table.name,
        "file": member,
        "rows": count,
        "sha256": digest.hexdigest(),
        "columns": [{"name": name, "kind": kind} for name, kind in columns],
    }


def _write_files(archive: zipfile.ZipFile, folder: Path) -> list[dict]:
    """Every file under `folder` (dot-files, i.e. uploads in progress, left out), stored uncompressed:
    PDFs, images and office files are compressed already. Read after the tables: a file uploaded
    meanwhile is merely extra; one whose row was deleted meanwhile may be missing (its download then
    answers "not found"), so back up at a quiet hour."""
    entries = []
    if not folder.is_dir():
        return entries
    for file in sorted(folder.rglob("*")):
        relative = file.relative_to(folder).as_posix()
        if not file.is_file() or not _SAFE_PATH.fullmatch(relative):
            continue
        digest, size = hashlib.sha256(), 0
        info = zipfile.ZipInfo(FILES + relative, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        with file.open("rb") as source, archive.open(info, "w", force_zip64=True) as out:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        entries.append({"path": relative, "size": size, "sha256": digest.hexdigest()})
    return entries


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return ",".join(sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())) or None


# --- restore -----------------------------------------------------------------------------


def restore(
    engine: Engine,
    metadata: MetaData,
    path: str | Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
    files_folder: str | Path | None = None,
) -> Summary:
    """Load a backup into the database in one transaction: all of it, or nothing. With `files_folder`,
    the backup's files are written back there (checked first, written before the commit)."""
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = read_manifest(archive)
            plan = _match_schema(manifest, metadata)
            summary = Summary(manifest.get("created_at", ""), manifest.get("alembic_revision"))
            with engine.begin() as conn:
                _check_revision(conn, summary.revision)
                filled = _filled_tables(conn, metadata)
                if filled and not force:
                    raise BackupError(
                        f"Cơ sở dữ liệu đang có dữ liệu (bảng {', '.join(filled[:5])}"
                        f"{', …' if len(filled) > 5 else ''}). Dùng --force để xóa hết rồi khôi phục."
                    )
                _verify(archive, plan)  # before the first deletion: a bad file changes nothing
                files = _verify_files(archive, manifest) if files_folder else []
                if conn.dialect.name == "postgresql":  # replacing the database replaces its audit log too
                    conn.execute(text("SET LOCAL portal.audit_rewrite = 'on'"))
                if filled:
                    _delete_all(conn, metadata, progress)
                for table, entry in plan:
                    summary.tables.append((table.name, _load(conn, archive, table, entry)))
                    if progress:
                        progress("restore", table.name, summary.tables[-1][1])
                if conn.dialect.name == "postgresql":
                    _reset_sequences(conn, metadata)
                for entry in files:  # before the commit: if it fails, the database stays as it was
                    _restore_file(archive, entry, Path(files_folder))
                summary.files = len(files)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise BackupError(f"Tệp sao lưu bị hỏng hoặc không phải tệp ZIP ({error}). Không khôi phục gì.") from error
    except FileNotFoundError as error:
        raise BackupError(f"Không tìm thấy tệp “{path}”.") from error
    except SQLAlchemyError as error:
        raise BackupError(
            f"Khôi phục thất bại, cơ sở dữ liệu giữ nguyên như trước: {getattr(error, 'orig', None) or error}"
        ) from error
    return summary


def _filled_tables(conn: Connection, metadata: MetaData) -> list[str]:
    return [t.name for t in metadata.sorted_tables if conn.scalar(select(literal(1)).select_from(t).limit(1))]


def _delete_all(conn: Connection, metadata: MetaData, progress: Progress | None) -> None:
    """--force: children before parents; undone with the rest if the restore fails."""
    for table in reversed(metadata.sorted_tables):
        deleted = conn.execute(table.delete()).rowcount
        if progress:
            progress("delete", table.name, deleted)


def read_manifest(archive: zipfile.ZipFile) -> dict:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except KeyError:
        raise BackupError("Tệp không có manifest.json: không phải bản sao lưu của cổng thông tin.") from None
    except ValueError as error:
        raise BackupError(f"manifest.json bị hỏng: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("Tệp không phải bản sao lưu của cổng thông tin.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"Bản sao lưu có định dạng phiên bản {manifest.get('format_version')}; "
            f"phiên bản này của cổng chỉ khôi phục được định dạng {FORMAT_VERSION}."
        )
    return manifest


def _match_schema(manifest: dict, metadata: MetaData) -> list[tuple[Table, dict]]:
    """Pairs each table of the database with its entry; any difference in tables or columns refuses."""
    entries = {entry["name"]: entry for entry in manifest.get("tables", [])}
    missing = [t.name for t in metadata.sorted_tables if t.name not in entries]
    extra = sorted(set(entries) - set(metadata.tables))
    if missing or extra:
        raise BackupError(
            "Bản sao lưu không khớp cấu trúc cơ sở dữ liệu"
            + (f"; thiếu bảng: {', '.join(missing)}" if missing else "")
            + (f"; thừa bảng: {', '.join(extra)}" if extra else "")
            + "."
        )
    plan = []
    for table in metadata.sorted_tables:
        saved = {c["name"]: c["kind"] for c in entries[table.name]["columns"]}
        if saved != {c.name: column_kind(c) for c in table.columns}:
            raise BackupError(f"Bảng {table.name} trong bản sao lưu có các cột khác với cơ sở dữ liệu hiện tại.")
        plan.append((table, entries[table.name]))
    return plan


def _check_revision(conn: Connection, saved: str | None) -> None:
    current = _revision(conn)
    if current != saved:
        raise BackupError(
            f"Bản sao lưu được tạo ở phiên bản cấu trúc (Alembic) {saved or 'không có'}, "
            f"còn cơ sở dữ liệu đang ở {current or 'không có'}. Đưa cơ sở dữ liệu về đúng phiên bản "
            "của bản sao lưu (flask db upgrade / downgrade) rồi khôi phục lại."
        )


def _verify(archive: zipfile.ZipFile, plan: list[tuple[Table, dict]]) -> None:
    """Every table's bytes match their SHA-256 and row count before anything is written."""
    for table, entry in plan:
        digest, count = hashlib.sha256(), 0
        try:
            member = archive.open(entry["file"])
        except KeyError:
            raise BackupError(f"Bản sao lưu thiếu dữ liệu của bảng {table.name}.") from None
        with member:
            while chunk := member.read(1 << 20):
                digest.update(chunk)
                count += chunk.count(b"\n")
        if digest.hexdigest() != entry["sha256"]:
            raise BackupError(
                f"Dữ liệu bảng {table.name} không khớp mã SHA-256 trong manifest: tệp đã bị sửa hoặc hỏng. "
                "Không khôi phục gì."
            )
        if count != entry["rows"]:
            raise BackupError(f"Bảng {table.name} có {count} dòng, manifest ghi {entry['rows']}. Không khôi phục gì.")


def _verify_files(archive: zipfile.ZipFile, manifest: dict) -> list[dict]:
    """Every file of the backup is there, with its size and SHA-256, at a path that stays in the folder."""
    entries = manifest.get("files") or []
    for entry in entries:
        relative = entry.get("path", "")
        if not _SAFE_PATH.fullmatch(relative) or ".." in relative.split("/"):
            raise BackupError(f"Bản sao lưu có đường dẫn tệp không hợp lệ: “{relative}”. Không khôi phục gì.")
        digest, size = hashlib.sha256(), 0
        try:
            member = archive.open(FILES + relative)
        except KeyError:
            raise BackupError(f"Bản sao lưu thiếu tệp {relative}. Không khôi phục gì.") from None
        with member:
            while chunk := member.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        if digest.hexdigest() != entry.get("sha256") or size != entry.get("size"):
            raise BackupError(
                f"Tệp {relative} không khớp mã SHA-256 trong manifest: tệp đã bị sửa hoặc hỏng. Không khôi phục gì."
            )
    return entries


def _restore_file(archive: zipfile.ZipFile, entry: dict, folder: Path) -> None:
    """Write one file back (through a temporary file), unless the same bytes are already there."""
    target = folder / entry["path"]
    if target.is_file() and target.stat().st_size == entry["size"] and _sha256_of(target) == entry["sha256"]:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".restore-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, archive.open(FILES + entry["path"]) as member:
            while chunk := member.read(1 << 20):
                out.write(chunk)
        os.replace(tmp, target)
    finally:
        with suppress(FileNotFoundError):
            os.unlink(tmp)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _load(conn: Connection, archive: zipfile.ZipFile, table: Table, entry: dict) -> int:
    names = [c["name"] for c in entry["columns"]]
    kinds = [c["kind"] for c in entry["columns"]]
    order, batch, count = _ParentsFirst(table), [], 0
    try:
        with archive.open(entry["file"]) as member:
            for line in member:
                row = {n: _decode(k, v) for n, k, v in zip(names, kinds, json.loads(line), strict=True)}
                for ready in order.place(row):
                    batch.append(ready)
                    count += 1
                    if len(batch) >= BATCH:
                        conn.execute(table.insert(), batch)
                        batch.clear()
        if batch:
            conn.execute(table.insert(), batch)
        count += order.insert_leftovers(conn)
    except SQLAlchemyError as error:
        raise BackupError(
            f"Không ghi được bảng {table.name}: {getattr(error, 'orig', None) or error}. "
            "Cơ sở dữ liệu giữ nguyên như trước."
        ) from error
    except (ValueError, TypeError, ArithmeticError) as error:  # a malformed line or value
        raise BackupError(f"Dữ liệu bảng {table.name} không đọc được: {error}") from error
    return count


class _ParentsFirst:
    """Orders a self-referencing table's rows so a referenced row goes in before the rows that
    point at it: a unit merged into a unit created after it, a criterion under its parent, a
    criteria set based on another. PostgreSQL's foreign keys here are not deferrable, so order
    is the way; only the rows waiting for a later row are held in memory."""

    def __init__(self, table: Table):
        self.table = table
        self.links = [
            ([e.parent.name for e in fk.elements], [e.column.name for e in fk.elements])
            for fk in table.foreign_key_constraints
            if fk.referred_table is table
        ]
        self.seen: list[set[tuple]] = [set() for _ in self.links]
        self.waiting: dict[tuple, list[dict]] = defaultdict(list)

    def _blocker(self, row: dict) -> tuple | None:
        for i, (local, _) in enumerate(self.links):
            ref = tuple(row[name] for name in local)
            if None not in ref and ref not in self.seen[i]:
                return i, ref
        return None

    def place(self, row: dict) -> list[dict]:
        """The rows that may be inserted now: this one, and any it releases, or none."""
        if not self.links:
            return [row]
        ready, queue = [], deque([row])
        while queue:
            row = queue.popleft()
            blocker = self._blocker(row)
            if blocker is not None:
                self.waiting[blocker].append(row)
                continue
            ready.append(row)
            for i, (_, remote) in enumerate(self.links):
                key = tuple(row[name] for name in remote)
                self.seen[i].add(key)
                queue.extend(self.waiting.pop((i, key), ()))
        return ready

    def insert_leftovers(self, conn: Connection) -> int:
        """Rows in a reference cycle: inserted without their self-references, which are then set."""
        rows = [row for rows in self.waiting.values() for row in rows]
        if not rows:
            return 0
        key = list(self.table.primary_key.columns)
        if not key:
            raise BackupError(f"Bảng {self.table.name} có tham chiếu vòng nhưng không có khóa chính.")
        local = {name for names, _ in self.links for name in names}
        conn.execute(self.table.insert(), [{**row, **dict.fromkeys(local)} for row in rows])
        for row in rows:
            where = [column == row[column.name] for column in key]
            conn.execute(self.table.update().where(*where).values({name: row[name] for name in local}))
        return len(rows)


def _reset_sequences(conn: Connection, metadata: MetaData) -> None:
    """Rows came with their ids; new rows must continue after the highest."""
    for table in metadata.sorted_tables:
        key = list(table.primary_key.columns)
        if len(key) == 1 and key[0].name == "id" and isinstance(key[0].type, Integer):
            name = conn.dialect.identifier_preparer.format_table(table)
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence(:name, 'id'), COALESCE(max(id), 1), max(id) IS NOT NULL) "
                    f"FROM {name}"
                ),
                {"name": name},
            )
