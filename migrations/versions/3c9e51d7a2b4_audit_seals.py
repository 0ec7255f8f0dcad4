"""audit seals: the hash chain in a table of its own, filled by a sealer

Revision ID: 3c9e51d7a2b4
Revises: 5e1c0a7d9b42
Create Date: 2026-12-07 07:35:00

Entries are now inserted without lock and without hash; the sealer chains them in `audit_seals`
(docs/reference/audit-log.md). The existing chain becomes the first seals, position = id order, with the
same hashes, so a log written before verifies unchanged; its columns on `audit_entries` stay for those rows.
"""
import hashlib
import json

import sqlalchemy as sa
from alembic import op

from portal.models.audit import SEALS_APPEND_ONLY

# revision identifiers, used by Alembic.
revision = '3c9e51d7a2b4'
down_revision = '5e1c0a7d9b42'
branch_labels = None
depends_on = None

FIELDS = ("at", "user_id", "username", "action", "object_type", "object_id", "object_label", "changes", "summary")


def upgrade():
    op.create_table(
        "audit_seals",
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_audit_seals")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_audit_seals_entry_id")),
    )
    op.execute(
        "INSERT INTO audit_seals (position, entry_id, prev_hash, hash) "
        "SELECT ROW_NUMBER() OVER (ORDER BY id), id, prev_hash, hash FROM audit_entries ORDER BY id"
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=True)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SEALS_APPEND_ONLY.function)
        op.execute(SEALS_APPEND_ONLY.trigger)


def _hash(prev, row):
    """The chain's algorithm (portal/services/platform/audit_chain.py), frozen here."""
    content = {key: row[key] for key in FIELDS}
    if content["at"] is not None:
        content["at"] = content["at"].isoformat(timespec="microseconds")
    payload = prev + json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def downgrade():
    """Back to the chain in id order on the entries: the entries written since get their links there,
    after the last one that has one (the append-only guard lifted for this transaction)."""
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        for statement in SEALS_APPEND_ONLY.drop:
            op.execute(statement)
        op.execute("SET LOCAL portal.audit_rewrite = 'on'")
    types = {"at": sa.DateTime, "user_id": sa.Integer, "changes": sa.JSON}
    entries = sa.table("audit_entries", sa.column("id"), sa.column("prev_hash"), sa.column("hash"),
                       *(sa.column(name, types.get(name, sa.String)) for name in FIELDS))
    head = conn.execute(
        sa.select(entries.c.hash).where(entries.c.hash.is_not(None)).order_by(entries.c.id.desc()).limit(1)
    ).scalar() or "0" * 64
    for row in conn.execute(sa.select(entries).where(entries.c.hash.is_(None)).order_by(entries.c.id)).mappings().all():
        digest = _hash(head, row)
        conn.execute(entries.update().where(entries.c.id == row["id"]).values(prev_hash=head, hash=digest))
        head = digest
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
    op.drop_table("audit_seals")
