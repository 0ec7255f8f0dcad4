"""flask backup / flask restore: the whole database round-trips, on SQLite and on PostgreSQL.

Realistic data (a merge chain whose successors were created after the units merged into them,
a criteria tree with a new version, a signed pledge, registered targets, the audit log), a
backup through the CLI, an empty database, a restore, and every table compared row by row.
Refusals (non-empty database, edited file, wrong format, other Alembic revision, a row the
database rejects half-way) leave the database exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
import zipfile
from datetime import UTC, date, datetime, time
from decimal import Decimal as D

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    Time,
    cast,
    create_engine,
    select,
    text,
)

from config import normalise_database_url
from portal.extensions import db
from portal.models import AuditEntry, CriteriaSet, Criterion, LoginFailure, Unit
from portal.models.base import utcnow
from portal.services.criteria import sets as criteria_svc
from portal.services.org import structure as org
from portal.services.platform import audit
from portal.services.platform.backup import layout
from portal.services.platform.backup.restore import restore
from portal.services.platform.backup.write import write_backup
from portal.services.pledges import agreements as pledges_svc
from tests import factories

# --- helpers ------------------------------------------------------------------------------


def snapshot() -> dict[str, list[tuple]]:
    """Every table's rows as Python values, in primary-key order; JSON columns also as stored text."""
    tables = {}
    with db.engine.connect() as conn:
        for table in layout.saved_tables(db.metadata):  # the score tallies: checked against the scores after
            key = list(table.primary_key.columns)
            tables[table.name] = [tuple(row) for row in conn.execute(select(table).order_by(*key))]
            for column in table.columns:
                if isinstance(column.type, JSON):  # byte for byte, not only equal once parsed
                    raw = conn.execute(select(cast(column, Text)).order_by(*key)).scalars().all()
                    tables[f"{table.name}.{column.name} (text)"] = raw
    return tables


def empty_database() -> None:
    """As a new server would be: no rows, and (on PostgreSQL) sequences back at 1."""
    db.session.remove()
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


def rewrite(src, dst, *, manifest=None, tables=None, rehash=True) -> None:
    """Copy a backup, editing the manifest and/or a table's lines (a valid ZIP, unlike a flipped byte)."""
    with zipfile.ZipFile(src) as old:
        data = json.loads(old.read(layout.MANIFEST))
        members = {e["name"]: old.read(e["file"]) for e in data["tables"]}
    files = [(e["file"], e["name"]) for e in data["tables"]]
    for name, edit in (tables or {}).items():
        lines = [json.loads(line) for line in members[name].splitlines()]
        members[name] = b"".join(layout.json_line(values) for values in edit(lines))
        if rehash:
            entry = next(e for e in data["tables"] if e["name"] == name)
            entry["rows"] = len(members[name].splitlines())
            entry["sha256"] = hashlib.sha256(members[name]).hexdigest()
    if manifest:
        manifest(data)
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as new:
        for file, name in files:
            new.writestr(file, members[name])
        new.writestr(layout.MANIFEST, json.dumps(data))


def column_index(path, table: str, column: str) -> int:
    with zipfile.ZipFile(path) as archive:
        entry = next(e for e in json.loads(archive.read(layout.MANIFEST))["tables"] if e["name"] == table)
    return [c["name"] for c in entry["columns"]].index(column)


def build_province(w) -> dict:
    """What a province has after a while: reorganised units, a versioned criteria tree, a signed pledge."""
    s = db.session
    # merge chain with forward references: each successor was created after the unit merged into it
    old_a, old_b = factories.unit("UBND xã Tân Thuận"), factories.unit("UBND xã Tân Thuận Đông")
    newer = factories.unit("UBND phường Mới", sector="ward")
    org.merge_units(s, [old_a], old_b, date(2025, 7, 1), decision_ref="1656/NQ-UBTVQH15")
    org.merge_units(s, [old_b], newer, date(2025, 7, 1), decision_ref="1656/NQ-UBTVQH15", note="Sắp xếp 2025")
    org.rename_unit(s, w.outsider, "Sở Công Thương tỉnh Đồng Tháp", date(2025, 8, 1))
    s.commit()

    cset = factories.criteria_set(w)  # I. Kinh tế → 1 (quantitative), 2
    section = criteria_svc.add_criterion(s, cset, None, code="II", title="Xây dựng Đảng, đoàn thể")
    parent = criteria_svc.add_criterion(s, cset, section, code="1", title="Công tác chính trị, tư tưởng")
    for code, points in (("a", "7.5"), ("b", "2.25")):
        criteria_svc.add_criterion(s, cset, parent, code=code, title=f"Nội dung {code}", max_points=D(points))
    criteria_svc.add_criterion(s, cset, None, code="III", title="Điểm thưởng", kind="bonus", max_points=D(10))
    s.commit()

    pledge = pledges_svc.create(s, w.cluster, w.year)
    quantitative = s.scalar(select(Criterion).where(Criterion.set_id == cset.id, Criterion.method == "quantitative"))
    pledges_svc.register_target(s, cset, w.member, quantitative, D("1234.5678"), note="Dự toán giao")
    for unit, name in ((w.head, "Nguyễn Văn An"), (w.member, "Trần Thị Bình")):
        signature = pledges_svc.sign(
            s,
            pledge,
            unit,
            representative_name=name,
            representative_position="Chủ tịch UBND",
            signed_on=factories.past_date(3),
            user_id=w.users["head"].id,
        )
    pledges_svc.confirm(s, signature, w.users["head"].id)
    criteria_svc.lock(s, cset)
    criteria_svc.new_version(s, cset, "Điều chỉnh theo Kế hoạch số 12/KH-UBND")
    s.add(LoginFailure(key="user:khach", failures=2, first_failed_at=utcnow()))
    audit.record_event(s, "event", "Nhập dữ liệu “đầu năm”", changes={"dòng": [1, 2.5, None, True], "ghi chú": "Á\n"})
    s.commit()
    return {"successor": newer.id, "chain": (old_a.id, old_b.id)}


@pytest.fixture
def province(world):
    return build_province(world)


@pytest.fixture
def backup_file(province, runner, tmp_path):
    path = tmp_path / "sao-luu.zip"
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    return path


# --- the round trip -----------------------------------------------------------------------


def test_round_trip_restores_every_row_and_ids_continue(province, runner, tmp_path):
    before = snapshot()
    assert before["units"] and before["criteria"] and before["pledge_signatures"] and before["charters"]
    assert before["audit_entries"] and before["target_registrations"] and before["login_failures"]
    path = tmp_path / "sao-luu.zip"

    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    assert "units" in result.output and f"Đã sao lưu {len(layout.saved_tables(db.metadata))} bảng" in result.output
    assert not [p for p in tmp_path.iterdir() if p.name != path.name]  # the temporary file was renamed

    empty_database()
    assert all(not rows for rows in snapshot().values())
    result = runner.invoke(args=["restore", str(path)])
    assert result.exit_code == 0, result.output
    assert "Đã khôi phục" in result.output and "audit_entries" in result.output

    after = snapshot()
    assert after == before
    # the self-references came back: the merge chain, the tree, the version's origin
    successor = db.session.get(Unit, province["successor"])
    first, second = (db.session.get(Unit, i) for i in province["chain"])
    assert first.merged_into_id == second.id and second.merged_into_id == successor.id
    assert org.current_successor(first) == successor
    assert db.session.scalar(select(CriteriaSet.based_on_id).where(CriteriaSet.version == 2)) is not None
    assert db.session.scalar(select(Criterion.id).where(Criterion.code == "b", Criterion.parent_id.is_not(None)))
    # the audit log is still one unbroken hash chain
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output

    # new rows take the next ids (on PostgreSQL: the sequences were moved past the restored ids)
    highest = max(row[0] for row in before["units"])
    unit = factories.unit("UBND xã Sau Khôi Phục")
    db.session.commit()
    assert unit.id == highest + 1
    last_entry = max(row[0] for row in before["audit_entries"])
    assert db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) > last_entry
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_manifest_describes_each_table(backup_file):
    with zipfile.ZipFile(backup_file) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        units = next(e for e in manifest["tables"] if e["name"] == "units")
        data = archive.read(units["file"])
    assert manifest["format"] == layout.FORMAT and manifest["format_version"] == layout.FORMAT_VERSION
    assert manifest["alembic_revision"] is None  # the test schema is built without Alembic
    assert datetime.fromisoformat(manifest["created_at"]).tzinfo is not None
    assert [e["name"] for e in manifest["tables"]] == [t.name for t in layout.saved_tables(db.metadata)]
    assert units["rows"] == len(data.splitlines()) == db.session.scalar(select(db.func.count(Unit.id)))
    assert units["sha256"] == hashlib.sha256(data).hexdigest()
    assert {"name": "retired_on", "kind": "date"} in units["columns"]
    criteria = next(e for e in manifest["tables"] if e["name"] == "criteria")
    assert {"name": "max_points", "kind": "decimal"} in criteria["columns"]
    row = json.loads(data.splitlines()[0])
    assert row[0] == min(u.id for u in db.session.scalars(select(Unit)))  # rows in key order, typed values


def test_many_rows_cross_batches(world, runner, tmp_path):
    rows = [
        {"at": utcnow(), "username": "x", "action": "event", "changes": {"i": i}, "prev_hash": "0", "hash": f"{i:064d}"}
        for i in range(layout.BATCH * 2 + 17)
    ]
    db.session.execute(AuditEntry.__table__.insert(), rows)
    db.session.commit()
    path = tmp_path / "lon.zip"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    before = snapshot()  # as backed up: the backup seals the entries written straight into the table first
    assert len(before["audit_seals"]) == len(before["audit_entries"])
    result = runner.invoke(args=["restore", "--force", str(path)])
    assert result.exit_code == 0, result.output
    assert "đã xóa" in result.output
    assert snapshot() == before


# --- refusals: the database is left as it was ---------------------------------------------


def test_non_empty_database_is_refused_without_force(backup_file, runner):
    before = snapshot()
    result = runner.invoke(args=["restore", str(backup_file)])
    assert result.exit_code != 0
    assert "Cơ sở dữ liệu đang có dữ liệu" in result.output and "--force" in result.output
    assert snapshot() == before
    factories.unit("UBND xã Thêm Sau Sao Lưu")  # --force replaces everything, this too
    db.session.commit()
    result = runner.invoke(args=["restore", "--force", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert snapshot() == before


def test_an_edited_row_fails_its_sha256(backup_file, runner, tmp_path):
    before = snapshot()
    at = column_index(backup_file, "units", "name")
    edited = tmp_path / "sua.zip"

    def rename_first(lines):
        lines[0][at] = "Đơn vị bị sửa"
        return lines

    rewrite(backup_file, edited, tables={"units": rename_first}, rehash=False)
    result = runner.invoke(args=["restore", "--force", str(edited)])
    assert result.exit_code != 0
    assert "Dữ liệu bảng units không khớp mã SHA-256" in result.output
    assert snapshot() == before


def test_a_flipped_byte_is_refused(backup_file, runner, tmp_path):
    before = snapshot()
    with zipfile.ZipFile(backup_file) as archive:
        info = archive.getinfo("tables/audit_entries.jsonl")
    raw = bytearray(backup_file.read_bytes())
    # a local header is 30 bytes, then the member's name and extra field, then its compressed data
    start = info.header_offset
    name_len = int.from_bytes(raw[start + 26 : start + 28], "little")
    extra_len = int.from_bytes(raw[start + 28 : start + 30], "little")
    raw[start + 30 + name_len + extra_len + info.compress_size // 2] ^= 0xFF
    broken = tmp_path / "hong.zip"
    broken.write_bytes(bytes(raw))
    result = runner.invoke(args=["restore", "--force", str(broken)])
    assert result.exit_code != 0
    assert "bị hỏng" in result.output and "Không khôi phục gì" in result.output
    assert snapshot() == before


def test_wrong_format_version_is_refused(backup_file, runner, tmp_path):
    other = tmp_path / "v99.zip"
    rewrite(backup_file, other, manifest=lambda m: m.update(format_version=99))
    empty_database()
    result = runner.invoke(args=["restore", str(other)])
    assert result.exit_code != 0
    assert "định dạng phiên bản 99" in result.output
    assert all(not rows for rows in snapshot().values())


def test_not_a_backup_is_refused(world, runner, tmp_path):
    before = snapshot()
    text_file = tmp_path / "ghi-chu.zip"
    text_file.write_text("không phải tệp nén", encoding="utf-8")
    result = runner.invoke(args=["restore", "--force", str(text_file)])
    assert result.exit_code != 0 and "không phải tệp ZIP" in result.output
    assert snapshot() == before


def test_other_alembic_revision_is_refused(backup_file, runner):
    before = snapshot()
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('21598a1f06e5')"))
    try:
        result = runner.invoke(args=["restore", "--force", str(backup_file)])
        assert result.exit_code != 0
        assert "Alembic" in result.output and "21598a1f06e5" in result.output and "không có" in result.output
        assert snapshot() == before
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE alembic_version"))


def test_a_failure_half_way_rolls_everything_back(backup_file, runner, tmp_path):
    """A row the database rejects (here a membership of a unit that does not exist), after many
    tables went in: nothing of the restore stays, and --force's deletions are undone too."""
    before = snapshot()
    at = column_index(backup_file, "memberships", "unit_id")
    bad = tmp_path / "sai.zip"

    def dangling(lines):
        lines[-1][at] = 999_999
        return lines

    rewrite(backup_file, bad, tables={"memberships": dangling})
    result = runner.invoke(args=["restore", "--force", str(bad)])
    assert result.exit_code != 0
    assert "Không ghi được bảng memberships" in result.output and "giữ nguyên" in result.output
    assert snapshot() == before


def test_a_backup_into_a_missing_folder_fails_cleanly(world, runner, tmp_path):
    result = runner.invoke(args=["backup", str(tmp_path / "khong-co" / "sao-luu.zip")])
    assert result.exit_code != 0 and "không tồn tại" in result.output


# --- the service on its own: every kind of value, self-references in any order -----------


@pytest.fixture
def scratch_url(tmp_path):
    """An empty database of the kind the suite runs on, thrown away afterwards."""
    base = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    if not base.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    name = f"backup_check_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_database_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield normalise_database_url(base).rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _scratch_schema() -> MetaData:
    metadata = MetaData()
    Table(
        "nodes",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("parent_id", ForeignKey("nodes.id")),
        Column("label", String(64)),
    )
    Table(
        "samples",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("node_id", ForeignKey("nodes.id")),
        Column("amount", Numeric(18, 4)),
        Column("ratio", Float),
        Column("flag", Boolean),
        Column("day", Date),
        Column("moment", DateTime),
        Column("moment_tz", DateTime(timezone=True)),
        Column("clock", Time),
        Column("blob", LargeBinary),
        Column("doc", JSON),
        Column("note", Text),
    )
    return metadata


def test_every_kind_of_value_and_any_reference_order_round_trip(scratch_url, tmp_path):
    metadata = _scratch_schema()
    engine = create_engine(scratch_url)
    nodes, samples = metadata.tables["nodes"], metadata.tables["samples"]
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            # 1 → 3 (a later row), 2 → 1, 3 root; 4 ↔ 5 a cycle, built by an update
            for id_, parent_id in ((3, None), (1, 3), (2, 1), (4, None), (5, 4)):
                conn.execute(nodes.insert().values(id=id_, parent_id=parent_id, label=f"nút {id_}"))
            conn.execute(nodes.update().where(nodes.c.id == 4).values(parent_id=5))
            conn.execute(
                samples.insert(),
                [
                    {
                        "id": 1,
                        "node_id": 2,
                        "amount": D("-12345678901234.5678"),
                        "ratio": 0.1 + 0.2,
                        "flag": True,
                        "day": date(2024, 2, 29),
                        "moment": datetime(2025, 1, 15, 8, 30, 0, 123456),
                        "moment_tz": datetime(2025, 1, 15, 1, 30, tzinfo=UTC),
                        "clock": time(23, 59, 58, 5),
                        "blob": bytes(range(256)),
                        "doc": {"điểm": [1, 2.5, None, False], "lồng": {"a": "b\n\u2028"}},
                        "note": "Dòng một\nDòng hai “ngoặc” \\ \t",
                    },
                ],
            )
            conn.execute(samples.insert().values(id=2, doc=[]))  # every other column NULL

        def rows():
            with engine.connect() as conn:
                return {t.name: conn.execute(select(t).order_by(t.c.id)).all() for t in metadata.sorted_tables}

        before = rows()
        path = tmp_path / "scratch.zip"
        lines = []
        summary = write_backup(engine, metadata, path, progress=lambda *a: lines.append(a))
        assert summary.tables == [("nodes", 5), ("samples", 2)] and lines[0] == ("backup", "nodes", 5)

        with pytest.raises(layout.BackupError, match="đang có dữ liệu"):
            restore(engine, metadata, path)
        restored = restore(engine, metadata, path, force=True)
        assert restored.rows == 7
        assert rows() == before
    finally:
        metadata.drop_all(engine)
        engine.dispose()


def test_an_unknown_column_type_is_named(tmp_path):
    from sqlalchemy import Interval

    metadata = MetaData()
    Table("spans", metadata, Column("id", Integer, primary_key=True), Column("length", Interval))
    with pytest.raises(layout.BackupError, match="spans.length"):
        layout.column_kind(metadata.tables["spans"].c.length)


def test_a_backup_of_another_schema_is_refused(backup_file, tmp_path):
    other = tmp_path / "khac.zip"
    rewrite(backup_file, other, manifest=lambda m: m["tables"].append(dict(m["tables"][0], name="bang_la")))
    with pytest.raises(layout.BackupError, match="thừa bảng: bang_la"):
        restore(db.engine, db.metadata, other, force=True)
