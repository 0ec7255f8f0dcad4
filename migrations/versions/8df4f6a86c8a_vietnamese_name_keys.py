"""vietnamese name keys: name_key (unique), sort_key (order), search_key (search)

Units, clusters, council members and accounts get the keys of portal.vntext, backfilled
here with the same Python functions the models use. A unit's name is then unique by its
key (case, Unicode normal form and tone placement ignored), a cluster's within its kind.

Names that were stored twice under the old, ASCII-only check (e.g. "Ủy ban …" and
"ỦY BAN …") stop the upgrade with the list of them: rename one of each pair, then upgrade.

Revision ID: 8df4f6a86c8a
Revises: 0c52d62a7017
Create Date: 2026-12-06 22:04:10.837763

"""
from collections import defaultdict

from alembic import op
import sqlalchemy as sa

from portal import vntext


# revision identifiers, used by Alembic.
revision = '8df4f6a86c8a'
down_revision = '0c52d62a7017'
branch_labels = None
depends_on = None

# table: (name column, search columns, has name_key, sort by given name)
KEYED = {
    "units": ("name", ("name", "short_name"), True, False),
    "clusters": ("name", ("code", "name"), True, False),
    "council_members": ("full_name", ("full_name", "position", "organisation"), False, True),
    "users": ("full_name", ("username", "full_name", "email"), False, None),
}


def _clashes(conn) -> list[str]:
    """Names that would break the new unique keys (read before any change: SQLite DDL is not undone)."""
    found = []
    for table, kind in (("units", sa.literal(None)), ("clusters", sa.column("kind"))):
        seen = defaultdict(list)
        rows = conn.execute(sa.select(sa.column("id"), sa.column("name"), kind).select_from(sa.table(table)))
        for row_id, name, group in rows:
            seen[(group, vntext.name_key(name))].append(f"{table} #{row_id} “{name}”")
        found += ["; ".join(names) for names in seen.values() if len(names) > 1]
    return found


def _backfill(conn, table: str) -> None:
    source, search, has_name_key, person = KEYED[table]
    columns = sorted({"id", source, *search})
    t = sa.table(table, *(sa.column(c) for c in columns), sa.column("name_key"), sa.column("sort_key"),
                 sa.column("search_key"))
    for row in conn.execute(sa.select(*(t.c[c] for c in columns))).mappings().all():
        values = {"search_key": "\n".join(vntext.search_key(row[c]) for c in search)}
        if person is not None:
            values["sort_key"] = (vntext.person_sort_key if person else vntext.sort_key)(row[source])
        if has_name_key:
            values["name_key"] = vntext.name_key(row[source])
        conn.execute(sa.update(t).where(t.c.id == row["id"]).values(**values))


def upgrade():
    clashes = _clashes(op.get_bind())
    if clashes:
        raise RuntimeError("These names are the same name; rename one of each, then upgrade: " + " | ".join(clashes))
    for table, (_, _, has_name_key, person) in KEYED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            if has_name_key:
                batch_op.add_column(sa.Column('name_key', sa.String(length=512), nullable=True))
            if person is not None:
                batch_op.add_column(sa.Column('sort_key', sa.LargeBinary(), nullable=True))
            batch_op.add_column(sa.Column('search_key', sa.Text(), nullable=True))
        _backfill(op.get_bind(), table)

    with op.batch_alter_table('clusters', schema=None) as batch_op:
        batch_op.alter_column('name_key', existing_type=sa.String(length=512), nullable=False)
        batch_op.alter_column('sort_key', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.alter_column('search_key', existing_type=sa.Text(), nullable=False)
        batch_op.drop_constraint(batch_op.f('uq_clusters_kind_name'), type_='unique')
        batch_op.create_index(batch_op.f('ix_clusters_sort_key'), ['sort_key'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_clusters_kind_name_key'), ['kind', 'name_key'])

    with op.batch_alter_table('council_members', schema=None) as batch_op:
        batch_op.alter_column('sort_key', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.alter_column('search_key', existing_type=sa.Text(), nullable=False)
        batch_op.create_index(batch_op.f('ix_council_members_sort_key'), ['sort_key'], unique=False)

    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.alter_column('name_key', existing_type=sa.String(length=512), nullable=False)
        batch_op.alter_column('sort_key', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.alter_column('search_key', existing_type=sa.Text(), nullable=False)
        batch_op.drop_constraint(batch_op.f('uq_units_name'), type_='unique')
        batch_op.create_index(batch_op.f('ix_units_sort_key'), ['sort_key'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_units_name_key'), ['name_key'])

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('search_key', existing_type=sa.Text(), nullable=False)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('search_key')

    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_units_name_key'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_units_sort_key'))
        batch_op.create_unique_constraint(batch_op.f('uq_units_name'), ['name'])
        batch_op.drop_column('search_key')
        batch_op.drop_column('sort_key')
        batch_op.drop_column('name_key')

    with op.batch_alter_table('council_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_council_members_sort_key'))
        batch_op.drop_column('search_key')
        batch_op.drop_column('sort_key')

    with op.batch_alter_table('clusters', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_clusters_kind_name_key'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_clusters_sort_key'))
        batch_op.create_unique_constraint(batch_op.f('uq_clusters_kind_name'), ['kind', 'name'])
        batch_op.drop_column('search_key')
        batch_op.drop_column('sort_key')
        batch_op.drop_column('name_key')
