"""Excel import and export: the template, round trips, every kind of bad file; nothing half-saved; who may."""

import io
import zipfile
from datetime import date, datetime

import openpyxl
import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEntry, Cluster, Membership, Term, Unit
from portal.services import DomainError
from portal.services.org import cluster_year
from portal.services.org import structure as org
from portal.services.org.transfer.layout import CLUSTERS, MEMBERS, SHEETS, UNITS
from portal.services.org.transfer.read import parse_cell
from portal.services.org.transfer.report import RowError
from tests import factories

UNIT_HEADER = ["Tên đơn vị", "Tên viết tắt", "Loại hình", "Địa chỉ", "Tình trạng"]
CLUSTER_HEADER = ["Mã", "Tên", "Loại", "Mô tả", "Tình trạng"]
MEMBER_HEADER = ["Năm", "Mã cụm, khối", "Tên đơn vị", "Thứ tự luân phiên"]


def xlsx(**sheets) -> bytes:
    """A workbook from {sheet title: rows}; keyword names stand for the three sheets."""
    titles = {"units": "Đơn vị", "clusters": "Cụm, khối", "members": "Thành viên"}
    book = openpyxl.Workbook()
    book.remove(book.active)
    for key, rows in sheets.items():
        ws = book.create_sheet(titles.get(key, key))
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, data: bytes, filename: str = "du-lieu.xlsx", dry_run: bool = False, **kw):
    button = {"check": "Kiểm tra trước"} if dry_run else {"submit": "Nhập dữ liệu"}
    return client.post(
        "/transfer/import",
        data={"file": (io.BytesIO(data), filename), **button},
        content_type="multipart/form-data",
        **kw,
    )


def counts() -> dict:
    return {
        m.__name__: db.session.scalar(select(func.count()).select_from(m))
        for m in (Unit, Cluster, Membership, Term, AuditEntry)
    }


def refused(client, data: bytes, *expected: str, filename: str = "du-lieu.xlsx"):
    """The file is refused with 422, each expected text is shown, and no row was added or changed."""
    before = counts()
    response = upload(client, data, filename)
    assert response.status_code == 422, response.text[:500]
    assert "chưa có dữ liệu nào được lưu" in response.text or "is-invalid" in response.text
    for text in expected:
        assert text in response.text, text
    db.session.expire_all()
    assert counts() == before
    return response


def codes(cluster_code: str) -> list[str]:
    return list(
        db.session.scalars(
            select(Unit.name)
            .join(Membership, Membership.unit_id == Unit.id)
            .join(Cluster, Cluster.id == Membership.cluster_id)
            .where(Cluster.code == cluster_code)
            .order_by(Membership.rotation_order)
        )
    )


@pytest.fixture
def secretariat(world, auth):
    auth.login("secretariat")
    return world


# --- the page, the template and the export ----------------------------------------------


def test_page_three_ways(secretariat, client, hx):
    page = client.get("/transfer/")
    assert page.status_code == 200 and "<html" in page.text and "HX-Request" in page.headers["Vary"]
    assert "Tải tệp mẫu (.xlsx)" in page.text and "Kiểm tra trước" in page.text and "Năm 2026" in page.text
    assert "Thứ tự luân phiên" in page.text  # the documented template is on the page too
    for full in (hx.history_restore("/transfer/"), hx.boosted("/transfer/")):
        assert full.status_code == 200 and "<html" in full.text
    fragment = hx.post("/transfer/import", data={}, content_type="multipart/form-data")
    assert fragment.status_code == 422 and "<html" not in fragment.text
    assert "Chọn tệp Excel cần nhập." in fragment.text and 'hx-encoding="multipart/form-data"' in fragment.text


def test_template_opens_with_the_documented_headers(secretariat, client):
    response = client.get("/transfer/template.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Hướng dẫn", "Đơn vị", "Cụm, khối", "Thành viên"]
    assert [c.value for c in book["Đơn vị"][1]] == UNIT_HEADER
    assert [c.value for c in book["Cụm, khối"][1]] == CLUSTER_HEADER
    assert [c.value for c in book["Thành viên"][1]] == MEMBER_HEADER
    assert all(book[name].max_row == 1 for name in ("Đơn vị", "Cụm, khối", "Thành viên"))
    guide = [v for row in book["Hướng dẫn"].values for v in row if v]
    assert "Sở, ban, ngành tỉnh" in guide and "Khối thi đua" in guide and "Ngừng hoạt động" in guide
    assert any("5.000 dòng" in str(v) for v in guide)
    assert book["Đơn vị"].data_validations.dataValidation  # drop-downs for the choice columns


def test_blank_template_is_refused_as_empty(secretariat, client):
    template = client.get("/transfer/template.xlsx").data
    refused(client, template, "Tệp không có dòng dữ liệu nào")


def test_export_round_trip_changes_nothing(secretariat, client):
    factories.year(2025, current=False)
    db.session.commit()
    exported = client.get("/transfer/export.xlsx?year=all")
    assert exported.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(exported.data))
    head_row = next(r for r in book["Đơn vị"].values if r[0] == "UBND phường An Bình")
    assert [v or "" for v in head_row] == ["UBND phường An Bình", "", "Khác", "", "Hoạt động"]
    assert (2026, secretariat.cluster.code, "UBND phường An Bình", 1) in list(book["Thành viên"].values)
    before = counts()
    response = upload(client, exported.data)
    assert response.status_code == 303
    db.session.expire_all()
    after = counts()
    assert after["AuditEntry"] == before["AuditEntry"] + 1  # the import event only: no row changed
    assert after | {"AuditEntry": 0} == before | {"AuditEntry": 0}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import"))
    assert entry.changes["Đơn vị"] == {"create": 0, "update": 0, "unchanged": 4}
    assert entry.changes["Thành viên"] == {"create": 0, "update": 0, "unchanged": 4}
    assert "du-lieu.xlsx" in entry.summary and "4 không đổi" in entry.summary


def test_export_of_one_year_and_retired_units_round_trip(secretariat, client):
    next_year = factories.year(2027, current=False)
    cluster_year.add_membership(db.session, next_year, secretariat.other_cluster, secretariat.member)
    org.retire_unit(db.session, secretariat.head, date(secretariat.year.year, 7, 1))  # still a member of 2026
    db.session.commit()
    exported = client.get("/transfer/export.xlsx?year=2026")
    assert "cum-khoi-thi-dua-2026.xlsx" in exported.headers["Content-Disposition"]
    rows = list(openpyxl.load_workbook(io.BytesIO(exported.data))["Thành viên"].values)[1:]
    assert {r[0] for r in rows} == {2026} and len(rows) == 4
    before = counts()
    assert upload(client, exported.data).status_code == 303
    db.session.expire_all()
    assert counts()["Membership"] == before["Membership"]
    assert client.get("/transfer/export.xlsx?year=1999").status_code == 404


def test_text_that_looks_like_a_formula_stays_text(secretariat, client):
    factories.unit('=HYPERLINK("http://x") Đơn vị lạ')
    db.session.commit()
    exported = client.get("/transfer/export.xlsx").data
    cell = next(c for c in openpyxl.load_workbook(io.BytesIO(exported))["Đơn vị"]["A"] if "HYPERLINK" in str(c.value))
    assert cell.data_type == "s"  # never a live formula in the officer's Excel
    before = counts()
    assert upload(client, exported).status_code == 303
    db.session.expire_all()
    assert counts()["Unit"] == before["Unit"]


# --- good imports -------------------------------------------------------------------


GOOD = dict(
    units=[
        UNIT_HEADER,
        ["Sở  Y tế ", "SYT", "sở, ban, ngành tỉnh", "12 Lê Lợi", "Hoạt động"],
        ["UBND xã Tân Thạnh", "", "Xa", "", ""],
        ["Bệnh viện tỉnh", None, "public_service", None, None],
    ],
    clusters=[
        CLUSTER_HEADER,
        ["kss", "Khối các sở, ngành", "Khối thi đua", "Sở và ngành tỉnh", "Hoạt động"],
        ["CUM09", "Cụm xã phía Bắc", "cum", None, None],
    ],
    members=[
        MEMBER_HEADER,
        [2026, "KSS", "sở y tế", 2],
        [2026.0, "kss", "Bệnh viện tỉnh", 1],
        ["2026", "CUM09", "UBND xã Tân Thạnh", None],
    ],
)


def test_good_import_creates_everything_with_audit(secretariat, client):
    before = counts()
    response = upload(client, xlsx(**GOOD))
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert "Đã nhập tệp “du-lieu.xlsx”" in page.text and "Đơn vị: 3 thêm mới, 0 cập nhật, 0 không đổi" in page.text
    assert "Các lần nhập gần đây" in page.text
    db.session.expire_all()
    after = counts()
    assert (after["Unit"], after["Cluster"], after["Membership"], after["Term"]) == (
        before["Unit"] + 3,
        before["Cluster"] + 2,
        before["Membership"] + 3,
        before["Term"] + 2,
    )
    health = db.session.scalar(select(Unit).where(Unit.name == "Sở Y tế"))
    assert (health.short_name, health.sector, health.address) == ("SYT", "department", "12 Lê Lợi")
    assert db.session.scalar(select(Unit.sector).where(Unit.name == "UBND xã Tân Thạnh")) == "commune"
    block = db.session.scalar(select(Cluster).where(Cluster.code == "KSS"))
    assert (block.kind, block.name, block.description) == ("block", "Khối các sở, ngành", "Sở và ngành tỉnh")
    assert codes("KSS") == ["Bệnh viện tỉnh", "Sở Y tế"]  # the file's rotation order
    audited = db.session.execute(select(AuditEntry.object_type, AuditEntry.action, AuditEntry.username)).all()
    assert audited.count(("Unit", "create", "secretariat")) == 3  # the import's, in the officer's name
    assert audited.count(("Unit", "create", "hệ thống")) == 4  # the world's, made outside any request
    assert ("Membership", "create", "secretariat") in audited and ("Cluster", "create", "secretariat") in audited
    event = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import"))
    assert event.changes["Cụm, khối"]["create"] == 2 and event.changes["Thành viên"]["create"] == 3


def test_htmx_import_returns_the_summary_fragment(secretariat, hx):
    response = hx.post(
        "/transfer/import",
        data={"file": (io.BytesIO(xlsx(**GOOD)), "a.xlsx"), "submit": "1"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and "<html" not in response.text
    assert "Đã nhập xong." in response.text and "Thêm mới" in response.text
    assert db.session.scalar(select(Unit).where(Unit.name == "Sở Y tế")) is not None


def test_update_matches_names_case_insensitively_and_keeps_blank_cells(secretariat, client):
    org_unit = secretariat.outsider  # "Sở Công Thương", sector "other"
    data = xlsx(
        units=[UNIT_HEADER, ["sở   CÔNG thương", "SCT", "Sở, ban, ngành tỉnh", None, None]],
        clusters=[
            CLUSTER_HEADER,
            [secretariat.cluster.code.lower(), "Cụm thi đua số 1 (mới)", "Cụm thi đua", None, None],
        ],
    )
    dry = upload(client, data, dry_run=True)
    assert dry.status_code == 200 and "chưa lưu gì" in dry.text
    assert "Khác → Sở, ban, ngành tỉnh" in dry.text and "Cụm thi đua số 1 → Cụm thi đua số 1 (mới)" in dry.text
    db.session.expire_all()
    assert db.session.get(Unit, org_unit.id).short_name == ""  # the dry run saved nothing
    assert upload(client, data).status_code == 303
    db.session.expire_all()
    unit = db.session.get(Unit, org_unit.id)
    assert (unit.name, unit.short_name, unit.sector) == ("Sở Công Thương", "SCT", "department")
    assert db.session.get(Cluster, secretariat.cluster.id).name == "Cụm thi đua số 1 (mới)"
    assert db.session.scalar(select(func.count()).select_from(Unit).where(func.lower(Unit.name).like("%thương%"))) == 1
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == "Unit", AuditEntry.action == "update"))
    assert entry.changes["sector"] == ["other", "department"]


def test_rotation_order_of_an_existing_member_is_updated(secretariat, client):
    code = secretariat.cluster.code
    data = xlsx(members=[MEMBER_HEADER, [2026, code, "UBND xã Tân Hồng", 1], [2026, code, "UBND phường An Bình", 3]])
    assert upload(client, data).status_code == 303
    assert codes(code)[0] == "UBND xã Tân Hồng"


def test_only_some_sheets_and_columns_in_any_order(secretariat, client):
    data = xlsx(
        **{
            "Hướng dẫn": [["bỏ qua"]],
            "Ghi chú": [["x"]],
            "units": [["Loại hình", "TÊN ĐƠN VỊ"], ["Phường", "UBND phường Mới"]],
        }
    )
    assert upload(client, data).status_code == 303
    assert db.session.scalar(select(Unit.sector).where(Unit.name == "UBND phường Mới")) == "ward"


def test_a_valid_file_of_two_thousand_rows_imports(secretariat, client):
    units = [UNIT_HEADER] + [[f"Đơn vị số {i:04d}", f"DV{i}", "Khác", f"Số {i}", "Hoạt động"] for i in range(1000)]
    clusters = [CLUSTER_HEADER] + [[f"K{i:02d}", f"Khối số {i}", "Khối thi đua", "", ""] for i in range(20)]
    members = [MEMBER_HEADER] + [[2026, f"K{i % 20:02d}", f"Đơn vị số {i:04d}", None] for i in range(1000)]
    assert upload(client, xlsx(units=units, clusters=clusters, members=members)).status_code == 303
    db.session.expire_all()
    assert counts()["Membership"] == 1004 and counts()["Unit"] == 1004


# --- bad files: every error by row, nothing saved ------------------------------------


def test_wrong_columns(secretariat, client):
    data = xlsx(
        units=[["Tên", "Tên viết tắt", "Tên viết tắt"], ["Sở Mới", "SM", "SM"]],
        members=[["Năm", "Mã cụm, khối"], [2026, "X"]],
    )
    response = refused(client, data, "Cột không có trong mẫu", "Cột bị lặp lại", "Thiếu cột bắt buộc")
    assert response.text.count("Thiếu cột bắt buộc") == 2  # "Tên đơn vị" in both sheets


def test_no_known_sheet(secretariat, client):
    refused(client, xlsx(Sheet1=[UNIT_HEADER, ["Sở Mới", "", "", "", ""]]), "Không tìm thấy trang tính nào tên")


def test_every_problem_of_a_row_is_reported_at_once(secretariat, client):
    data = xlsx(members=[MEMBER_HEADER, [2030, "KHONGCO", "Sở Không Có", "z"]])
    refused(
        client,
        data,
        "Dòng 2: Chưa có năm thi đua 2030",
        "Dòng 2: Không có cụm, khối mã “KHONGCO”",
        "Dòng 2: Không có đơn vị “Sở Không Có”",
        "Dòng 2: Phải là số nguyên (ví dụ 2026), không phải “z”",
    )


def test_text_in_number_columns(secretariat, client):
    code = secretariat.cluster.code
    data = xlsx(
        members=[
            MEMBER_HEADER,
            ["hai nghìn", code, "Sở Công Thương", 1],
            [2026, code, "UBND xã Tân Hồng", "ba"],
            [2026, code, "UBND phường Mỹ Trà", 0],
        ]
    )
    refused(
        client,
        data,
        "Dòng 2: Phải là số nguyên (ví dụ 2026), không phải “hai nghìn”",
        "Dòng 3: Phải là số nguyên (ví dụ 2026), không phải “ba”",
        "Dòng 4: Phải là số nguyên từ 1 đến 1000.",
    )


def test_empty_required_cells_and_bad_choices(secretariat, client):
    data = xlsx(
        units=[
            UNIT_HEADER,
            ["Sở Mới", "", "Hành tinh", "", ""],
            ["   ", "X", "", "", ""],
            ["Sở Mới 2", "X" * 65, "", "", "Tạm nghỉ"],
        ],
        clusters=[CLUSTER_HEADER, ["C1", "", "Cụm thi đua", "", ""], ["C2", "Cụm hai", None, "", ""]],
    )
    refused(
        client,
        data,
        "Dòng 2: Giá trị “Hành tinh” không hợp lệ",
        "Dòng 3: Không được để trống.",
        "Dòng 4: Dài quá 64 ký tự.",
        "Dòng 4: Giá trị “Tạm nghỉ” không hợp lệ",
    )
    response = upload(client, data)
    assert response.text.count("Không được để trống.") == 3  # a unit's name, a cluster's name, a cluster's kind


def test_dates_are_not_names(secretariat, client):
    refused(client, xlsx(units=[UNIT_HEADER, [datetime(2025, 1, 1), "", "", "", ""]]), "Dòng 2: Phải là chữ")


def test_duplicates_within_the_file(secretariat, client):
    data = xlsx(
        units=[UNIT_HEADER, ["Sở Mới", "", "", "", ""], ["sở  mới", "", "", "", ""]],
        clusters=[
            CLUSTER_HEADER,
            ["C1", "Cụm một", "Cụm thi đua", "", ""],
            ["c1", "Cụm khác", "Cụm thi đua", "", ""],
            ["C2", "CỤM MỘT", "Cụm thi đua", "", ""],
        ],
    )
    refused(
        client, data, "Dòng 3: Trùng tên với dòng 2.", "Dòng 3: Trùng mã với dòng 2.", "Dòng 4: Trùng tên với dòng 2."
    )


def test_duplicate_cluster_name_against_the_database(secretariat, client):
    data = xlsx(clusters=[CLUSTER_HEADER, ["NEW1", "CỤM THI ĐUA SỐ 1", "Cụm thi đua", "", ""]])
    refused(client, data, f"Dòng 2: Đã có cụm thi đua tên “Cụm thi đua số 1” (mã {secretariat.cluster.code}).")


def test_unit_in_two_clusters_the_same_year(secretariat, client):
    other = secretariat.other_cluster.code
    in_db = xlsx(members=[MEMBER_HEADER, [2026, other, "ubnd phường an bình", None]])
    refused(client, in_db, "Dòng 2: Đơn vị “UBND phường An Bình” đã thuộc “Cụm thi đua số 1”")
    in_file = xlsx(
        units=[UNIT_HEADER, ["Sở Mới", "", "", "", ""]],
        members=[MEMBER_HEADER, [2026, other, "Sở Mới", None], [2026, secretariat.cluster.code, "Sở mới", None]],
    )
    refused(client, in_file, "Dòng 3: Đơn vị đã có ở dòng 2 cho năm 2026")


def test_unknown_year_cluster_and_unit(secretariat, client):
    data = xlsx(
        members=[
            MEMBER_HEADER,
            [2030, secretariat.cluster.code, "Sở Công Thương", None],
            [2026, "KHONGCO", "Sở Công Thương", None],
            [2026, secretariat.cluster.code, "Sở Không Có", None],
        ]
    )
    refused(
        client,
        data,
        "Dòng 2: Chưa có năm thi đua 2030",
        "Dòng 3: Không có cụm, khối mã “KHONGCO”",
        "Dòng 4: Không có đơn vị “Sở Không Có”",
    )


def test_status_changes_need_the_reorganisation_screens(secretariat, client):
    data = xlsx(
        units=[
            UNIT_HEADER,
            ["Sở Công Thương", "", "", "", "Ngừng hoạt động"],
            ["Sở Mới", "", "", "", "Ngừng hoạt động"],
        ]
    )
    refused(
        client,
        data,
        "Dòng 2: Đổi tình trạng đơn vị bằng chức năng “Giải thể / ngừng hoạt động” hoặc “Sáp nhập”",
        "Dòng 3: Đơn vị mới phải ở tình trạng Hoạt động.",
    )


def test_retired_unit_cannot_join_a_new_cluster(secretariat, client):
    org.retire_unit(db.session, secretariat.outsider, date(secretariat.year.year, 3, 1))
    db.session.commit()
    refused(
        client,
        xlsx(members=[MEMBER_HEADER, [2026, secretariat.cluster.code, "Sở Công Thương", None]]),
        "Dòng 2: Đơn vị “Sở Công Thương” đã thuộc",
    )
    factories.year(2027, current=False)
    db.session.commit()
    refused(
        client,
        xlsx(members=[MEMBER_HEADER, [2027, secretariat.cluster.code, "Sở Công Thương", None]]),
        "Dòng 2: Đơn vị “Sở Công Thương” đã ngừng hoạt động.",
    )


def test_valid_rows_are_not_saved_when_another_row_fails(secretariat, client):
    data = xlsx(
        units=[UNIT_HEADER] + [[f"Đơn vị tốt {i}", "", "", "", ""] for i in range(5)],
        members=[MEMBER_HEADER, [2026, secretariat.cluster.code, "Đơn vị tốt 1", None], [2031, "X", "Y", None]],
    )
    refused(client, data, "Dòng 3: Chưa có năm thi đua 2031")
    assert db.session.scalar(select(Unit).where(Unit.name == "Đơn vị tốt 0")) is None


@pytest.mark.parametrize(
    "data, filename, message",
    [
        (b"Ten don vi;Loai hinh\nSo Moi;Khac\n", "du-lieu.xlsx", "Tệp không phải là tệp Excel .xlsx"),
        (bytes(range(256)) * 40, "ngau-nhien.xlsx", "Tệp không phải là tệp Excel .xlsx"),
        (b"", "rong.xlsx", "Tệp rỗng."),
        (b"a,b\n1,2\n", "du-lieu.csv", "Chỉ nhận tệp Excel .xlsx"),
    ],
)
def test_not_an_xlsx(secretariat, client, data, filename, message):
    refused(client, data, message, filename=filename)


def test_zip_that_is_not_a_workbook_and_a_truncated_one(secretariat, client):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    refused(client, out.getvalue(), "Tệp có thể đã bị hỏng.")
    good = xlsx(**GOOD)
    refused(client, good[: len(good) // 2], "Tệp không phải là tệp Excel .xlsx")


def test_merged_cells_are_refused(secretariat, client):
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Đơn vị"
    for row in (UNIT_HEADER, ["Sở Mới", "", "", "", ""], ["Sở Khác", "SK", "", "", ""]):
        ws.append(row)
    ws.merge_cells("B3:C3")
    out = io.BytesIO()
    book.save(out)
    refused(client, out.getvalue(), "Dòng 3: Có ô gộp (B3:C3)")


def test_ten_thousand_rows_are_refused(secretariat, client):
    rows = [UNIT_HEADER] + [[f"Đơn vị {i}", "", "", "", ""] for i in range(10_000)]
    refused(client, xlsx(units=rows), "Dòng 5002: Trang có quá 5.000 dòng dữ liệu")


def test_file_size_limit(secretariat, client, app):
    app.config["IMPORT_MAX_BYTES"] = 1024
    refused(client, xlsx(**GOOD), "Tệp lớn hơn 1 KB")


def test_csrf_token_is_required(secretariat, client, app):
    app.config["WTF_CSRF_ENABLED"] = True
    before = counts()
    response = upload(client, xlsx(**GOOD))
    assert response.status_code == 400 and "CSRF" in response.text
    assert counts() == before


# --- the reader and the cells, directly ---------------------------------------------


def test_choices_ignore_case_and_diacritics():
    sector = SHEETS[UNITS][2]
    assert parse_cell(sector, "SO, BAN, NGANH TINH") == "department"
    assert parse_cell(sector, "  phường ") == "ward" and parse_cell(sector, "commune") == "commune"
    assert parse_cell(sector, None) is None
    kind = SHEETS[CLUSTERS][2]
    assert parse_cell(kind, "khối") == "block" and parse_cell(kind, "Cụm Thi Đua") == "cluster"
    with pytest.raises(DomainError, match="Không được để trống"):
        parse_cell(kind, " ")
    year = SHEETS[MEMBERS][0]
    assert parse_cell(year, 2026.0) == 2026 and parse_cell(year, " 2026 ") == 2026
    for bad in (2026.5, True, "２０２６", "2026a"):
        with pytest.raises(DomainError):
            parse_cell(year, bad)


def test_every_error_names_its_place():
    error = RowError("Đơn vị", 7, "Loại hình", "Giá trị không hợp lệ.")
    assert str(error) == "Trang “Đơn vị”, dòng 7, cột “Loại hình”: Giá trị không hợp lệ."
    assert str(RowError("", None, "", "Tệp rỗng.")) == "Tệp rỗng."


# --- queries and permissions --------------------------------------------------------


def test_page_and_export_queries_do_not_grow_with_data(secretariat, client, count_queries):
    def measure(url):
        with count_queries() as n:
            assert client.get(url).status_code == 200
        return n()

    small = measure("/transfer/"), measure("/transfer/export.xlsx?year=all")
    for i in range(30):
        unit = factories.unit(f"Đơn vị thêm {i}")
        cluster_year.add_membership(db.session, secretariat.year, secretariat.other_cluster, unit)
    factories.cluster("Cụm thêm", code="ADD01")
    db.session.commit()
    upload(client, xlsx(units=[UNIT_HEADER, ["Đơn vị nhập", "", "", "", ""]]))
    assert (measure("/transfer/"), measure("/transfer/export.xlsx?year=all")) == small


@pytest.mark.parametrize("username", ["head", "deputy", "member", "overseer", "council"])
def test_only_the_secretariat_imports_and_exports(world, auth, client, username):
    auth.login(username)
    before = counts()
    for url in ("/transfer/", "/transfer/template.xlsx", "/transfer/export.xlsx"):
        assert client.get(url).status_code == 403
    assert upload(client, xlsx(**GOOD)).status_code == 403
    assert counts() == before


def test_anonymous_is_sent_to_sign_in(world, client):
    for url in ("/transfer/", "/transfer/export.xlsx"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert upload(client, xlsx(**GOOD)).status_code == 302
