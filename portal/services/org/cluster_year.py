"""A cluster in a year: its members in rotation order, and its term (head, deputies, overseer, decision)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import Cluster, CouncilMember, EmulationYear, Membership, Term, TermPosition, Unit
from portal.models.base import N_
from portal.models.org import ClusterKind
from portal.models.years import PositionRole
from portal.services import DomainError
from portal.services.org.structure import clean

# The refusals about a term's offices, one entry per kind: the titles (Trưởng cụm, Phó khối…) are words of
# the sentence, translated with it.
OFFICE_RULES = {
    ClusterKind.CLUSTER: {
        PositionRole.HEAD: N_("“%(unit)s” đang là Trưởng cụm năm %(year)s; hãy phân công đơn vị khác trước."),
        PositionRole.DEPUTY: N_("“%(unit)s” đang là Phó cụm năm %(year)s; hãy phân công đơn vị khác trước."),
        "decision": N_("Quyết định phân công phải có Trưởng cụm."),
        "head_member": N_("Trưởng cụm phải là thành viên của cụm thi đua trong năm này."),
        "deputy_member": N_("Phó cụm phải là thành viên của cụm thi đua trong năm này."),
        "distinct": N_("Trưởng cụm và Phó cụm phải là hai đơn vị khác nhau."),
        "head_first": N_("Chọn Trưởng cụm trước khi chọn Phó cụm."),
    },
    ClusterKind.BLOCK: {
        PositionRole.HEAD: N_("“%(unit)s” đang là Trưởng khối năm %(year)s; hãy phân công đơn vị khác trước."),
        PositionRole.DEPUTY: N_("“%(unit)s” đang là Phó khối năm %(year)s; hãy phân công đơn vị khác trước."),
        "decision": N_("Quyết định phân công phải có Trưởng khối."),
        "head_member": N_("Trưởng khối phải là thành viên của khối thi đua trong năm này."),
        "deputy_member": N_("Phó khối phải là thành viên của khối thi đua trong năm này."),
        "distinct": N_("Trưởng khối và Phó khối phải là hai đơn vị khác nhau."),
        "head_first": N_("Chọn Trưởng khối trước khi chọn Phó khối."),
    },
}


def cluster_of(session: Session, year: EmulationYear, unit: Unit) -> Cluster | None:
    return session.scalar(
        select(Cluster)
        .join(Membership, Membership.cluster_id == Cluster.id)
        .where(Membership.year_id == year.id, Membership.unit_id == unit.id)
    )


def add_membership(session: Session, year: EmulationYear, cluster: Cluster, unit: Unit) -> Membership:
    """A unit belongs to exactly one cluster or block in a year."""
    if not unit.active:
        raise DomainError(N_("Đơn vị “%(unit)s” đã ngừng hoạt động."), "unit_id", unit=unit.name)
    other = cluster_of(session, year, unit)
    if other is not None and other.id == cluster.id:
        raise DomainError(
            N_("Đơn vị “%(unit)s” đã thuộc cụm/khối này trong năm %(year)s."), "unit_id", unit=unit.name, year=year.year
        )
    if other is not None:
        raise DomainError(
            N_("Đơn vị “%(unit)s” đã thuộc “%(cluster)s” trong năm %(year)s."),
            "unit_id",
            unit=unit.name,
            cluster=other.name,
            year=year.year,
        )
    last = session.scalar(
        select(func.max(Membership.rotation_order)).where(
            Membership.year_id == year.id, Membership.cluster_id == cluster.id
        )
    )
    membership = Membership(year=year, cluster=cluster, unit=unit, rotation_order=(last or 0) + 1)
    session.add(membership)
    ensure_term(session, year, cluster)
    session.flush()
    return membership


def remove_membership(session: Session, membership: Membership) -> None:
    held = session.scalar(
        select(TermPosition.role).where(
            TermPosition.year_id == membership.year_id,
            TermPosition.cluster_id == membership.cluster_id,
            TermPosition.unit_id == membership.unit_id,
        )
    )
    if held:
        raise DomainError(
            OFFICE_RULES[membership.cluster.kind][held],
            "unit_id",
            unit=membership.unit.name,
            year=membership.year.year,
        )
    session.delete(membership)
    session.flush()


def move_in_rotation(session: Session, membership: Membership, step: int) -> None:
    """Move a member one place up (-1) or down (+1) in the cluster's rotation order."""
    members = list(
        session.scalars(
            select(Membership)
            .where(Membership.year_id == membership.year_id, Membership.cluster_id == membership.cluster_id)
            .order_by(Membership.rotation_order, Membership.id)
        )
    )
    i = members.index(membership)
    j = i + step
    if 0 <= j < len(members):
        members[i], members[j] = members[j], members[i]
    for order, member in enumerate(members, start=1):
        member.rotation_order = order
    session.flush()


def ensure_term(session: Session, year: EmulationYear, cluster: Cluster) -> Term:
    term = session.scalar(select(Term).where(Term.year_id == year.id, Term.cluster_id == cluster.id))
    if term is None:
        term = Term(year=year, cluster=cluster)
        session.add(term)
        session.flush()
    return term


def member_ids(session: Session, year_id: int, cluster_id: int) -> list[int]:
    """Unit ids of the cluster's members in rotation order."""
    return list(
        session.scalars(
            select(Membership.unit_id)
            .where(Membership.year_id == year_id, Membership.cluster_id == cluster_id)
            .order_by(Membership.rotation_order, Membership.id)
        )
    )


def assign_term(
    session: Session,
    term: Term,
    *,
    head_id: int | None,
    deputy_ids: list[int],
    overseer_id: int | None,
    decision_number: str = "",
    decision_date: date | None = None,
    decision_issuer: str = "",
    note: str = "",
) -> Term:
    """Set head, deputies, overseer and the decision. Head and deputies are distinct members."""
    deputy_ids = list(dict.fromkeys(deputy_ids))  # keep order, drop repeats
    _check_offices(session, term, head_id, deputy_ids)
    if overseer_id is not None:
        overseer = session.get(CouncilMember, overseer_id)
        if overseer is None or not overseer.active:
            raise DomainError(N_("Thành viên Hội đồng phụ trách không hợp lệ."), "overseer_id")
    decision_number = clean(decision_number)
    if decision_number and head_id is None:
        raise DomainError(OFFICE_RULES[term.cluster.kind]["decision"], "head_id")
    if decision_number and decision_date is None:
        raise DomainError(N_("Nhập ngày ban hành quyết định."), "decision_date")
    place_offices(session, term, head_id, deputy_ids)
    term.overseer_id = overseer_id
    term.decision_number, term.decision_date = decision_number, decision_date
    term.decision_issuer, term.note = clean(decision_issuer), (note or "").strip()
    term.proposed_by_rotation = False
    session.flush()
    return term


def _check_offices(session: Session, term: Term, head_id: int | None, deputy_ids: list[int]) -> None:
    """Head and deputies are members of the cluster in the term's year, distinct, and no deputy without a head."""
    members = set(member_ids(session, term.year_id, term.cluster_id))
    rules = OFFICE_RULES[term.cluster.kind]
    if head_id is not None and head_id not in members:
        raise DomainError(rules["head_member"], "head_id")
    if any(d not in members for d in deputy_ids):
        raise DomainError(rules["deputy_member"], "deputy_ids")
    if head_id is not None and head_id in deputy_ids:
        raise DomainError(rules["distinct"], "deputy_ids")
    if deputy_ids and head_id is None:
        raise DomainError(rules["head_first"], "head_id")


def place_offices(session: Session, term: Term, head_id: int | None, deputy_ids: list[int]) -> None:
    """The term's positions made to be exactly this head and these deputies; unchanged positions stay as they are."""
    wanted = ([(head_id, PositionRole.HEAD)] if head_id is not None else []) + [
        (d, PositionRole.DEPUTY) for d in deputy_ids
    ]
    current = {(p.unit_id, p.role): p for p in term.positions}
    for key, position in current.items():
        if key not in wanted:
            term.positions.remove(position)
    session.flush()  # free the unique (term, unit) slots before re-adding in a new role
    for unit_id, role in wanted:
        if (unit_id, role) not in current:
            term.positions.append(
                TermPosition(year_id=term.year_id, cluster_id=term.cluster_id, unit_id=unit_id, role=role)
            )


def set_council_member_active(
    session: Session, member: CouncilMember, active: bool, current: EmulationYear | None
) -> None:
    """Deactivate or bring back a council member. One who oversees a cluster in the current
    year (or a later year already started) must be replaced on those terms first."""
    if not active and current is not None:
        overseen = session.execute(
            select(EmulationYear.year, Cluster.name)
            .join(Term, Term.year_id == EmulationYear.id)
            .join(Cluster, Cluster.id == Term.cluster_id)
            .where(Term.overseer_id == member.id, EmulationYear.year >= current.year)
            .order_by(EmulationYear.year, Cluster.sort_key)
        ).all()
        if overseen:
            listed = "; ".join(f"{name} (năm {number})" for number, name in overseen)
            raise DomainError(
                N_(
                    "%(member)s đang phụ trách %(clusters)s. Hãy phân công thành viên Hội đồng khác "
                    "phụ trách trước khi ngừng hoạt động."
                ),
                "active",
                member=member.full_name,
                clusters=listed,
            )
    member.active = active
    session.flush()
