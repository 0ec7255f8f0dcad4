"""Writing a backup: every table from one consistent snapshot, then the evidence files, then the manifest."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import MetaData, Table, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from portal.services.platform.backup.layout import (
    BATCH,
    FILES,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    SAFE_PATH,
    BackupError,
    Progress,
    Summary,
    column_kind,
    encode,
    json_line,
    revision,
    saved_tables,
)


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
                summary = Summary(datetime.now(UTC).isoformat(timespec="seconds"), revision(conn))
                entries = [_write_table(conn, archive, table, summary, progress) for table in saved_tables(metadata)]
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
            line = json_line([encode(kind, value) for kind, value in zip(kinds, row, strict=True)])
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
        if not file.is_file() or not SAFE_PATH.fullmatch(relative):
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
