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
import tempfile
import unicodedata
import uuid
from collections.abc import Iterable
from contextlib import suppress
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.formatting import vn_number
from portal.models import Assessment, Criterion, Evidence
from portal.models.base import N_, utcnow
from portal.services import DomainError
from portal.services.platform.file_types import (  # noqa: F401 - the evidence vocabulary, used by views and tests
    ACCEPT,
    ALLOWED,
    CHUNK,
    EXTENSION_ALIASES,
    FIELD,
    HEAD_BYTES,
    INLINE_TYPES,
    MacroRefused,
    Refused,
    expanded_limit,
    sniff,
)
from portal.services.scoring.assessments import check_open

_KEY = re.compile(r"([0-9a-f]{2})/(\1[0-9a-f]{30})")  # <aa>/<uuid hex>: nothing else is ever opened


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


def _receive(stream: BinaryIO, folder: Path, max_bytes: int) -> tuple[str, int, str, bytes]:
    """Copy the upload into a temporary file beside its final place, counting every byte read."""
    fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=folder)
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise DomainError(N_("Tệp quá lớn: mỗi tệp tối đa %(size)s."), FIELD, size=size_label(max_bytes))
                head += chunk[: max(0, HEAD_BYTES - len(head))]
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise DomainError(N_("Tệp rỗng (0 byte); hãy chọn lại tệp."), FIELD)
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
        raise DomainError(error.msgid, FIELD, **error.params) from None


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
    _check_room(session, assessment, criterion, max_files)
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    key, size, digest, (content_type, extension) = _keep(stream, root, max_bytes)
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


def _check_room(session: Session, assessment: Assessment, criterion: Criterion, max_files: int) -> None:
    """The criterion belongs to the assessment's table and has room for one more file."""
    if criterion.set_id != assessment.criteria_set_id:
        raise DomainError(N_("Tiêu chí không thuộc bảng tiêu chí của bản chấm này."), FIELD)
    count = session.scalar(
        select(func.count(Evidence.id)).where(
            Evidence.assessment_id == assessment.id, Evidence.criterion_id == criterion.id
        )
    )
    if count >= max_files:
        raise DomainError(
            N_("Mỗi tiêu chí có tối đa %(count)s tệp minh chứng; hãy xóa bớt tệp cũ."), FIELD, count=max_files
        )


def _keep(stream: BinaryIO, root: Path, max_bytes: int) -> tuple[str, int, str, tuple[str, str]]:
    """The upload received, judged by its bytes and moved under a fresh key: (key, size, sha256, its kind).
    A refused file leaves nothing behind."""
    tmp, size, digest, head = _receive(stream, root, max_bytes)
    try:
        with open(tmp, "rb") as received:
            kind = sniff(head, received, max_expanded=expanded_limit(max_bytes))
        key = f"{(name := uuid.uuid4().hex)[:2]}/{name}"
        (root / key[:2]).mkdir(exist_ok=True)
        os.replace(tmp, root / key)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return key, size, digest, kind


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
