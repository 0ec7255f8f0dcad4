"""Evidence files (minh chứng): kinds judged by content, limits, storage outside static/, who may read them."""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from datetime import timedelta
from decimal import Decimal as D
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.formatting import vn_today
from portal.models import Assessment, AuditEntry, Evidence
from portal.models.base import utcnow
from portal.services import DomainError
from portal.services.platform import file_types
from portal.services.scoring import assessments as assessments_svc
from portal.services.scoring import evidence as svc
from tests import factories

# --- tiny valid files, built here --------------------------------------------------------------

PDF = (
    b"%PDF-1.4\n1 0 obj <</Type/Catalog/Pages 2 0 R>> endobj\n2 0 obj <</Type/Pages/Kids[3 0 R]/Count 1>> endobj\n"
    b"3 0 obj <</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
)


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0\0")) + chunk(b"IEND", b"")


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\0" * 64 + b"\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"


def docx() -> bytes:
    from docx import Document

    document = Document()
    document.add_paragraph("Báo cáo kết quả thực hiện tiêu chí")
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active["A1"] = "Kết quả"
    out = BytesIO()
    book.save(out)
    return out.getvalue()


CT = "application/vnd.openxmlformats-officedocument.{}.main+xml"


def ooxml(main_part: str, content_type: str, *, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal OOXML package: content types, the package relationship and the main part."""
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            f'relationships+xml"/><Override PartName="/{main_part}" ContentType="{content_type}"/></Types>',
        )
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(main_part, "<main/>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def with_member(package: bytes, name: str, data: bytes, *, content_types=None) -> bytes:
    """A copy of a ZIP package with one more member (and [Content_Types].xml edited)."""
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(package)) as old, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            content = old.read(info.filename)
            if content_types and info.filename == "[Content_Types].xml":
                content = content_types(content)
            new.writestr(info.filename, content)
        new.writestr(name, data)
    return out.getvalue()


def odf(mimetype: str = "application/vnd.oasis.opendocument.text", extra: dict | None = None) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", "<office:document-content/>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def ole2(*streams: str) -> bytes:
    """A minimal compound file (MS-CFB): header, one FAT sector, one directory sector with the entries."""
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)  # versions, byte order, sector shifts
    struct.pack_into("<IIII", header, 44, 1, 1, 0, 0)  # 1 FAT sector; directory at sector 1
    struct.pack_into("<III", header, 56, 4096, 0xFFFFFFFE, 0)  # mini cutoff; no mini FAT
    struct.pack_into("<II", header, 68, 0xFFFFFFFE, 0)  # no DIFAT sectors
    struct.pack_into("<109I", header, 76, 0, *[0xFFFFFFFF] * 108)  # the FAT is sector 0
    fat = struct.pack("<128I", 0xFFFFFFFD, 0xFFFFFFFE, *[0xFFFFFFFF] * 126)
    directory = bytearray(512)
    for i, (name, kind) in enumerate([("Root Entry", 5), *((s, 2) for s in streams)]):
        encoded = name.encode("utf-16-le") + b"\0\0"
        directory[i * 128 : i * 128 + len(encoded)] = encoded
        struct.pack_into("<H", directory, i * 128 + 64, len(encoded))
        directory[i * 128 + 66] = kind
    return bytes(header) + fat + bytes(directory)


ALLOWED = [
    ("bao-cao.pdf", PDF, "application/pdf", "bao-cao.pdf"),
    ("anh chup.png", png(), "image/png", "anh chup.png"),
    ("scan.jpeg", JPEG, "image/jpeg", "scan.jpeg"),
    ("hinh.gif", GIF, "image/gif", "hinh.gif"),
    ("hinh.webp", WEBP, "image/webp", "hinh.webp"),
    ("Báo cáo quý 1.docx", docx(), file_types.DOCX[0], "Báo cáo quý 1.docx"),
    ("so-lieu.xlsx", xlsx(), file_types.XLSX[0], "so-lieu.xlsx"),
    ("trinh-chieu", ooxml("ppt/presentation.xml", CT.format("presentationml.presentation")), file_types.PPTX[0], None),
    ("cu.doc", ole2("WordDocument", "SummaryInformation"), "application/msword", "cu.doc"),
    ("bang.xls", ole2("Workbook"), "application/vnd.ms-excel", "bang.xls"),
    ("van-ban.odt", odf(), "application/vnd.oasis.opendocument.text", "van-ban.odt"),
]

MACRO_CT = "application/vnd.ms-word.document.macroEnabled.main+xml"
REFUSED = [
    ("bao-cao.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\0" * 200, "chương trình Windows"),
    ("anh.png", b"\x7fELF\x02\x01\x01" + b"\0" * 100, "chương trình Linux"),
    ("app.pdf", b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\0" * 100, "macOS"),
    ("trang.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "trang web"),
    ("logo.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "SVG"),
    ("cai-dat.docx", b"#!/bin/sh\nrm -rf /\n", "tệp lệnh"),
    ("ghi-chu.pdf", "Chỉ là văn bản thường".encode(), "Không nhận loại tệp này"),
    ("nen.zip", ooxml("other/part.xml", "application/xml"), "Không nhận loại tệp này"),
    ("macro.docm", with_member(docx(), "word/vbaProject.bin", b"\0" * 64), "macro"),
    (
        "macro.docx",
        with_member(
            docx(),
            "word/extra.xml",
            b"<x/>",
            content_types=lambda ct: ct.replace(CT.format("wordprocessingml.document").encode(), MACRO_CT.encode()),
        ),
        "macro",
    ),
    ("macro.xls", ole2("Workbook", "_VBA_PROJECT_CUR"), "macro"),
    ("cai-dat.doc", ole2("SummaryInformation", "!_StringData"), "Không nhận loại tệp này"),  # e.g. an .msi
    ("macro.odt", odf(extra={"Basic/Standard/Module1.xml": "<x/>"}), "macro"),
    ("hong.docx", b"PK\x03\x04" + b"\0" * 60, "hỏng"),
]


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def folder(app, tmp_path) -> Path:
    path = tmp_path / "evidence"
    app.config.update(EVIDENCE_FOLDER=str(path), EVIDENCE_MAX_BYTES=64 * 1024, EVIDENCE_MAX_FILES=3)
    return path


@pytest.fixture
def scoring(world, folder):
    cset, items = factories.scoring_table(world)
    assessments_svc.open_self_round(db.session, cset)
    db.session.commit()
    own = {
        role: db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == unit.id))
        for role, unit in (("member", world.member), ("head", world.head), ("deputy", world.deputy))
    }
    return {"set": cset, "criterion": items["direct"], "other_criterion": items["pass"], **own}


HX = {"HX-Request": "true"}


def upload_url(assessment, criterion) -> str:
    return f"/evidence/assessments/{assessment.id}/criteria/{criterion.id}"


def post_file(client, assessment, criterion, name: str, data: bytes, *, hx: bool = False, headers=None):
    """Upload as a form would; `hx`: as htmx does (hx-encoding multipart), wanting the fragment."""
    return client.post(
        upload_url(assessment, criterion),
        data={"file": (BytesIO(data), name)},
        content_type="multipart/form-data",
        headers={**(HX if hx else {}), **(headers or {})},
    )


def stored_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def evidence_count() -> int:
    return db.session.scalar(select(func.count(Evidence.id)))


def put(scoring, folder, name="bao-cao.pdf", data=PDF, role="member", criterion=None) -> Evidence:
    """Store directly through the service (setup for download and delete tests)."""
    evidence = svc.store(
        db.session,
        scoring[role],
        criterion or scoring["criterion"],
        name,
        BytesIO(data),
        folder=folder,
        max_bytes=64 * 1024,
        max_files=3,
        user_id=None,
    )
    db.session.commit()
    return evidence


# --- kinds by content --------------------------------------------------------------------------------


@pytest.mark.parametrize("name, data, content_type, shown", ALLOWED, ids=[a[0] for a in ALLOWED])
def test_every_allowed_kind_is_accepted(scoring, folder, app, auth, client, name, data, content_type, shown):
    auth.login("member")
    response = post_file(client, scoring["member"], scoring["criterion"], name, data, hx=True)
    assert response.status_code == 201, response.text
    evidence = db.session.scalars(select(Evidence)).one()
    assert evidence.content_type == content_type
    assert evidence.filename == (shown or f"{name}.{file_types.sniff(data[:4096], BytesIO(data))[1]}")
    assert evidence.size_bytes == len(data) and evidence.uploaded_by_user_id is not None
    path = folder / evidence.storage_key
    assert path.read_bytes() == data and re.fullmatch(r"[0-9a-f]{2}/[0-9a-f]{32}", evidence.storage_key)
    assert Path(app.static_folder) not in path.parents  # outside static/: never served without the checks
    assert evidence.filename in response.text and f'id="evidence-{scoring["member"].id}-' in response.text


@pytest.mark.parametrize("name, data, message", REFUSED, ids=[r[0] + "-" + r[2] for r in REFUSED])
def test_refused_kinds_store_nothing(scoring, folder, auth, client, name, data, message):
    auth.login("member")
    response = post_file(client, scoring["member"], scoring["criterion"], name, data, hx=True)
    assert response.status_code == 422
    assert message in response.text and "is-invalid" in response.text
    assert evidence_count() == 0 and stored_files(folder) == []


def test_refusal_lists_the_allowed_kinds(scoring):
    with pytest.raises(DomainError) as error:
        file_types.sniff(b"MZ\x90\x00", BytesIO(b"MZ\x90\x00"))
    assert error.value.field == "file"
    assert "Chỉ nhận: PDF, ảnh (PNG, JPEG, GIF, WebP), Word (.docx, .doc), Excel (.xlsx, .xls)" in error.value.message


def test_zip_bombs_are_not_unpacked(monkeypatch):
    package = ooxml("word/document.xml", CT.format("wordprocessingml.document"))
    monkeypatch.setattr(file_types, "ZIP_MAX_ENTRIES", 2)  # the package has 3
    with pytest.raises(DomainError, match="quá lớn khi giải nén"):
        file_types.sniff(package[:16], BytesIO(package))
    monkeypatch.undo()
    huge = BytesIO()
    with zipfile.ZipFile(huge, "w", zipfile.ZIP_DEFLATED) as archive:
        # compresses to almost nothing
        archive.writestr("[Content_Types].xml", b" " * (file_types.ZIP_MAX_MEMBER_READ + 10))
    with pytest.raises(DomainError, match="Không nhận"):
        file_types.sniff(huge.getvalue()[:16], huge)


def test_empty_and_oversized_files(scoring, folder, auth, client):
    auth.login("member")
    empty = post_file(client, scoring["member"], scoring["criterion"], "rong.pdf", b"", hx=True)
    assert empty.status_code == 422 and "Tệp rỗng" in empty.text
    big = PDF + b"0" * (64 * 1024)  # over EVIDENCE_MAX_BYTES, under the request limit
    oversized = post_file(client, scoring["member"], scoring["criterion"], "lon.pdf", big, hx=True)
    assert oversized.status_code == 422 and "Tệp quá lớn: mỗi tệp tối đa 64 KB" in oversized.text
    assert evidence_count() == 0 and stored_files(folder) == []


def test_a_body_over_the_request_limit_gets_a_clear_message(scoring, folder, auth, client):
    """Werkzeug refuses the body before the view (413); htmx gets the message next to the input."""
    auth.login("member")
    body = PDF + b"0" * (64 * 1024 + (1 << 20) + 10)
    fragment = post_file(client, scoring["member"], scoring["criterion"], "lon.pdf", body, hx=True)
    assert fragment.status_code == 422
    assert "Tệp quá lớn" in fragment.text and f'id="evidence-{scoring["member"].id}-' in fragment.text
    page = post_file(client, scoring["member"], scoring["criterion"], "lon.pdf", body)
    assert page.status_code == 413 and "Tệp quá lớn: mỗi tệp tối đa 64 KB" in page.text and "<html" in page.text
    assert evidence_count() == 0 and stored_files(folder) == []


def test_no_file_chosen(scoring, auth, client):
    auth.login("member")
    response = client.post(upload_url(scoring["member"], scoring["criterion"]), data={}, headers=HX)
    assert response.status_code == 422 and "Chọn tệp để tải lên." in response.text


@pytest.mark.parametrize(
    "raw, extension, expected",
    [
        ("C:\\Users\\an\\Desktop\\Báo cáo quý 1.PDF", "pdf", "Báo cáo quý 1.pdf"),
        ("../../etc/passwd", "pdf", "passwd.pdf"),
        ("virus.pdf", "jpg", "virus.jpg"),
        ("scan.JPEG", "jpg", "scan.jpeg"),
        ("ảnh\u202egpj.exe", "png", "ảnhgpj.png"),  # a right-to-left override would disguise the name
        ("tên\x00có\x1fký tự điều khiển.docx", "docx", "têncóký tự điều khiển.docx"),
        ('a<b>:"c"|d?.xlsx', "xlsx", "a b c d.xlsx"),
        ("", "pdf", "minh-chung.pdf"),
        ("...", "pdf", "minh-chung.pdf"),
        ("Kế hoạch 2026.v2.final", "pdf", "Kế hoạch 2026.v2.pdf"),
        ("x" * 300 + ".pdf", "pdf", "x" * 200 + ".pdf"),
    ],
)
def test_display_names_are_cleaned(raw, extension, expected):
    assert svc.clean_filename(raw, extension) == expected


def test_decomposed_vietnamese_names_are_composed():
    assert svc.clean_filename("Ba\u0301o ca\u0301o.pdf", "pdf") == "Báo cáo.pdf"


# --- limits and the assessment's state ------------------------------------------------------------------


def test_count_limit_per_criterion(scoring, folder, auth, client):
    auth.login("member")
    for i in range(3):
        ok = post_file(client, scoring["member"], scoring["criterion"], f"{i}.pdf", PDF, hx=True)
        assert ok.status_code == 201
    assert "Đã đủ 3 tệp" in ok.text and 'type="file"' not in ok.text
    refused = post_file(client, scoring["member"], scoring["criterion"], "4.pdf", PDF, hx=True)
    assert refused.status_code == 422 and "tối đa 3 tệp" in refused.text
    other = post_file(client, scoring["member"], scoring["other_criterion"], "4.pdf", PDF, hx=True)
    assert other.status_code == 201  # the limit is per criterion
    assert evidence_count() == 4 and len(stored_files(folder)) == 4


def test_criterion_of_another_table_is_not_found(scoring, world, folder, auth, client):
    from portal.services.criteria import sets as criteria_svc

    other_year = factories.year(2027, current=False)
    other = criteria_svc.create_set(db.session, world.cluster, other_year, title="Bảng 2027", target_total=D(100))
    stray = criteria_svc.add_criterion(db.session, other, None, code="I", title="Khác")
    db.session.commit()
    auth.login("member")
    assert post_file(client, scoring["member"], stray, "a.pdf", PDF).status_code == 404
    with pytest.raises(DomainError, match="không thuộc bảng tiêu chí"):
        put(scoring, folder, criterion=stray)


def test_submitted_assessment_refuses_uploads_and_deletes(scoring, folder, auth, client):
    evidence = put(scoring, folder)
    scoring["member"].status = "submitted"
    db.session.commit()
    auth.login("member")
    upload = post_file(client, scoring["member"], scoring["criterion"], "b.pdf", PDF, hx=True)
    assert upload.status_code == 422 and "đã nộp" in upload.text
    assert 'type="file"' not in upload.text and "bao-cao.pdf" in upload.text  # the list is intact, read-only
    delete = client.post(f"/evidence/{evidence.id}/delete", headers=HX)
    assert delete.status_code == 422 and "đã nộp" in delete.text
    assert evidence_count() == 1 and len(stored_files(folder)) == 1


def test_an_upload_after_a_concurrent_submit_is_refused(scoring, folder):
    """The form was opened on a draft; meanwhile a colleague submitted: the upload sees the submit."""
    from sqlalchemy.orm import Session

    assessment = scoring["member"]
    assert assessment.status == "draft"
    with Session(db.engine) as colleague:
        colleague.get(Assessment, assessment.id).status = "submitted"
        colleague.commit()
    with pytest.raises(DomainError, match="đã nộp") as error:
        put(scoring, folder)
    assert error.value.field == "file"
    db.session.rollback()
    assert evidence_count() == 0 and stored_files(folder) == []


def test_returned_assessment_is_editable_again(scoring, folder, auth, client):
    scoring["member"].status = "returned"
    db.session.commit()
    auth.login("member")
    assert post_file(client, scoring["member"], scoring["criterion"], "b.pdf", PDF).status_code in (201, 303)


def test_deadline(scoring, folder, auth, client):
    scoring["member"].round.deadline = utcnow() - timedelta(hours=1)
    db.session.commit()
    auth.login("member")
    late = post_file(client, scoring["member"], scoring["criterion"], "b.pdf", PDF, hx=True)
    assert late.status_code == 422 and "quá hạn" in late.text and evidence_count() == 0
    scoring["member"].extended_until = utcnow() + timedelta(days=1)
    db.session.commit()
    extended = post_file(client, scoring["member"], scoring["criterion"], "b.pdf", PDF, hx=True)
    assert extended.status_code == 201


def test_only_the_author_uploads(scoring, auth, client):
    scoring["member"].status = "submitted"
    db.session.commit()
    auth.logout()
    auth.login("head")  # reads the submitted assessment, may not write it
    assert post_file(client, scoring["member"], scoring["criterion"], "b.pdf", PDF).status_code == 403
    auth.logout()
    auth.login("outsider")
    assert post_file(client, scoring["member"], scoring["criterion"], "b.pdf", PDF).status_code == 404


# --- delete ---------------------------------------------------------------------------------------------


def test_delete_removes_the_row_then_the_file(scoring, folder, auth, client):
    keep, gone, third = put(scoring, folder, "giu.pdf"), put(scoring, folder, "xoa.pdf"), put(scoring, folder, "ba.pdf")
    gone_path = folder / gone.storage_key
    auth.login("member")
    response = client.post(f"/evidence/{gone.id}/delete", headers=HX)
    assert response.status_code == 200 and "giu.pdf" in response.text and "xoa.pdf" not in response.text
    assert not gone_path.exists() and (folder / keep.storage_key).exists()
    assert [e.id for e in db.session.scalars(select(Evidence).order_by(Evidence.id))] == [keep.id, third.id]
    plain = client.post(f"/evidence/{keep.id}/delete", headers={"Referer": "http://localhost/scoring/somewhere?x=1"})
    assert plain.status_code == 303 and plain.headers["Location"] == "/scoring/somewhere?x=1"
    elsewhere = client.post(f"/evidence/{third.id}/delete", headers={"Referer": "https://evil.example/x"})
    assert elsewhere.headers["Location"].startswith("/evidence/assessments/")
    assert evidence_count() == 0 and stored_files(folder) == []


def test_a_failed_delete_commit_keeps_the_file(scoring, folder, auth, client, monkeypatch):
    evidence = put(scoring, folder)
    path = folder / evidence.storage_key
    auth.login("member")

    def broken_commit():
        raise RuntimeError("database went away")

    monkeypatch.setattr(db.session, "commit", broken_commit)
    with pytest.raises(RuntimeError):
        client.post(f"/evidence/{evidence.id}/delete", headers=HX)
    monkeypatch.undo()
    assert path.exists() and evidence_count() == 1


# --- the transaction and the file -----------------------------------------------------------------------------


def test_rollback_leaves_no_file(scoring, folder, auth, client, monkeypatch):
    auth.login("member")

    def broken_commit():
        raise RuntimeError("database went away")

    monkeypatch.setattr(db.session, "commit", broken_commit)
    with pytest.raises(RuntimeError):
        post_file(client, scoring["member"], scoring["criterion"], "a.pdf", PDF, hx=True)
    monkeypatch.undo()
    assert evidence_count() == 0 and stored_files(folder) == []


def test_service_rollback_and_discard(scoring, folder):
    evidence = svc.store(
        db.session,
        scoring["member"],
        scoring["criterion"],
        "a.pdf",
        BytesIO(PDF),
        folder=folder,
        max_bytes=1 << 20,
        max_files=3,
        user_id=None,
    )
    assert (folder / evidence.storage_key).exists()  # in place once accepted, the row only flushed
    key = evidence.storage_key
    db.session.rollback()
    svc.discard_file(folder, key)
    assert evidence_count() == 0 and stored_files(folder) == []


def test_a_failed_flush_removes_its_file(scoring, folder, monkeypatch):
    def broken_flush(*args, **kwargs):
        raise RuntimeError("constraint")

    monkeypatch.setattr(db.session, "flush", broken_flush)
    with pytest.raises(RuntimeError):
        svc.store(
            db.session,
            scoring["member"],
            scoring["criterion"],
            "a.pdf",
            BytesIO(PDF),
            folder=folder,
            max_bytes=1 << 20,
            max_files=3,
            user_id=None,
        )
    monkeypatch.undo()
    db.session.rollback()
    assert stored_files(folder) == []


def test_storage_keys_never_leave_the_folder(folder):
    for key in ("../secret", "ab/../../x", "/etc/passwd", "ab/cd" + "0" * 30):
        with pytest.raises(ValueError):
            svc.discard_file(folder, key)


# --- download: who, and how ----------------------------------------------------------------------------------------


def test_download_permissions(scoring, folder, auth, client):
    evidence = put(scoring, folder)
    url = f"/evidence/{evidence.id}"
    assert client.get(url).status_code == 302 and "/login" in client.get(url).headers["Location"]
    auth.login("member")
    assert client.get(url).status_code == 200
    auth.logout()
    auth.login("head")  # another member of the same cluster: a draft does not exist for it
    assert client.get(url).status_code == 404
    auth.logout()
    auth.login("outsider")
    assert client.get(url).status_code == 404
    scoring["member"].status = "submitted"
    db.session.commit()
    for role in ("head", "deputy", "overseer", "secretariat"):
        auth.logout()
        auth.login(role)
        assert client.get(url).status_code == 200, role
    auth.logout()
    auth.login("outsider")
    assert client.get(url).status_code == 404


def test_download_headers(scoring, folder, auth, client):
    evidence = put(scoring, folder, name="Báo cáo.pdf")
    auth.login("member")
    response = client.get(f"/evidence/{evidence.id}")
    assert response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''B%C3%A1o%20c%C3%A1o.pdf" in disposition
    assert response.headers["Content-Length"] == str(len(PDF))
    inline = client.get(f"/evidence/{evidence.id}?inline=1")
    assert inline.headers["Content-Disposition"].startswith("inline;")


def test_office_files_never_show_inline(scoring, folder, auth, client):
    evidence = put(scoring, folder, name="a.docx", data=docx())
    auth.login("member")
    response = client.get(f"/evidence/{evidence.id}?inline=1")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Content-Type"] == file_types.DOCX[0]


def test_a_missing_file_is_not_found(scoring, folder, auth, client):
    evidence = put(scoring, folder)
    (folder / evidence.storage_key).unlink()
    auth.login("member")
    assert client.get(f"/evidence/{evidence.id}").status_code == 404


def test_static_never_serves_evidence(scoring, folder, auth, client):
    evidence = put(scoring, folder)
    auth.login("member")
    assert client.get(f"/static/{evidence.storage_key}").status_code == 404
    assert client.get(f"/static/evidence/{evidence.storage_key}").status_code == 404


# --- audit ------------------------------------------------------------------------------------------------------------


def test_upload_and_delete_are_audited_downloads_are_not(scoring, folder, auth, client):
    auth.login("member")
    post_file(client, scoring["member"], scoring["criterion"], "bao-cao.pdf", PDF, hx=True)
    evidence = db.session.scalars(select(Evidence)).one()
    entries = db.session.scalar(select(func.count(AuditEntry.id)))
    created = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "Evidence")).one()
    assert created.object_label == "Minh chứng: bao-cao.pdf" and created.username == "member"
    client.get(f"/evidence/{evidence.id}")
    client.get(upload_url(scoring["member"], scoring["criterion"]))
    assert db.session.scalar(select(func.count(AuditEntry.id))) == entries
    client.post(f"/evidence/{evidence.id}/delete", headers=HX)
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "Evidence")).all()
    assert len(actions) == 2 and actions[0] != actions[1]


# --- the list fragment ----------------------------------------------------------------------------------------------


def test_list_fragment_and_page(scoring, folder, auth, client, hx):
    put(scoring, folder, name="Báo cáo.pdf", data=PDF + b"0" * 1500)
    auth.login("member")
    url = upload_url(scoring["member"], scoring["criterion"])
    fragment = hx.get(url)
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith('<div class="evidence-box"')
    assert "Báo cáo.pdf" in fragment.text and "2 KB" in fragment.text
    assert vn_today().strftime("/%Y") in fragment.text  # dd/mm/yyyy, the Vietnam day (not UTC's, on 31/12 evening)
    assert 'hx-encoding="multipart/form-data"' in fragment.text and f'accept="{svc.ACCEPT}"' in fragment.text
    assert "PDF, ảnh, Word, Excel; tối đa" in fragment.text and "Xóa" in fragment.text
    assert "style=" not in fragment.text and "<script" not in fragment.text
    page = client.get(url)
    assert "<html" in page.text and "Báo cáo.pdf" in page.text and "HX-Request" in page.headers["Vary"]
    assert "<html" in hx.history_restore(url).text
    auth.logout()
    auth.login("outsider")
    assert client.get(url).status_code == 404


def test_plain_upload_redirects_back(scoring, folder, auth, client):
    auth.login("member")
    response = post_file(client, scoring["member"], scoring["criterion"], "a.pdf", PDF)
    assert response.status_code == 303 and response.headers["Location"] == upload_url(
        scoring["member"], scoring["criterion"]
    )


def test_list_query_count_is_flat(scoring, folder, auth, client, count_queries):
    auth.login("member")
    url = upload_url(scoring["member"], scoring["criterion"])
    put(scoring, folder)
    client.get(url)
    with count_queries() as one:
        client.get(url)
    put(scoring, folder, "b.pdf")
    put(scoring, folder, "c.pdf")
    with count_queries() as three:
        client.get(url)
    assert three() == one()


def test_by_criterion_is_one_query(scoring, folder, count_queries):
    member_files = [put(scoring, folder, f"{i}.pdf") for i in range(2)]
    other = put(scoring, folder, "khac.pdf", criterion=scoring["other_criterion"])
    head_file = put(scoring, folder, "truong.pdf", role="head")
    ids = [scoring["member"].id, scoring["head"].id, scoring["deputy"].id]
    db.session.expire_all()
    with count_queries() as n:
        grouped = svc.by_criterion(db.session, ids)
        names = {key: [e.filename for e in files] for key, files in grouped.items()}
    assert n() == 1
    assert names == {
        (scoring["member"].id, scoring["criterion"].id): [e.filename for e in member_files],
        (scoring["member"].id, scoring["other_criterion"].id): [other.filename],
        (scoring["head"].id, scoring["criterion"].id): [head_file.filename],
    }
    assert svc.by_criterion(db.session, []) == {}


def test_file_sizes_read_the_vietnamese_way(app):
    assert [svc.size_label(n) for n in (850, 12 * 1024, 1536 * 1024, 20 * 1024 * 1024)] == [
        "850 byte",
        "12 KB",
        "1,5 MB",
        "20 MB",
    ]


# --- CSRF on, as in production --------------------------------------------------------------------------------


def test_upload_with_csrf(scoring, folder, app, auth, client):
    auth.login("member")
    app.config["WTF_CSRF_ENABLED"] = True
    url = upload_url(scoring["member"], scoring["criterion"])
    token = re.search(r'"X-CSRFToken": "([^"]+)"', client.get(url).text).group(1)
    refused = post_file(client, scoring["member"], scoring["criterion"], "a.pdf", PDF, hx=True)
    assert refused.status_code == 400 and evidence_count() == 0
    accepted = post_file(
        client, scoring["member"], scoring["criterion"], "a.pdf", PDF, hx=True, headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 201 and evidence_count() == 1
    # the body limit is checked before CSRF reads the form, and still answers with the message
    body = PDF + b"0" * (64 * 1024 + (1 << 20) + 10)
    too_big = post_file(
        client, scoring["member"], scoring["criterion"], "b.pdf", body, hx=True, headers={"X-CSRFToken": token}
    )
    assert too_big.status_code == 422 and "Tệp quá lớn" in too_big.text


# --- archives that expand far beyond the upload limit (ZIP bombs) -----------------------------------

MB_OF_ZEROS = bytes(1 << 20)


def expanding_docx(megabytes: int, *, level: int = 9) -> bytes:
    """A valid .docx holding `megabytes` of zeros (they pack about 1000:1), written a megabyte at a time."""
    out = BytesIO(ooxml("word/document.xml", CT.format("wordprocessingml.document")))
    with (
        zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED, compresslevel=level) as archive,
        archive.open("word/media/fill.bin", "w", force_zip64=True) as member,
    ):
        for _ in range(megabytes):
            member.write(MB_OF_ZEROS)
    return out.getvalue()


def test_a_docx_that_expands_far_beyond_the_upload_limit_is_refused(scoring, folder, auth, client):
    """Issue 13: a .docx of 0.9 GB unpacked was accepted. Here a 32 KB file holds 32 MB of zeros."""
    data = expanding_docx(32)
    assert len(data) < 64 * 1024
    auth.login("member")
    response = post_file(client, scoring["member"], scoring["criterion"], "bao-cao.docx", data, hx=True)
    assert response.status_code == 422
    assert "tệp nén quá lớn khi giải nén" in response.text and "is-invalid" in response.text
    assert evidence_count() == 0 and stored_files(folder) == []


def test_the_unpacked_total_is_capped_at_ten_times_the_upload_limit():
    """200 MB for the default 20 MB limit (0.9 GB is refused); never below 64 MB, which ordinary
    documents under a small limit need (a plain 36 KB .docx unpacks to 0.8 MB of XML)."""
    assert svc.expanded_limit(20 * 1024 * 1024) == 200 * 1024 * 1024
    assert svc.expanded_limit(64 * 1024) == 64 * 1024 * 1024
    package = docx()
    with zipfile.ZipFile(BytesIO(package)) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    with pytest.raises(DomainError, match="quá lớn khi giải nén"):
        file_types.sniff(package[:16], BytesIO(package), max_expanded=unpacked - 1)
    assert file_types.sniff(package[:16], BytesIO(package), max_expanded=unpacked) == file_types.DOCX


def test_one_member_that_expands_a_thousandfold_is_refused_whatever_the_limit():
    data = expanding_docx(2, level=9)  # 2 MB of zeros in about 2 KB
    with pytest.raises(DomainError, match="quá lớn khi giải nén"):
        file_types.sniff(data[:16], BytesIO(data), max_expanded=1 << 40)
    assert file_types.sniff(docx()[:16], BytesIO(docx()), max_expanded=1 << 40) == file_types.DOCX
