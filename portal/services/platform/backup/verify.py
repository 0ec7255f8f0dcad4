"""The checks a backup passes before a restore touches anything: its manifest, its schema against the
database's, its Alembic revision, and every table's and file's SHA-256."""

from __future__ import annotations

import hashlib
import json
import zipfile

from sqlalchemy import MetaData, Table
from sqlalchemy.engine import Connection

from portal.services.platform.backup.layout import (
    FILES,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    SAFE_PATH,
    BackupError,
    column_kind,
    revision,
    saved_tables,
)


def read_manifest(archive: zipfile.ZipFile) -> dict:
    """The manifest, if the file is a backup of this portal in the format this version restores."""
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


def match_schema(manifest: dict, metadata: MetaData) -> list[tuple[Table, dict]]:
    """Pairs each table of the database with its entry; any difference in tables or columns refuses."""
    entries = {entry["name"]: entry for entry in manifest.get("tables", [])}
    saved = saved_tables(metadata)
    missing = [t.name for t in saved if t.name not in entries]
    extra = sorted(set(entries) - {t.name for t in saved})
    if missing or extra:
        raise BackupError(
            "Bản sao lưu không khớp cấu trúc cơ sở dữ liệu"
            + (f"; thiếu bảng: {', '.join(missing)}" if missing else "")
            + (f"; thừa bảng: {', '.join(extra)}" if extra else "")
            + "."
        )
    plan = []
    for table in saved:
        saved = {c["name"]: c["kind"] for c in entries[table.name]["columns"]}
        if saved != {c.name: column_kind(c) for c in table.columns}:
            raise BackupError(f"Bảng {table.name} trong bản sao lưu có các cột khác với cơ sở dữ liệu hiện tại.")
        plan.append((table, entries[table.name]))
    return plan


def check_revision(conn: Connection, saved: str | None) -> None:
    """The database is at the Alembic revision the backup was made at."""
    current = revision(conn)
    if current != saved:
        raise BackupError(
            f"Bản sao lưu được tạo ở phiên bản cấu trúc (Alembic) {saved or 'không có'}, "
            f"còn cơ sở dữ liệu đang ở {current or 'không có'}. Đưa cơ sở dữ liệu về đúng phiên bản "
            "của bản sao lưu (flask db upgrade / downgrade) rồi khôi phục lại."
        )


def verify_tables(archive: zipfile.ZipFile, plan: list[tuple[Table, dict]]) -> None:
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


def verify_files(archive: zipfile.ZipFile, manifest: dict) -> list[dict]:
    """Every file of the backup is there, with its size and SHA-256, at a path that stays in the folder."""
    entries = manifest.get("files") or []
    for entry in entries:
        relative = entry.get("path", "")
        if not SAFE_PATH.fullmatch(relative) or ".." in relative.split("/"):
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
