"""Short data helpers for tests: build rows through the same services the portal uses."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from portal.extensions import db
from portal.formatting import VN_TZ, vn_today
from portal.models import Cluster, CouncilMember, EmulationYear, Unit, User
from portal.services.org import cluster_year, years
from portal.services.org import structure as org

PASSWORD = "Mat-khau-2026"
_seq = itertools.count(1)


# --- dates relative to today -------------------------------------------------------------
# A date a rule compares with "now" (a deadline, a signing or meeting date, an expiry day) is
# computed from today's Vietnam day, so the suite passes on any date and with the clock moved
# (TEST_CLOCK_SHIFT_DAYS). The world's emulation year is data, never compared with today, so it
# stays fixed; a date that is pure data of that year (a decision date) is built from YEAR.
YEAR = 2026


def future_date(days: int = 30) -> date:
    """The Vietnam day `days` after today."""
    return vn_today() + timedelta(days=days)


def past_date(days: int = 30) -> date:
    """The Vietnam day `days` before today."""
    return vn_today() - timedelta(days=days)


def vn_moment(day: date, hour: int = 8, minute: int = 0, second: int = 0) -> datetime:
    """`hour:minute:second` Vietnam time on `day`, as the naive UTC timestamp the database keeps."""
    local = datetime.combine(day, time(hour, minute, second), tzinfo=VN_TZ)
    return local.astimezone(UTC).replace(tzinfo=None)


def vn_format(day: date) -> str:
    """dd/mm/yyyy, as an officer types a date into a form."""
    return day.strftime("%d/%m/%Y")


def unit(name: str | None = None, **kw) -> Unit:
    return org.save_unit(db.session, None, name=name or f"Đơn vị thử {next(_seq)}", **kw)


def cluster(name: str | None = None, kind: str = "cluster", code: str | None = None) -> Cluster:
    n = next(_seq)
    return org.save_cluster(db.session, None, kind=kind, code=code or f"T{n:03d}", name=name or f"Cụm thử {n}")


def council_member(full_name: str | None = None) -> CouncilMember:
    return org.save_council_member(
        db.session, None, full_name=full_name or f"Ủy viên {next(_seq)}", position="Ủy viên Hội đồng"
    )


def year(number: int = YEAR, current: bool = True) -> EmulationYear:
    record = years.create_year(db.session, number)
    if current:
        years.set_current(db.session, record)
    return record


_HASH: list[str] = []


def user(username: str, kind: str = "unit", **links) -> User:
    record = User(username=username, full_name=username, kind=kind, must_change_password=False, **links)
    if not _HASH:  # scrypt is slow on purpose; hash the shared test password once
        record.set_password(PASSWORD)
        _HASH.append(record.password_hash)
    record.password_hash = _HASH[0]
    db.session.add(record)
    db.session.flush()
    return record


@dataclass
class World:
    """A small province for permission tests: two clusters, every kind of user."""

    year: EmulationYear
    cluster: Cluster
    other_cluster: Cluster
    head: Unit
    deputy: Unit
    member: Unit
    outsider: Unit
    overseer: CouncilMember
    other_council: CouncilMember
    users: dict[str, User] = field(default_factory=dict)


def world() -> World:
    y = year(YEAR)
    c1 = cluster("Cụm thi đua số 1")
    c2 = cluster("Khối các sở", kind="block")
    head, deputy, member = unit("UBND phường An Bình"), unit("UBND phường Mỹ Trà"), unit("UBND xã Tân Hồng")
    outsider = unit("Sở Công Thương")
    for u in (head, deputy, member):
        cluster_year.add_membership(db.session, y, c1, u)
    cluster_year.add_membership(db.session, y, c2, outsider)
    overseer, other_council = council_member("Lê Minh Tuấn"), council_member("Trần Thu Hà")
    term = cluster_year.ensure_term(db.session, y, c1)
    cluster_year.assign_term(
        db.session,
        term,
        head_id=head.id,
        deputy_ids=[deputy.id],
        overseer_id=overseer.id,
        decision_number="12/QĐ-HĐTĐKT",
        decision_date=date(y.year, 1, 15),
        decision_issuer="Hội đồng TĐ-KT tỉnh",
    )
    w = World(y, c1, c2, head, deputy, member, outsider, overseer, other_council)
    w.users = {
        "secretariat": user("secretariat", kind="secretariat"),
        "overseer": user("overseer", kind="council", council_member=overseer),
        "council": user("council", kind="council", council_member=other_council),
        "head": user("head", unit=head),
        "deputy": user("deputy", unit=deputy),
        "member": user("member", unit=member),
        "outsider": user("outsider", unit=outsider),
    }
    db.session.commit()
    return w


def criteria_set(
    w: World, *, publish: bool = True, section_title: str = "Kinh tế", points: tuple[str, str] = ("60", "40")
):
    """A small table for the world's cluster: I. section → 1. quantitative (tỷ đồng), 2. direct."""
    from decimal import Decimal

    from portal.services.criteria import sets as svc

    cset = svc.create_set(db.session, w.cluster, w.year, title="Bảng 2026", target_total=Decimal(100))
    section = svc.add_criterion(db.session, cset, None, code="I", title=section_title)
    svc.add_criterion(
        db.session,
        cset,
        section,
        code="1",
        title="Thu ngân sách",
        method="quantitative",
        max_points=Decimal(points[0]),
        measure_unit="tỷ đồng",
    )
    svc.add_criterion(db.session, cset, section, code="2", title="Cải cách hành chính", max_points=Decimal(points[1]))
    if publish:
        svc.publish(db.session, cset)
    db.session.commit()
    return cset


def scoring_table(w: World, *, targets: bool = True, lock: bool = True):
    """A locked table: I. 1 quantitative 40, 2 direct 30 (step 0,25), 3 pass/fail 30; II. bonus 2 per occurrence
    (cap 5); III. deduction 0,5 each (cap 3). Targets 100/200/50 for head/deputy/member. Returns (set, items)."""
    from decimal import Decimal as D

    from portal.services.criteria import sets as svc
    from portal.services.pledges import agreements as pledges

    cset = svc.create_set(db.session, w.cluster, w.year, title="Bảng 2026", target_total=D(100))
    section = svc.add_criterion(db.session, cset, None, code="I", title="Nhiệm vụ")
    items = {
        "quant": svc.add_criterion(
            db.session, cset, section, code="1", title="Thu ngân sách", method="quantitative", max_points=D(40)
        ),
        "direct": svc.add_criterion(db.session, cset, section, code="2", title="Cải cách", max_points=D(30)),
        "pass": svc.add_criterion(
            db.session, cset, section, code="3", title="Chuyển đổi số", method="pass_fail", max_points=D(30)
        ),
    }
    bonus = svc.add_criterion(db.session, cset, None, code="II", title="Điểm thưởng", kind="bonus")
    items["bonus"] = svc.add_criterion(
        db.session,
        cset,
        bonus,
        code="1",
        title="Sáng kiến",
        kind="bonus",
        method="per_occurrence",
        points_each=D(2),
        max_points=D(5),
    )
    minus = svc.add_criterion(db.session, cset, None, code="III", title="Điểm trừ", kind="deduction")
    items["minus"] = svc.add_criterion(
        db.session,
        cset,
        minus,
        code="1",
        title="Báo cáo trễ",
        kind="deduction",
        method="per_occurrence",
        points_each=D("0.5"),
        max_points=D(3),
    )
    svc.publish(db.session, cset)
    if targets:
        for unit_, target in ((w.head, D(100)), (w.deputy, D(200)), (w.member, D(50))):
            pledges.register_target(db.session, cset, unit_, items["quant"], target)
    if lock:
        svc.lock(db.session, cset)
    db.session.flush()
    return cset, items
