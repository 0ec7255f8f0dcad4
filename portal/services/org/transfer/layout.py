"""The organisation workbook's layout: its sheets, their columns, and the rules of the template."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from portal import vntext
from portal.models.org import SECTORS
from portal.services.org import structure as org

UNITS, CLUSTERS, MEMBERS, GUIDE = "Đơn vị", "Cụm, khối", "Thành viên", "Hướng dẫn"
STATUS_LABELS = {True: "Hoạt động", False: "Ngừng hoạt động"}


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    required: bool = False
    kind: str = "text"  # text | longtext | int | sector | status | cluster_kind
    max_length: int | None = None
    help: str = ""
    width: int = 18


SHEETS: dict[str, tuple[Column, ...]] = {
    UNITS: (
        Column(
            "Tên đơn vị",
            "name",
            True,
            max_length=255,
            width=45,
            help="Tên đầy đủ, không trùng. Đơn vị đã có được nhận ra theo tên (không phân biệt chữ hoa, "
            "chữ thường và khoảng trắng thừa); muốn đổi tên, dùng chức năng Đổi tên trong mục Đơn vị.",
        ),
        Column("Tên viết tắt", "short_name", max_length=64, help="Tối đa 64 ký tự."),
        Column(
            "Loại hình",
            "sector",
            kind="sector",
            width=34,
            help="Một trong: " + "; ".join(SECTORS.values()) + ". Trống: “Khác” với đơn vị mới.",
        ),
        Column("Địa chỉ", "address", max_length=255, width=40, help="Tối đa 255 ký tự."),
        Column(
            "Tình trạng",
            "active",
            kind="status",
            help="Hoạt động hoặc Ngừng hoạt động. Đơn vị mới phải đang hoạt động; giải thể, sáp nhập, "
            "hoạt động trở lại làm trong mục Đơn vị (cần ngày và quyết định).",
        ),
    ),
    CLUSTERS: (
        Column(
            "Mã",
            "code",
            True,
            max_length=32,
            width=12,
            help="Mã không trùng, ví dụ CUM01; lưu bằng chữ in hoa. Cụm, khối đã có được nhận ra theo mã.",
        ),
        Column("Tên", "name", True, max_length=255, width=40, help="Không trùng với cụm (khối) khác cùng loại."),
        Column("Loại", "kind", True, kind="cluster_kind", width=16, help="Cụm thi đua hoặc Khối thi đua."),
        Column("Mô tả", "description", kind="longtext", max_length=4000, width=40, help="Tối đa 4.000 ký tự."),
        Column(
            "Tình trạng",
            "active",
            kind="status",
            help="Hoạt động hoặc Ngừng hoạt động. Trống: Hoạt động với cụm, khối mới.",
        ),
    ),
    MEMBERS: (
        Column("Năm", "year", True, kind="int", width=8, help="Năm thi đua đã tạo trong mục Năm thi đua, ví dụ 2026."),
        Column(
            "Mã cụm, khối",
            "code",
            True,
            max_length=32,
            width=14,
            help="Mã của cụm, khối đã có, hoặc có trong trang “Cụm, khối” của cùng tệp.",
        ),
        Column(
            "Tên đơn vị",
            "unit",
            True,
            max_length=255,
            width=45,
            help="Tên đơn vị đã có, hoặc có trong trang “Đơn vị” của cùng tệp. Mỗi đơn vị thuộc một cụm, "
            "khối trong một năm; dòng trùng với thành viên đã có thì giữ nguyên.",
        ),
        Column(
            "Thứ tự luân phiên",
            "rotation_order",
            kind="int",
            width=18,
            help="Số nguyên dương; thứ tự luân phiên làm Trưởng, Phó. Trống: xếp cuối danh sách.",
        ),
    ),
}


def rules(max_rows: int) -> list[str]:
    """The general rules of the template, shown on the page and in the guide sheet."""
    return [
        "Dòng 1 của mỗi trang là tiêu đề cột, đúng như mẫu (thứ tự cột tùy ý); dữ liệu bắt đầu từ dòng 2.",
        "Có thể chỉ gửi một hoặc hai trang; trang “Hướng dẫn” và các trang khác tên bị bỏ qua.",
        f"Mỗi trang tối đa {thousands(max_rows)} dòng dữ liệu; không gộp ô; dòng trống được bỏ qua.",
        "Ô trống ở cột không bắt buộc: giữ nguyên giá trị đang có (bản ghi mới nhận giá trị mặc định).",
        "Tệp được kiểm tra toàn bộ trước khi lưu: chỉ cần một lỗi là không lưu gì, mọi lỗi được liệt kê "
        "theo trang, dòng và cột.",
        "Nhập tên cột và giá trị lựa chọn có hay không có dấu, chữ hoa hay thường đều được.",
    ]


def fold(text) -> str:
    """Lower case, single spaces, no diacritics: how choices and headers are compared."""
    text = org.clean(str(text or "")).casefold().replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def name_key(text: str) -> str:
    """Units are the same unit whatever the case, spacing, normal form or tone placement of their name."""
    return vntext.name_key(text)


def thousands(n: int) -> str:
    """12.345: a count as Vietnamese writes it."""
    return f"{n:,}".replace(",", ".")
