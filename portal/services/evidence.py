"""Evidence files (minh chứng): what a unit attaches to one criterion of its assessment.

A file is judged by its bytes, never by its name: PDF, images, Word, Excel and
PowerPoint (OOXML without macros, legacy OLE2, OpenDocument) are kept; anything
else (a program renamed to .pdf, a script, a web page that could run code in a
browser) is refused. The bytes live under EVIDENCE_FOLDER, outside static/, at
`<aa>/<uuid hex>`; the row keeps the sniffed type, the size, the SHA-256 and a
cleaned display name whose extension is the sniffed one.

Files and rows change together: `store` puts the file in place only once it is
accepted and removes it again if its own flush fails; the caller removes it with
`discard_file` if the transaction rolls back later, and removes a deleted row's
file only after the commit succeeded.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import tempfile
import unicodedata
import uuid
import zipfile
import zlib
from collections.abc import Iterable
from contextlib import suppress
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO
from xml.etree import ElementTree

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.formatting import vn_number
from portal.models import Assessment, Criterion, Evidence
from portal.models.base import utcnow
from portal.services import DomainError
from portal.services.assessments import check_open

FIELD = "file"
CHUNK = 1 << 20
HEAD_BYTES = 4096
ALLOWED = (
    "PDF, ảnh (PNG, JPEG, GIF, WebP), Word (.docx, .doc), Excel (.xlsx, .xls), "
    "PowerPoint (.pptx, .ppt), OpenDocument (.odt, .ods, .odp)"
)
# For the file input's `accept`: a hint to the browser; the server still judges the bytes.
ACCEPT = ".pdf,.png,.jpg,.jpeg,.gif,.webp,.docx,.doc,.xlsx,.xls,.pptx,.ppt,.odt,.ods,.odp"
# Shown in the browser with ?inline=1; everything else only downloads.
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"})

PDF = ("application/pdf", "pdf")
PNG, JPEG, GIF, WEBP = ("image/png", "png"), ("image/jpeg", "jpg"), ("image/gif", "gif"), ("image/webp", "webp")
DOCX = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
XLSX = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
PPTX = ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx")
DOC, XLS, PPT = (
    ("application/msword", "doc"),
    ("application/vnd.ms-excel", "xls"),
    ("application/vnd.ms-powerpoint", "ppt"),
)
ODF = {
    "application/vnd.oasis.opendocument.text": ("application/vnd.oasis.opendocument.text", "odt"),
    "application/vnd.oasis.opendocument.spreadsheet": ("application/vnd.oasis.opendocument.spreadsheet", "ods"),
    "application/vnd.oasis.opendocument.presentation": ("application/vnd.oasis.opendocument.presentation", "odp"),
}
# OOXML: the main part and the content type [Content_Types].xml must give it.
OOXML_MAIN = (
    ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml", DOCX),
    ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", XLSX),
    (
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
        PPTX,
    ),
)
EXTENSION_ALIASES = {"jpg": {"jpg", "jpeg"}}

# An archive is only looked into, never unpacked: a ZIP bomb costs at most these.
ZIP_MAX_ENTRIES = 10_000
ZIP_MAX_UNCOMPRESSED = 1 << 30  # declared total; a 20 MB office file is far below
ZIP_MAX_MEMBER_READ = 256 * 1024  # [Content_Types].xml, mimetype
OLE_MAX_DIRECTORY_SECTORS = 4096

# Recognised only to say plainly why they are refused (the allow-list refuses them anyway).
_PROGRAMS = (
    (b"MZ", "tệp chương trình Windows (.exe, .dll…)"),
    (b"\x7fELF", "tệp chương trình Linux (ELF)"),
    (b"\xfe\xed\xfa\xce", "tệp chương trình macOS (Mach-O)"),
    (b"\xfe\xed\xfa\xcf", "tệp chương trình macOS (Mach-O)"),
    (b"\xce\xfa\xed\xfe", "tệp chương trình macOS (Mach-O)"),
    (b"\xcf\xfa\xed\xfe", "tệp chương trình macOS (Mach-O)"),
    (b"\xca\xfe\xba\xbe", "tệp chương trình (Mach-O hoặc Java)"),
    (b"#!", "tệp lệnh (script)"),
)
_MARKUP = (b"<html", b"<!doctype", b"<svg", b"<script", b"<?xml", b"<head", b"<body", b"<iframe", b"<object")
_KEY = re.compile(r"([0-9a-f]{2})/(\1[0-9a-f]{30})")


class Refused(DomainError):
    """The file is not a kind of evidence the portal keeps."""

    def __init__(self, why: str | None = None):
        lead = f"Tệp này là {why}, không được tải lên. " if why else "Không nhận loại tệp này. "
        super().__init__(f"{lead}Chỉ nhận: {ALLOWED}.", FIELD)


class MacroRefused(DomainError):
    def __init__(self):
        super().__init__(
            "Tệp có chứa macro (VBA), không được tải lên. Hãy lưu lại thành .docx, .xlsx hoặc .pptx thường "
            "(không macro) hoặc xuất ra PDF rồi tải lên.",
            FIELD,
        )


# --- what a file is ----------------------------------------------------------------------


def sniff(head: bytes, stream: BinaryIO) -> tuple[str, str]:
    """(content type, extension) of the file from its content; refuses everything not allowed.

    `head` is the file's first bytes; `stream` the whole file, seekable, for the
    containers (ZIP-based office files, OLE2) whose kind is told by what they hold.
    """
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(stream)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _ole_kind(stream)
    for magic, what in _PROGRAMS:
        if head.startswith(magic):
            raise Refused(what)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<") and any(tag in text for tag in _MARKUP):
        raise Refused("trang web hoặc ảnh SVG (có thể chứa mã chạy trong trình duyệt)")
    raise Refused()


def _zip_kind(stream: BinaryIO) -> tuple[str, str]:
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
            if len(infos) > ZIP_MAX_ENTRIES or sum(i.file_size for i in infos) > ZIP_MAX_UNCOMPRESSED:
                raise Refused("tệp nén quá lớn khi giải nén")
            names = {info.filename for info in infos}
            lowered = {name.lower() for name in names}
            if any(name.endswith(("vbaproject.bin", "vbadata.xml")) for name in lowered):
                raise MacroRefused()
            if "[Content_Types].xml" in names:
                return _ooxml_kind(archive, lowered)
            if "mimetype" in names:
                return _odf_kind(archive, lowered)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        RuntimeError,
        EOFError,
        ValueError,
        zlib.error,
    ):
        raise Refused("tệp nén bị hỏng hoặc có mật khẩu") from None
    raise Refused("tệp nén (ZIP)")


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    with archive.open(name) as member:
        data = member.read(ZIP_MAX_MEMBER_READ + 1)
    if len(data) > ZIP_MAX_MEMBER_READ:
        raise Refused()
    return data


def _ooxml_kind(archive: zipfile.ZipFile, names: set[str]) -> tuple[str, str]:
    data = _read_member(archive, "[Content_Types].xml")
    if b"<!DOCTYPE" in data.upper():  # never in OOXML; entity tricks live there
        raise Refused()
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        raise Refused("tài liệu Office bị hỏng") from None
    parts, types = {}, set()
    for element in root:
        content_type = (element.get("ContentType") or "").lower()
        types.add(content_type)
        if element.tag.endswith("Override"):
            parts[(element.get("PartName") or "").lstrip("/").lower()] = content_type
    if any("macroenabled" in t or "vbaproject" in t for t in types):
        raise MacroRefused()
    for part, content_type, kind in OOXML_MAIN:
        if parts.get(part) == content_type and part in names:
            return kind
    raise Refused()


def _odf_kind(archive: zipfile.ZipFile, names: set[str]) -> tuple[str, str]:
    if any(name.startswith(("basic/", "scripts/")) for name in names):
        raise MacroRefused()
    kind = ODF.get(_read_member(archive, "mimetype").strip().decode("ascii", "replace"))
    if kind is None:
        raise Refused()
    return kind


def _ole_kind(stream: BinaryIO) -> tuple[str, str]:
    """Legacy Word, Excel, PowerPoint by the streams the compound file holds (an .msi is OLE2 too)."""
    names = _ole_entries(stream)
    if "encryptedpackage" in names or "encryptioninfo" in names:
        raise Refused("tài liệu đặt mật khẩu (hãy bỏ mật khẩu rồi tải lên)")
    if names & {"macros", "vba", "_vba_project", "_vba_project_cur"}:
        raise MacroRefused()
    if "worddocument" in names:
        return DOC
    if names & {"workbook", "book"}:
        return XLS
    if "powerpoint document" in names:
        return PPT
    raise Refused()


def _ole_entries(stream: BinaryIO) -> set[str]:
    """Names of the storages and streams in an OLE2 compound file (MS-CFB), lower-cased."""
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    header = stream.read(512)
    bad = Refused("tài liệu Office cũ bị hỏng")
    if len(header) < 512 or struct.unpack_from("<H", header, 30)[0] not in (9, 12):
        raise bad
    sector = 1 << struct.unpack_from("<H", header, 30)[0]
    per_sector = sector // 4
    n_fat, first_dir, first_difat, n_difat = (struct.unpack_from("<I", header, o)[0] for o in (44, 48, 68, 72))
    n_sectors = size // sector + 1

    def read(index: int) -> bytes:
        offset = (index + 1) * sector
        if index >= n_sectors or offset >= size:
            raise bad
        stream.seek(offset)
        return stream.read(sector).ljust(sector, b"\0")

    if n_fat > n_sectors or n_difat > n_sectors:
        raise bad
    fat_sectors = list(struct.unpack_from("<109I", header, 76))
    following = first_difat
    for _ in range(n_difat):
        if following >= 0xFFFFFFFA:
            break
        ids = struct.unpack(f"<{per_sector}I", read(following))
        fat_sectors += ids[:-1]
        following = ids[-1]
    fat: list[int] = []
    for index in [s for s in fat_sectors if s < 0xFFFFFFFA][:n_fat]:
        fat += struct.unpack(f"<{per_sector}I", read(index))
    names, seen, current = set(), set(), first_dir
    while current < 0xFFFFFFFA:
        if current in seen or current >= len(fat) or len(seen) >= OLE_MAX_DIRECTORY_SECTORS:
            raise bad
        seen.add(current)
        block = read(current)
        for offset in range(0, sector, 128):
            length, kind = struct.unpack_from("<H", block, offset + 64)[0], block[offset + 66]
            if kind in (1, 2, 5) and 2 <= length <= 64:
                names.add(block[offset : offset + length - 2].decode("utf-16-le", "replace").lower())
        current = fat[current]
    return names


# --- names and places ----------------------------------------------------------------------


def clean_filename(raw: str | None, extension: str) -> str:
    """The name shown and offered on download: no path, no control or bidi characters, the sniffed extension."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]  # some browsers send the full client path
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = " ".join(re.sub(r'[<>:"|?*]', " ", name).split()).strip(" .")
    stem, dot, suffix = name.rpartition(".")
    keep = extension
    if dot and stem and re.fullmatch(r"[0-9A-Za-z]{1,5}", suffix):
        name = stem.rstrip(" .")
        if suffix.lower() in EXTENSION_ALIASES.get(extension, ()):
            keep = suffix.lower()  # scan.jpeg stays .jpeg
    return f"{name[:200].rstrip(' .') or 'minh-chung'}.{keep}"


def _path(folder: str | os.PathLike, storage_key: str) -> Path:
    if not _KEY.fullmatch(storage_key or ""):
        raise ValueError(f"not an evidence storage key: {storage_key!r}")
    return Path(folder) / storage_key


def discard_file(folder: str | os.PathLike, storage_key: str) -> None:
    """Remove a stored file (after a rollback of its row, or once its deletion is committed)."""
    with suppress(FileNotFoundError):
        _path(folder, storage_key).unlink()


def path_of(folder: str | os.PathLike, evidence: Evidence) -> Path:
    """Where the bytes are (for send_file: size, ranges); the key is checked, so never outside `folder`."""
    return _path(folder, evidence.storage_key)


def open_file(folder: str | os.PathLike, evidence: Evidence) -> BinaryIO:
    """The stored bytes, for reading; FileNotFoundError if the file is gone."""
    return path_of(folder, evidence).open("rb")


def _receive(stream: BinaryIO, folder: Path, max_bytes: int) -> tuple[str, int, str, bytes]:
    """Copy the upload into a temporary file beside its final place, counting every byte read."""
    fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=folder)
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise DomainError(f"Tệp quá lớn: mỗi tệp tối đa {size_label(max_bytes)}.", FIELD)
                head += chunk[: max(0, HEAD_BYTES - len(head))]
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise DomainError("Tệp rỗng (0 byte); hãy chọn lại tệp.", FIELD)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp, size, digest.hexdigest(), head


def size_label(size: int | None) -> str:
    """850 byte, 12 KB, 1,5 MB: with the decimal comma."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} byte"
    if size < 1 << 20:
        return f"{vn_number(round(Decimal(size) / 1024))} KB"
    return f"{vn_number(round(Decimal(size) / (1 << 20), 1))} MB"


# --- use cases -------------------------------------------------------------------------------


def _open_for_change(session: Session, assessment: Assessment, now: datetime) -> None:
    """Editable and within the deadline, checked under a row lock so an upload never lands after a submit."""
    status = session.scalar(select(Assessment.status).where(Assessment.id == assessment.id).with_for_update())
    if status != assessment.status:
        session.refresh(assessment)  # submitted or returned meanwhile
    try:
        check_open(assessment, now)
    except DomainError as error:
        raise DomainError(error.message, FIELD) from None


def is_open(assessment: Assessment, now: datetime | None = None) -> bool:
    """May files still be added or removed (for showing the form; the change itself checks again)?"""
    try:
        check_open(assessment, now or utcnow())
    except DomainError:
        return False
    return True


def store(
    session: Session,
    assessment: Assessment,
    criterion: Criterion,
    filename: str | None,
    stream: BinaryIO,
    *,
    folder: str | os.PathLike,
    max_bytes: int,
    max_files: int,
    user_id: int | None,
    now: datetime | None = None,
) -> Evidence:
    """Keep one uploaded file as evidence of `criterion` in `assessment`; returns the flushed row."""
    _open_for_change(session, assessment, now or utcnow())
    if criterion.set_id != assessment.criteria_set_id:
        raise DomainError("Tiêu chí không thuộc bảng tiêu chí của bản chấm này.", FIELD)
    count = session.scalar(
        select(func.count(Evidence.id)).where(
            Evidence.assessment_id == assessment.id, Evidence.criterion_id == criterion.id
        )
    )
    if count >= max_files:
        raise DomainError(f"Mỗi tiêu chí có tối đa {max_files} tệp minh chứng; hãy xóa bớt tệp cũ.", FIELD)
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    tmp, size, digest, head = _receive(stream, root, max_bytes)
    try:
        with open(tmp, "rb") as received:
            content_type, extension = sniff(head, received)
        key = f"{(name := uuid.uuid4().hex)[:2]}/{name}"
        (root / key[:2]).mkdir(exist_ok=True)
        os.replace(tmp, root / key)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    evidence = Evidence(
        assessment_id=assessment.id,
        criterion_id=criterion.id,
        filename=clean_filename(filename, extension),
        content_type=content_type,
        size_bytes=size,
        sha256=digest,
        storage_key=key,
        uploaded_at=now or utcnow(),
        uploaded_by_user_id=user_id,
    )
    session.add(evidence)
    try:
        session.flush()
    except BaseException:
        discard_file(root, key)
        raise
    return evidence


def delete(session: Session, evidence: Evidence, assessment: Assessment, *, now: datetime | None = None) -> str:
    """Remove the row while the assessment is editable; returns the storage key to discard after the commit."""
    if evidence.assessment_id != assessment.id:
        raise ValueError("evidence of another assessment")
    _open_for_change(session, assessment, now or utcnow())
    key = evidence.storage_key
    session.delete(evidence)
    session.flush()
    return key


def by_criterion(session: Session, assessment_ids: Iterable[int]) -> dict[tuple[int, int], list[Evidence]]:
    """Every file of these assessments, by (assessment id, criterion id), oldest first: one query."""
    ids = list(assessment_ids)
    grouped: dict[tuple[int, int], list[Evidence]] = {}
    if not ids:
        return grouped
    rows = session.scalars(
        select(Evidence).where(Evidence.assessment_id.in_(ids)).order_by(Evidence.uploaded_at, Evidence.id)
    )
    for row in rows:
        grouped.setdefault((row.assessment_id, row.criterion_id), []).append(row)
    return grouped


def files_of(session: Session, assessment_id: int, criterion_id: int) -> list[Evidence]:
    """One criterion's files, oldest first."""
    return list(
        session.scalars(
            select(Evidence)
            .where(Evidence.assessment_id == assessment_id, Evidence.criterion_id == criterion_id)
            .order_by(Evidence.uploaded_at, Evidence.id)
        )
    )
