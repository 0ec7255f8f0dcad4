"""A realistic demo province: clusters and blocks, 40+ units, council, two years, logins."""

from __future__ import annotations

import unicodedata
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Cluster, CouncilMember, EmulationYear, Unit, User
from portal.models.org import ClusterKind, CouncilRole, Sector
from portal.models.users import UserKind
from portal.services.demo import criteria as demo_criteria
from portal.services.meetings import awards
from portal.services.org import cluster_year, next_year, years
from portal.services.org import structure as org

DEMO_PASSWORD = "ThiDua@2026"
_DEMO_HASH = "demo.password_hash"  # session.info key

# (kind, code, name, [(unit name, short name, sector)])
CLUSTERS = [
    (
        ClusterKind.BLOCK,
        "K01",
        "Khối các cơ quan tham mưu tổng hợp",
        [
            ("Sở Nội vụ", "SNV", Sector.DEPARTMENT),
            ("Sở Tài chính", "STC", Sector.DEPARTMENT),
            ("Văn phòng Ủy ban nhân dân tỉnh", "VP UBND", Sector.DEPARTMENT),
            ("Sở Tư pháp", "STP", Sector.DEPARTMENT),
            ("Thanh tra tỉnh", "TTr", Sector.DEPARTMENT),
            ("Văn phòng Đoàn ĐBQH và HĐND tỉnh", "VP ĐĐBQH", Sector.DEPARTMENT),
        ],
    ),
    (
        ClusterKind.BLOCK,
        "K02",
        "Khối các sở quản lý kinh tế - kỹ thuật",
        [
            ("Sở Công Thương", "SCT", Sector.DEPARTMENT),
            ("Sở Nông nghiệp và Môi trường", "SNNMT", Sector.DEPARTMENT),
            ("Sở Xây dựng", "SXD", Sector.DEPARTMENT),
            ("Sở Khoa học và Công nghệ", "SKHCN", Sector.DEPARTMENT),
            ("Ban Quản lý các khu công nghiệp tỉnh", "BQL KCN", Sector.DEPARTMENT),
        ],
    ),
    (
        ClusterKind.BLOCK,
        "K03",
        "Khối văn hóa - xã hội",
        [
            ("Sở Giáo dục và Đào tạo", "SGDĐT", Sector.DEPARTMENT),
            ("Sở Y tế", "SYT", Sector.DEPARTMENT),
            ("Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL", Sector.DEPARTMENT),
            ("Sở Dân tộc và Tôn giáo", "SDTTG", Sector.DEPARTMENT),
            ("Đài Phát thanh và Truyền hình tỉnh", "Đài PT-TH", Sector.PUBLIC_SERVICE),
        ],
    ),
    (
        ClusterKind.BLOCK,
        "K04",
        "Khối Mặt trận, đoàn thể tỉnh",
        [
            ("Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh", "UBMTTQ", Sector.MASS_ORG),
            ("Tỉnh Đoàn", "TĐ", Sector.MASS_ORG),
            ("Hội Liên hiệp Phụ nữ tỉnh", "HLHPN", Sector.MASS_ORG),
            ("Hội Nông dân tỉnh", "HND", Sector.MASS_ORG),
            ("Hội Cựu chiến binh tỉnh", "HCCB", Sector.MASS_ORG),
            ("Liên đoàn Lao động tỉnh", "LĐLĐ", Sector.MASS_ORG),
        ],
    ),
    (
        ClusterKind.BLOCK,
        "K05",
        "Khối doanh nghiệp nhà nước",
        [
            ("Công ty TNHH MTV Xổ số kiến thiết tỉnh", "XSKT", Sector.ENTERPRISE),
            ("Công ty Cổ phần Cấp nước và Môi trường đô thị", "CTN", Sector.ENTERPRISE),
            ("Công ty TNHH MTV Khai thác công trình thủy lợi", "CTTL", Sector.ENTERPRISE),
            ("Quỹ Đầu tư phát triển tỉnh", "QĐTPT", Sector.ENTERPRISE),
        ],
    ),
    (
        ClusterKind.CLUSTER,
        "C01",
        "Cụm thi đua số 1 (các phường)",
        [
            ("Ủy ban nhân dân phường Cao Lãnh", "P. Cao Lãnh", Sector.WARD),
            ("Ủy ban nhân dân phường Mỹ Trà", "P. Mỹ Trà", Sector.WARD),
            ("Ủy ban nhân dân phường Sa Đéc", "P. Sa Đéc", Sector.WARD),
            ("Ủy ban nhân dân phường Hồng Ngự", "P. Hồng Ngự", Sector.WARD),
            ("Ủy ban nhân dân phường An Bình", "P. An Bình", Sector.WARD),
            ("Ủy ban nhân dân phường Thường Lạc", "P. Thường Lạc", Sector.WARD),
        ],
    ),
    (
        ClusterKind.CLUSTER,
        "C02",
        "Cụm thi đua số 2 (các xã vùng Đồng Tháp Mười)",
        [
            ("Ủy ban nhân dân xã Tháp Mười", "X. Tháp Mười", Sector.COMMUNE),
            ("Ủy ban nhân dân xã Tràm Chim", "X. Tràm Chim", Sector.COMMUNE),
            ("Ủy ban nhân dân xã Tân Hồng", "X. Tân Hồng", Sector.COMMUNE),
            ("Ủy ban nhân dân xã Mỹ Quí", "X. Mỹ Quí", Sector.COMMUNE),
            ("Ủy ban nhân dân xã Phú Cường", "X. Phú Cường", Sector.COMMUNE),
            ("Ủy ban nhân dân xã Trường Xuân", "X. Trường Xuân", Sector.COMMUNE),
        ],
    ),
    (
        ClusterKind.CLUSTER,
        "C03",
        "Cụm thi đua số 3 (các xã ven sông Tiền)",
        [
            ("Ủy ban nhân dân xã Lai Vung", "X. Lai Vung", Sector.COMMUNE),
            ("Ủy ban nhân dân xã Lấp Vò", "X. Lấp Vò", Sector.COMMUNE),
            ("Ủy ban nhân dân xã Châu Thành", "X. Châu Thành", Sector.COMMUNE),
            ("Ủy ban nhân dân xã Tân Phú Trung", "X. Tân Phú Trung", Sector.COMMUNE),
            ("Ủy ban nhân dân xã Thanh Bình", "X. Thanh Bình", Sector.COMMUNE),
        ],
    ),
]
# Units of 2025 that the reform merged: (old name, short, sector, cluster code, successor name, date)
MERGED_2025 = [
    (
        "Ủy ban nhân dân xã Tân Phú",
        "X. Tân Phú",
        Sector.COMMUNE,
        "C03",
        "Ủy ban nhân dân xã Tân Phú Trung",
        date(2025, 7, 1),
    ),
    (
        "Ủy ban nhân dân xã Bình Thành",
        "X. Bình Thành",
        Sector.COMMUNE,
        "C03",
        "Ủy ban nhân dân xã Thanh Bình",
        date(2025, 7, 1),
    ),
]
COUNCIL = [
    ("Nguyễn Văn Hòa", "Chủ tịch UBND tỉnh", "Ủy ban nhân dân tỉnh", CouncilRole.CHAIRMAN),
    ("Trần Thị Thu Hà", "Phó Chủ tịch UBND tỉnh", "Ủy ban nhân dân tỉnh", CouncilRole.VICE_CHAIRMAN),
    ("Lê Minh Tuấn", "Giám đốc Sở Nội vụ", "Sở Nội vụ", CouncilRole.VICE_CHAIRMAN),
    ("Phạm Quốc Khánh", "Trưởng ban Thi đua - Khen thưởng", "Sở Nội vụ", CouncilRole.STANDING),
    ("Võ Thị Ngọc Lan", "Chủ tịch Liên đoàn Lao động tỉnh", "Liên đoàn Lao động tỉnh", CouncilRole.MEMBER),
    ("Huỳnh Văn Phúc", "Phó Chủ tịch Ủy ban MTTQ Việt Nam tỉnh", "Ủy ban MTTQ Việt Nam tỉnh", CouncilRole.MEMBER),
    ("Đặng Thanh Sơn", "Giám đốc Sở Tài chính", "Sở Tài chính", CouncilRole.MEMBER),
    ("Bùi Thị Kim Chi", "Phó Trưởng ban Thi đua - Khen thưởng", "Sở Nội vụ", CouncilRole.SECRETARY),
]


def slug(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFD", text).encode("ascii", "ignore").decode()
    return "".join(ch if ch.isalnum() else "-" for ch in ascii_text.lower()).strip("-").replace("--", "-")


def _user(session: Session, username: str, full_name: str, kind: str, **links) -> User:
    user = User(username=username, full_name=full_name, kind=kind, must_change_password=False, **links)
    # one scrypt run for the whole demo (about 0.1 s each, for every account): the demo accounts share a
    # public password, so sharing its hash and salt tells nothing that the README does not
    if _DEMO_HASH not in session.info:
        user.set_password(DEMO_PASSWORD)
        session.info[_DEMO_HASH] = user.password_hash
    user.password_hash = session.info[_DEMO_HASH]
    session.add(user)
    return user


def seed(session: Session) -> None:
    """Load the demo province into an empty database (its logins per role: services.demo_logins)."""
    if session.scalar(select(Unit.id).limit(1)) is not None:
        raise RuntimeError("Cơ sở dữ liệu đã có dữ liệu; chỉ nạp dữ liệu mẫu vào cơ sở dữ liệu trống.")
    _user(session, "secretariat", "Phạm Quốc Khánh", UserKind.SECRETARIAT)
    council = _council(session)
    y2025 = years.create_year(session, 2025)
    clusters = _clusters(session, y2025)
    _merge_2025(session, y2025, clusters)
    _terms_2025(session, y2025, clusters, council)
    _quotas_2025(session, y2025, clusters["K01"])
    y2026 = _year_2026(session, y2025, clusters)
    awards.carry_over(session, y2025, y2026)  # as the years page does when the secretariat starts a year
    first = clusters["K01"]
    members = [session.get(Unit, uid) for uid in cluster_year.member_ids(session, y2026.id, first.id)]
    demo_criteria.seed_block(session, first, y2026, members)


def _quotas_2025(session: Session, y2025: EmulationYear, cluster: Cluster) -> None:
    """The first cluster's 2025 quotas, set by the secretariat: 1 flag, 3 certificates for overall results,
    1 for a theme (the other clusters keep the defaults); 2026 starts from them."""
    kinds = {a.code: a.id for a in awards.award_types(session)}
    counts = {"co_thi_dua": 1, "bang_khen_toan_dien": 3, "bang_khen_chuyen_de": 1}
    awards.save_quotas(session, y2025, cluster, {kinds[code]: n for code, n in counts.items()})


def _council(session: Session) -> list[CouncilMember]:
    """The council's members, each with a login of their own."""
    council = [
        org.save_council_member(session, None, full_name=n, position=p, organisation=o, council_role=r)
        for n, p, o, r in COUNCIL
    ]
    for member in council:
        username = "hd-" + slug(member.full_name)
        _user(session, username, member.full_name, UserKind.COUNCIL, council_member=member)
    return council


def _clusters(session: Session, y2025: EmulationYear) -> dict[str, Cluster]:
    """The clusters and blocks with their units (each with a login) as members in 2025, by code."""
    clusters: dict[str, Cluster] = {}
    for kind, code, name, units in CLUSTERS:
        cluster = org.save_cluster(
            session,
            None,
            kind=kind,
            code=code,
            name=name,
            description=f"{name} {code}, thành lập theo quyết định của UBND tỉnh.",
        )
        clusters[code] = cluster
        for unit_name, short, sector in units:
            unit = org.save_unit(
                session, None, name=unit_name, short_name=short, sector=sector, address=f"{short}, tỉnh Đồng Tháp"
            )
            cluster_year.add_membership(session, y2025, cluster, unit)
            username = slug(short) if len(slug(short)) >= 3 else f"{slug(short)}-{code.lower()}"
            _user(session, username, f"Cán bộ thi đua {short}", UserKind.UNIT, unit=unit)
    return clusters


def _merge_2025(session: Session, y2025: EmulationYear, clusters: dict[str, Cluster]) -> None:
    """The communes that were members in 2025 and merged into a successor in the reform."""
    for old, short, sector, code, successor_name, when in MERGED_2025:
        unit = org.save_unit(session, None, name=old, short_name=short, sector=sector)
        cluster_year.add_membership(session, y2025, clusters[code], unit)
        successor = session.scalar(select(Unit).where(Unit.name == successor_name))
        org.merge_units(session, [unit], successor, when, "Nghị quyết 1663/NQ-UBTVQH15")


def _terms_2025(
    session: Session, y2025: EmulationYear, clusters: dict[str, Cluster], council: list[CouncilMember]
) -> None:
    """Every cluster's head, deputies and overseer of 2025, by decision."""
    for i, code in enumerate(clusters):
        order = cluster_year.member_ids(session, y2025.id, clusters[code].id)
        term = cluster_year.ensure_term(session, y2025, clusters[code])
        cluster_year.assign_term(
            session,
            term,
            head_id=order[0],
            deputy_ids=order[1:3] if i % 3 == 0 else order[1:2],
            overseer_id=council[2 + i % 6].id,
            decision_number=f"{120 + i}/QĐ-HĐTĐKT",
            decision_date=date(2025, 2, 14),
            decision_issuer="Hội đồng Thi đua - Khen thưởng tỉnh",
        )


def _year_2026(session: Session, y2025: EmulationYear, clusters: dict[str, Cluster]) -> EmulationYear:
    """2026 started from 2025 by rotation, the current year, with its decisions but for the last cluster."""
    y2026 = next_year.start_next_year(session, y2025)
    years.set_current(session, y2026)
    for i, code in enumerate(list(clusters)[:-1]):  # the last cluster still awaits its decision
        term = cluster_year.ensure_term(session, y2026, clusters[code])
        cluster_year.assign_term(
            session,
            term,
            head_id=term.head.unit_id,
            deputy_ids=[u.id for u in term.deputies],
            overseer_id=term.overseer_id,
            decision_number=f"{35 + i}/QĐ-HĐTĐKT",
            decision_date=date(2026, 1, 20),
            decision_issuer="Hội đồng Thi đua - Khen thưởng tỉnh",
        )
    return y2026
