"""flask backup / restore carry the evidence files: in the ZIP with their SHA-256, written back on restore."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from io import BytesIO

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Assessment, Evidence
from portal.services.platform.backup.layout import MANIFEST
from portal.services.scoring import assessments as assessments_svc
from portal.services.scoring import evidence as svc
from tests import factories
from tests.test_backup import empty_database
from tests.test_evidence import PDF, docx, png


@pytest.fixture
def folder(app, tmp_path):
    path = tmp_path / "evidence"
    app.config["EVIDENCE_FOLDER"] = str(path)
    return path


@pytest.fixture
def stored(world, folder):
    """Three files of the member's self-assessment, and a half-written upload that must not be backed up."""
    cset, items = factories.scoring_table(world)
    assessments_svc.open_self_round(db.session, cset)
    own = db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == world.member.id))
    for name, data in (("bao-cao.pdf", PDF), ("anh.png", png()), ("Báo cáo.docx", docx())):
        svc.store(
            db.session,
            own,
            items["direct"],
            name,
            BytesIO(data),
            folder=folder,
            max_bytes=1 << 20,
            max_files=10,
            user_id=None,
        )
    db.session.commit()
    (folder / ".upload-in-progress").write_bytes(b"partial")
    return {e.storage_key: (folder / e.storage_key).read_bytes() for e in db.session.scalars(select(Evidence))}


def wipe(folder) -> None:
    """A new server: no rows, no files."""
    empty_database()
    shutil.rmtree(folder)


def test_round_trip_with_files(stored, folder, runner, tmp_path):
    path = tmp_path / "sao-luu.zip"
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 tệp minh chứng" in result.output
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read(MANIFEST))
        names = set(archive.namelist())
        stored_uncompressed = {i.compress_type for i in archive.infolist() if i.filename.startswith("files/")}
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) == set(stored) and {f"files/{key}" for key in stored} <= names
    assert stored_uncompressed == {zipfile.ZIP_STORED}
    rows = {e.storage_key: e.sha256 for e in db.session.scalars(select(Evidence))}
    assert {key: entry["sha256"] for key, entry in listed.items()} == rows  # the manifest matches the rows
    assert not any(".upload" in name for name in names)

    wipe(folder)
    result = runner.invoke(args=["restore", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 tệp minh chứng" in result.output
    assert db.session.scalar(select(func.count(Evidence.id))) == 3
    for key, data in stored.items():
        assert (folder / key).read_bytes() == data
        assert hashlib.sha256(data).hexdigest() == rows[key]
    assert not [p for p in folder.rglob(".restore-*")]


def test_restore_keeps_files_already_in_place(stored, folder, runner, tmp_path):
    path = tmp_path / "sao-luu.zip"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    result = runner.invoke(args=["restore", "--force", str(path)])
    assert result.exit_code == 0, result.output
    for key, data in stored.items():
        assert (folder / key).read_bytes() == data


def _rewrite(src, dst, *, file_edit=None, manifest_edit=None) -> None:
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        manifest = json.loads(old.read(MANIFEST))
        for info in old.infolist():
            if info.filename == MANIFEST:
                continue
            data = old.read(info.filename)
            if file_edit and info.filename.startswith("files/"):
                data = file_edit(data)
            new.writestr(info.filename, data)
        if manifest_edit:
            manifest_edit(manifest)
        new.writestr(MANIFEST, json.dumps(manifest))


@pytest.mark.parametrize(
    "edit, message",
    [
        ({"file_edit": lambda data: data + b"x"}, "không khớp mã SHA-256"),
        ({"manifest_edit": lambda m: m["files"][0].update(path="../../etc/cron.d/x")}, "đường dẫn tệp không hợp lệ"),
        ({"manifest_edit": lambda m: m["files"].append({"path": "ab/missing", "size": 1, "sha256": ""})}, "thiếu tệp"),
    ],
)
def test_a_bad_file_in_the_backup_restores_nothing(stored, folder, runner, tmp_path, edit, message):
    path, bad = tmp_path / "sao-luu.zip", tmp_path / "sua.zip"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    _rewrite(path, bad, **edit)
    wipe(folder)
    result = runner.invoke(args=["restore", str(bad)])
    assert result.exit_code != 0 and message in result.output
    assert db.session.scalar(select(func.count(Evidence.id))) == 0
    assert not folder.exists() or not [p for p in folder.rglob("*") if p.is_file()]
    assert not (tmp_path.parent / "etc").exists()


def test_backup_without_evidence_folder(world, app, runner, tmp_path):
    app.config["EVIDENCE_FOLDER"] = str(tmp_path / "chua-co")
    path = tmp_path / "sao-luu.zip"
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0 and "0 tệp minh chứng" in result.output
    with zipfile.ZipFile(path) as archive:
        assert json.loads(archive.read(MANIFEST))["files"] == []
