"""Restoring a backup into the database in one transaction: all of it, or nothing."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
import zlib
from collections import defaultdict, deque
from contextlib import suppress
from pathlib import Path

from sqlalchemy import Integer, MetaData, Table, literal, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from portal.services.platform.backup.layout import BATCH, FILES, BackupError, Progress, Summary, decode
from portal.services.platform.backup.verify import (
    check_revision,
    match_schema,
    read_manifest,
    verify_files,
    verify_tables,
)


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
            plan = match_schema(manifest, metadata)
            summary = Summary(manifest.get("created_at", ""), manifest.get("alembic_revision"))
            with engine.begin() as conn:
                check_revision(conn, summary.revision)
                filled = _filled_tables(conn, metadata, force)
                verify_tables(archive, plan)  # before the first deletion: a bad file changes nothing
                files = verify_files(archive, manifest) if files_folder else []
                if conn.dialect.name == "postgresql":  # replacing the database replaces its audit log too
                    conn.execute(text("SET LOCAL portal.audit_rewrite = 'on'"))
                if filled:
                    _delete_all(conn, metadata, progress)
                summary.tables = _load_all(conn, archive, plan, progress)
                _reset_sequences(conn, metadata)
                # before the commit: if writing a file fails, the database stays as it was
                summary.files = _restore_files(archive, files, files_folder)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise BackupError(f"Tệp sao lưu bị hỏng hoặc không phải tệp ZIP ({error}). Không khôi phục gì.") from error
    except FileNotFoundError as error:
        raise BackupError(f"Không tìm thấy tệp “{path}”.") from error
    except SQLAlchemyError as error:
        raise BackupError(
            f"Khôi phục thất bại, cơ sở dữ liệu giữ nguyên như trước: {getattr(error, 'orig', None) or error}"
        ) from error
    return summary


def _filled_tables(conn: Connection, metadata: MetaData, force: bool) -> list[str]:
    """The tables that hold rows; refused unless `force` says they may be emptied."""
    filled = [t.name for t in metadata.sorted_tables if conn.scalar(select(literal(1)).select_from(t).limit(1))]
    if filled and not force:
        raise BackupError(
            f"Cơ sở dữ liệu đang có dữ liệu (bảng {', '.join(filled[:5])}"
            f"{', …' if len(filled) > 5 else ''}). Dùng --force để xóa hết rồi khôi phục."
        )
    return filled


def _load_all(
    conn: Connection, archive: zipfile.ZipFile, plan: list[tuple[Table, dict]], progress: Progress | None
) -> list[tuple[str, int]]:
    """Every table of the backup loaded, parents before children; the rows loaded into each."""
    loaded = []
    for table, entry in plan:
        loaded.append((table.name, _load(conn, archive, table, entry)))
        if progress:
            progress("restore", table.name, loaded[-1][1])
    return loaded


def _delete_all(conn: Connection, metadata: MetaData, progress: Progress | None) -> None:
    """--force: children before parents; undone with the rest if the restore fails."""
    for table in reversed(metadata.sorted_tables):
        deleted = conn.execute(table.delete()).rowcount
        if progress:
            progress("delete", table.name, deleted)


def _restore_files(archive: zipfile.ZipFile, files: list[dict], folder: str | Path | None) -> int:
    """The backup's files written back into `folder`; how many."""
    for entry in files:
        _restore_file(archive, entry, Path(folder))
    return len(files)


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
                row = {n: decode(k, v) for n, k, v in zip(names, kinds, json.loads(line), strict=True)}
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
    """PostgreSQL: rows came with their ids; new rows must continue after the highest."""
    if conn.dialect.name != "postgresql":
        return
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
