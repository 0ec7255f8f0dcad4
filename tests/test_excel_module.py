"""The shared Excel module: the safe cell writer and the checks on an uploaded workbook."""

import io
import zipfile

import openpyxl
import pytest

from portal.services.platform import excel
from portal.services.platform.excel import (
    OLE_MAGIC,
    XLS,
    UploadMessages,
    WorkbookRefused,
    append_row,
    check_uploaded_workbook,
    open_uploaded_workbook,
    put,
    put_row,
)

MESSAGES = UploadMessages(not_xlsx="not xlsx", unpacked="unpacked", too_big="too big", damaged="damaged", empty="empty")
PLAIN = UploadMessages(not_xlsx="not xlsx", unpacked="unpacked")


def _saved(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx(*rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    return _saved(book)


def _rezip(data: bytes, *, extra: dict[str, bytes] | None = None, replace: tuple[bytes, bytes] | None = None) -> bytes:
    """The same zip, with members added and the content types edited."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if replace and info.filename == "[Content_Types].xml":
                content = content.replace(*replace)
            target.writestr(info, content)
        for name, content in (extra or {}).items():
            target.writestr(name, content)
    return out.getvalue()


def _refusal(data: bytes, max_bytes: int | None = None, *, max_unpacked: int = 10**8, messages=MESSAGES) -> str:
    with pytest.raises(WorkbookRefused) as caught:
        open_uploaded_workbook(data, max_bytes, max_unpacked=max_unpacked, messages=messages)
    return caught.value.message


# --- the cell writer -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        '=HYPERLINK("http://evil.example","Bấm")',
        "=cmd|'/C calc'!A0",
        "+1+1",
        "-1+1",
        "@SUM(A1:A2)",
        "\t=1",
        "\r=1",
    ],
)
def test_text_that_looks_like_a_formula_stays_text(text):
    ws = openpyxl.Workbook().active
    cell = put(ws["A1"], text)
    assert cell.value == text
    assert cell.data_type == "s"
    reread = openpyxl.load_workbook(io.BytesIO(_saved(ws.parent)))  # formulas would come back as formulas
    assert reread.active["A1"].value == text
    assert reread.active["A1"].data_type == "s"


def test_without_the_guard_openpyxl_would_write_a_formula():
    """What `put` guards against: a plain assignment of “=…” is a live formula."""
    ws = openpyxl.Workbook().active
    ws["A1"] = "=1+1"
    assert ws["A1"].data_type == "f"
    assert put(ws["A2"], "=1+1").data_type == "s"


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("Dòng 1\r\nDòng 2", "Dòng 1\nDòng 2"),
        ("Sở\x00 Tài\x07 chính", "Sở Tài chính"),
        ("", None),
        ("\x01\x02", None),
        ("=", "="),
        (12, 12),
        (None, None),
    ],
)
def test_put_cleans_text_and_keeps_other_values(value, stored):
    cell = put(openpyxl.Workbook().active["B2"], value)
    assert cell.value == stored


def test_put_row_and_append_row_write_every_value_through_the_guard():
    ws = openpyxl.Workbook().active
    append_row(ws, ["Mã", "Tên"])  # an empty sheet: the first row
    put_row(ws, 3, ["=A1", 5])
    append_row(ws, ["=B1", "x\r\ny"])
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows == [["Mã", "Tên"], [None, None], ["=A1", 5], ["=B1", "x\ny"]]
    assert {ws["A3"].data_type, ws["A4"].data_type} == {"s"}


# --- opening an uploaded workbook ----------------------------------------------------------


def test_a_good_workbook_opens_read_only_with_values():
    book = open_uploaded_workbook(_xlsx(["Mã", "=1+1"]), 10**6, max_unpacked=10**8, messages=MESSAGES)
    try:
        assert book.read_only
        assert [tuple(row) for row in book.active.iter_rows(values_only=True)] == [("Mã", None)]  # no cached value
    finally:
        book.close()
    full = open_uploaded_workbook(_xlsx(["Mã"]), None, max_unpacked=10**8, messages=MESSAGES, read_only=False)
    assert not full.read_only
    assert full.active["A1"].value == "Mã"


def test_empty_file():
    assert _refusal(b"") == "empty"
    assert _refusal(b"", messages=PLAIN) == "not xlsx"


def test_file_over_the_size_limit_is_refused_before_anything_is_read():
    data = _xlsx(["Mã"])
    assert _refusal(data, len(data) - 1) == "too big"
    assert _refusal(b"x" * 101, 100) == "too big"
    open_uploaded_workbook(data, len(data), max_unpacked=10**8, messages=MESSAGES).close()


def test_excel_97_2003_file_has_its_own_message_only_when_the_caller_gives_one():
    old = OLE_MAGIC + b"\0" * 504
    assert _refusal(old, messages=UploadMessages(not_xlsx="not xlsx", unpacked="unpacked", xls=XLS)) == XLS
    assert _refusal(old) == "not xlsx"


@pytest.mark.parametrize("data", ["Mã;Tên\n1;Sở Tài chính\n".encode(), b"MZ\x90\x00", b"PK\x03\x04" + b"\0" * 40])
def test_not_a_zip(data):
    assert _refusal(data) == "not xlsx"


def test_a_zip_that_is_no_workbook_is_damaged():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "không phải Excel")
    assert _refusal(out.getvalue()) == "damaged"
    assert _refusal(out.getvalue(), messages=PLAIN) == "not xlsx"


def test_a_zip_that_unpacks_beyond_the_limit_is_refused_before_openpyxl_reads_it(monkeypatch):
    bomb = _rezip(_xlsx(["Mã"]), extra={"xl/media/zeros.bin": b"\0" * 2_000_000})
    assert len(bomb) < 100_000
    monkeypatch.setattr(excel, "load_workbook", lambda *a, **k: pytest.fail("openpyxl must not read a bomb"))
    assert _refusal(bomb, max_unpacked=1_000_000) == "unpacked"
    with pytest.raises(WorkbookRefused):
        check_uploaded_workbook(bomb, None, max_unpacked=1_000_000, messages=MESSAGES)


def test_a_macro_workbook_opens_without_its_macros():
    """Today's behaviour, kept by the refactor: an .xlsm is read for its cells; the VBA part is never loaded."""
    macro = _rezip(
        _xlsx(["Mã", "Tên"]),
        extra={"xl/vbaProject.bin": b"\0" * 64},
        replace=(
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        ),
    )
    book = open_uploaded_workbook(macro, None, max_unpacked=10**8, messages=MESSAGES, read_only=False)
    assert book.vba_archive is None
    assert [c.value for c in book.active[1]] == ["Mã", "Tên"]
    assert b"vbaProject" not in _saved(book)
