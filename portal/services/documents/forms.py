"""The decree's forms the award documents follow, by version: the setting AWARD_FORMS picks one.

The proposal (tờ trình) is Form 01 and a collective's achievement report Form 02 of Appendix I of
Nghị định 98/2023/NĐ-CP. When a later decree replaces them, add its version here (its legal grounds,
the forms' names, the report's headings) and set AWARD_FORMS to its key: the documents follow.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Heading:
    """A heading of the achievement report the unit completes: its text and the form's guidance under it."""

    text: str
    guidance: str = ""


@dataclass(frozen=True)
class FormVersion:
    key: str
    decree: str  # the decree whose appendix holds the forms
    proposal_form: str  # printed above the proposal's header
    achievement_form: str  # printed above each achievement report's header
    grounds: tuple[str, ...]  # the proposal's legal grounds, before the meeting's
    profile: tuple[Heading, ...]  # I. of the report: the unit's profile, left for the unit
    achievements: tuple[Heading, ...]  # II. 2, 3 …: what the unit writes after the prefilled figures
    earlier_awards: tuple[str, ...]  # III.: the tables of earlier titles and awards, left blank


ND98_2023 = FormVersion(
    key="nd98-2023",
    decree="Nghị định số 98/2023/NĐ-CP ngày 31 tháng 12 năm 2023 của Chính phủ",
    proposal_form="Mẫu số 01, Phụ lục I, Nghị định số 98/2023/NĐ-CP",
    achievement_form="Mẫu số 02, Phụ lục I, Nghị định số 98/2023/NĐ-CP",
    grounds=(
        "Căn cứ Luật Thi đua, khen thưởng ngày 15 tháng 6 năm 2022;",
        "Căn cứ Nghị định số 98/2023/NĐ-CP ngày 31 tháng 12 năm 2023 của Chính phủ quy định chi tiết thi hành "
        "một số điều của Luật Thi đua, khen thưởng;",
    ),
    profile=(
        Heading(
            "1. Đặc điểm, tình hình",
            "(Địa điểm trụ sở chính, điện thoại, fax, địa chỉ trang tin điện tử; quá trình thành lập và phát "
            "triển; những đặc điểm chính của đơn vị, địa phương về điều kiện tự nhiên, xã hội, cơ cấu tổ chức, "
            "tổng số cán bộ, công chức, viên chức và người lao động.)",
        ),
        Heading("2. Chức năng, nhiệm vụ", "(Chức năng, nhiệm vụ được cấp có thẩm quyền giao.)"),
    ),
    achievements=(
        Heading(
            "2. Những biện pháp hoặc nguyên nhân đạt được thành tích",
            "(Các phong trào thi đua đã được áp dụng trong thực tiễn sản xuất, công tác; các đổi mới, sáng tạo.)",
        ),
        Heading(
            "3. Việc thực hiện chủ trương, đường lối của Đảng, chính sách và pháp luật của Nhà nước",
            "(Công tác xây dựng Đảng, đoàn thể; việc thực hiện nghĩa vụ với Nhà nước; đời sống cán bộ, người "
            "lao động.)",
        ),
    ),
    earlier_awards=("1. Danh hiệu thi đua", "2. Hình thức khen thưởng"),
)

VERSIONS = {ND98_2023.key: ND98_2023}
DEFAULT = ND98_2023.key


def version(key: str) -> FormVersion:
    """The forms of a version; an unknown key is a configuration error, named with the known ones."""
    try:
        return VERSIONS[key]
    except KeyError:
        raise ValueError(f"AWARD_FORMS={key!r} is not one of {sorted(VERSIONS)}") from None
