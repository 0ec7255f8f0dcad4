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

- `layout`: the archive's members and manifest, and how each kind of value is written;
- `write`: `write_backup`, one consistent snapshot of every table (and the evidence files);
- `verify`: the checks a backup passes before a restore touches anything;
- `restore`: `restore`, all of it in one transaction, or nothing.
"""
