"""What a file is, judged by its bytes (never by its name): the kinds of evidence the portal keeps.

PDF, images, Word, Excel and PowerPoint (OOXML without macros, legacy OLE2, OpenDocument) are
recognised; anything else (a program renamed to .pdf, a script, a web page that could run code in
a browser, a macro document) is refused with a Vietnamese message. ZIP-based files are looked
into, never unpacked, within fixed caps. No database, no Flask.
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from typing import BinaryIO
from xml.etree import ElementTree

from portal.models.base import N_
from portal.services import DomainError

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

# An archive is only looked into, never unpacked: a ZIP bomb costs at most these. It is refused even so:
# whoever downloads it would unpack it (Word expands a 1 MB .docx of zeros to 1 GB).
ZIP_MAX_ENTRIES = 10_000
ZIP_MAX_UNCOMPRESSED = 1 << 30  # declared total, when the caller gives no upload limit
ZIP_MAX_EXPANSION = 10  # the declared total may be this many times the upload limit …
ZIP_MIN_EXPANDED = 64 << 20  # … and never less: a plain 36 KB .docx already unpacks to 0.8 MB (styles XML)
ZIP_MAX_RATIO = 200  # one member may expand this many times over its compressed size …
ZIP_RATIO_FLOOR = 1 << 20  # … once it expands beyond 1 MB (tiny members compress any way they like)
ZIP_MAX_MEMBER_READ = 256 * 1024  # [Content_Types].xml, mimetype
OLE_MAX_DIRECTORY_SECTORS = 4096

# Files told by their first bytes alone.
_SIGNATURES = (
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
)
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


class Refused(DomainError):
    """The file is not a kind of evidence the portal keeps."""

    def __init__(self, why: str | None = None):
        if why:
            super().__init__(
                N_("Tệp này là %(kind)s, không được tải lên. Chỉ nhận: %(allowed)s."), FIELD, kind=why, allowed=ALLOWED
            )
        else:
            super().__init__(N_("Không nhận loại tệp này. Chỉ nhận: %(allowed)s."), FIELD, allowed=ALLOWED)


class MacroRefused(DomainError):
    def __init__(self):
        super().__init__(
            N_(
                "Tệp có chứa macro (VBA), không được tải lên. Hãy lưu lại thành .docx, .xlsx hoặc .pptx thường "
                "(không macro) hoặc xuất ra PDF rồi tải lên."
            ),
            FIELD,
        )


# --- what a file is ----------------------------------------------------------------------


def sniff(head: bytes, stream: BinaryIO, *, max_expanded: int = ZIP_MAX_UNCOMPRESSED) -> tuple[str, str]:
    """(content type, extension) of the file from its content; refuses everything not allowed.

    `head` is the file's first bytes; `stream` the whole file, seekable, for the
    containers (ZIP-based office files, OLE2) whose kind is told by what they hold.
    A ZIP-based file whose members declare more than `max_expanded` bytes in all is refused.
    """
    for magic, kind in _SIGNATURES:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(stream, max_expanded)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _ole_kind(stream)
    raise _refusal(head)


def _refusal(head: bytes) -> Refused:
    """Why a file of no allowed kind is refused: named when it is a program or a web page."""
    for magic, what in _PROGRAMS:
        if head.startswith(magic):
            return Refused(what)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<") and any(tag in text for tag in _MARKUP):
        return Refused("trang web hoặc ảnh SVG (có thể chứa mã chạy trong trình duyệt)")
    return Refused()


def _zip_kind(stream: BinaryIO, max_expanded: int) -> tuple[str, str]:
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
            if len(infos) > ZIP_MAX_ENTRIES or sum(i.file_size for i in infos) > max_expanded or any(map(_bomb, infos)):
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


def expanded_limit(max_bytes: int) -> int:
    """What a ZIP-based file of at most `max_bytes` may unpack to: 200 MB for the 20 MB default upload limit."""
    return max(ZIP_MAX_EXPANSION * max_bytes, ZIP_MIN_EXPANDED)


def _bomb(info: zipfile.ZipInfo) -> bool:
    """A member that expands far more than any document does (zeros pack about 1000:1)."""
    return info.file_size > ZIP_RATIO_FLOOR and info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1)


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
    compound = _CompoundFile(stream)
    return compound.directory_names(compound.fat())


def _damaged_ole() -> Refused:
    return Refused("tài liệu Office cũ bị hỏng")


class _CompoundFile:
    """An OLE2 compound file read sector by sector; every index is checked against the file's size."""

    def __init__(self, stream: BinaryIO):
        stream.seek(0, os.SEEK_END)
        self.size = stream.tell()
        stream.seek(0)
        self.header = header = stream.read(512)
        if len(header) < 512 or struct.unpack_from("<H", header, 30)[0] not in (9, 12):
            raise _damaged_ole()
        self.stream = stream
        self.sector = 1 << struct.unpack_from("<H", header, 30)[0]
        self.per_sector = self.sector // 4
        self.n_sectors = self.size // self.sector + 1

    def read(self, index: int) -> bytes:
        offset = (index + 1) * self.sector
        if index >= self.n_sectors or offset >= self.size:
            raise _damaged_ole()
        self.stream.seek(offset)
        return self.stream.read(self.sector).ljust(self.sector, b"\0")

    def fat(self) -> list[int]:
        """The file allocation table: the next sector of each sector's chain (its own sectors listed by the
        header and the DIFAT chain)."""
        n_fat, first_difat, n_difat = (struct.unpack_from("<I", self.header, o)[0] for o in (44, 68, 72))
        if n_fat > self.n_sectors or n_difat > self.n_sectors:
            raise _damaged_ole()
        fat_sectors = list(struct.unpack_from("<109I", self.header, 76))
        following = first_difat
        for _ in range(n_difat):
            if following >= 0xFFFFFFFA:
                break
            ids = struct.unpack(f"<{self.per_sector}I", self.read(following))
            fat_sectors += ids[:-1]
            following = ids[-1]
        fat: list[int] = []
        for index in [s for s in fat_sectors if s < 0xFFFFFFFA][:n_fat]:
            fat += struct.unpack(f"<{self.per_sector}I", self.read(index))
        return fat

    def directory_names(self, fat: list[int]) -> set[str]:
        """The names in the directory's chain of sectors (128-byte entries: storages, streams, the root)."""
        names, seen, current = set(), set(), struct.unpack_from("<I", self.header, 48)[0]
        while current < 0xFFFFFFFA:
            if current in seen or current >= len(fat) or len(seen) >= OLE_MAX_DIRECTORY_SECTORS:
                raise _damaged_ole()
            seen.add(current)
            block = self.read(current)
            for offset in range(0, self.sector, 128):
                length, kind = struct.unpack_from("<H", block, offset + 64)[0], block[offset + 66]
                if kind in (1, 2, 5) and 2 <= length <= 64:
                    names.add(block[offset : offset + length - 2].decode("utf-16-le", "replace").lower())
            current = fat[current]
        return names


# --- names and places ----------------------------------------------------------------------
