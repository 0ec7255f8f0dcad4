"""Units, clusters and council members: their rules, and the reorganisation of units.

Names are compared by their stored `name_key` (portal.vntext): without regard to case,
repeated spaces, Unicode normal form or old/new tone placement, so "UBND xã  An Bình",
"ubnd xã an bình" and "ỦY BAN NHÂN DÂN" / "Uỷ ban nhân dân" are the same name to the portal,
as they are to a reader, on SQLite and PostgreSQL alike. The unique index on the key is the
backstop when two requests race past the check: its IntegrityError becomes the same error.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import vntext
from portal.models import Cluster, CouncilMember, Unit, UnitChange
from portal.models.base import N_
from portal.models.org import ClusterKind, CouncilRole, Sector, UnitChangeKind
from portal.services import DomainError


def clean(text: str | None) -> str:
    return vntext.normalise(text)


def _taken(session: Session, column, value: str, exclude_id: int | None, *extra) -> bool:
    """Whether another row has this value in `column` (compared as stored: keys, codes)."""
    query = select(column.class_.id).where(column == value, *extra)
    if exclude_id is not None:
        query = query.where(column.class_.id != exclude_id)
    return session.scalar(query.limit(1)) is not None


def _flush_unique(session: Session, taken: DomainError) -> None:
    """Flush; a unique name key broken meanwhile by another request gives the checked error."""
    try:
        session.flush()
    except IntegrityError as error:
        if "name_key" not in str(error.orig):
            raise
        raise taken from error


def save_unit(
    session: Session,
    unit: Unit | None,
    *,
    name: str,
    short_name: str = "",
    sector: str = Sector.OTHER,
    address: str = "",
    active: bool = True,
) -> Unit:
    """Create (unit=None) or update a unit; the name is unique."""
    name = clean(name)
    if not name:
        raise DomainError(N_("Tên đơn vị không được để trống."), "name")
    taken = DomainError(N_("Đã có đơn vị tên “%(name)s”."), "name", name=name)
    if _taken(session, Unit.name_key, vntext.name_key(name), unit.id if unit else None):
        raise taken
    if unit is None:
        unit = Unit()
        session.add(unit)
    elif unit.active != active and not active:
        raise DomainError(N_("Để ngừng hoạt động một đơn vị, dùng chức năng Giải thể hoặc Sáp nhập."), "active")
    unit.name, unit.short_name, unit.sector, unit.address = name, clean(short_name), sector, clean(address)
    _flush_unique(session, taken)
    return unit


def save_cluster(
    session: Session,
    cluster: Cluster | None,
    *,
    kind: str,
    code: str,
    name: str,
    description: str = "",
    active: bool = True,
) -> Cluster:
    """Create or update a cluster/block; the code is unique, the name unique within its kind."""
    code, name = clean(code).upper(), clean(name)
    if not code:
        raise DomainError(N_("Mã không được để trống."), "code")
    if not name:
        raise DomainError(N_("Tên không được để trống."), "name")
    exclude = cluster.id if cluster else None
    if _taken(session, Cluster.code, code, exclude):  # codes are stored upper-cased
        raise DomainError(N_("Mã “%(code)s” đã được dùng."), "code", code=code)
    if kind == ClusterKind.CLUSTER:
        taken = DomainError(N_("Đã có cụm thi đua tên “%(name)s”."), "name", name=name)
    else:
        taken = DomainError(N_("Đã có khối thi đua tên “%(name)s”."), "name", name=name)
    if _taken(session, Cluster.name_key, vntext.name_key(name), exclude, Cluster.kind == kind):
        raise taken
    if cluster is None:
        cluster = Cluster()
        session.add(cluster)
    cluster.kind, cluster.code, cluster.name = kind, code, name
    cluster.description, cluster.active = (description or "").strip(), active
    _flush_unique(session, taken)
    return cluster


def save_council_member(session: Session, member: CouncilMember | None, **fields) -> CouncilMember:
    full_name = clean(fields.get("full_name"))
    if not full_name:
        raise DomainError(N_("Họ và tên không được để trống."), "full_name")
    if member is None:
        member = CouncilMember()
        session.add(member)
    member.full_name = full_name
    for key in ("position", "organisation", "phone", "email"):
        setattr(member, key, clean(fields.get(key)))
    member.council_role = fields.get("council_role") or CouncilRole.MEMBER
    member.active = bool(fields.get("active", True))
    session.flush()
    return member


# --- reorganisation: history is kept as UnitChange rows, never rewritten ---------------


def _unit_change(
    session: Session, unit: Unit, kind: str, effective_on: date, decision_ref: str, note: str, **more
) -> UnitChange:
    """A reorganisation written into the unit's history, with the name it had until then."""
    change = UnitChange(
        unit=unit,
        kind=kind,
        effective_on=effective_on,
        decision_ref=clean(decision_ref),
        old_name=unit.name,
        note=(note or "").strip(),
        **more,
    )
    session.add(change)
    return change


def rename_unit(
    session: Session, unit: Unit, new_name: str, effective_on: date, decision_ref: str = "", note: str = ""
) -> UnitChange:
    new_name = clean(new_name)
    if not new_name:
        raise DomainError(N_("Tên mới không được để trống."), "new_name")
    if new_name == unit.name:
        raise DomainError(N_("Tên mới trùng tên hiện tại."), "new_name")
    taken = DomainError(N_("Đã có đơn vị tên “%(name)s”."), "new_name", name=new_name)
    if _taken(session, Unit.name_key, vntext.name_key(new_name), unit.id):
        raise taken
    change = _unit_change(session, unit, UnitChangeKind.RENAME, effective_on, decision_ref, note, new_name=new_name)
    unit.name = new_name
    _flush_unique(session, taken)
    return change


def merge_units(
    session: Session,
    predecessors: list[Unit],
    successor: Unit,
    effective_on: date,
    decision_ref: str = "",
    note: str = "",
) -> list[UnitChange]:
    """Predecessors are merged into the successor and retire; their past years stay as they were."""
    if not predecessors:
        raise DomainError(N_("Chọn ít nhất một đơn vị bị sáp nhập."), "predecessors")
    if successor in predecessors:
        raise DomainError(N_("Đơn vị tiếp nhận không thể đồng thời là đơn vị bị sáp nhập."), "successor")
    if not successor.active:
        raise DomainError(N_("Đơn vị tiếp nhận đã ngừng hoạt động."), "successor")
    changes = []
    for unit in predecessors:
        if not unit.active:
            raise DomainError(N_("Đơn vị “%(unit)s” đã ngừng hoạt động."), "predecessors", unit=unit.name)
        change = _unit_change(
            session,
            unit,
            UnitChangeKind.MERGE,
            effective_on,
            decision_ref,
            note,
            new_name=successor.name,
            successor=successor,
        )
        unit.active, unit.retired_on, unit.merged_into = False, effective_on, successor
        changes.append(change)
    session.flush()
    return changes


def retire_unit(session: Session, unit: Unit, effective_on: date, decision_ref: str = "", note: str = "") -> UnitChange:
    if not unit.active:
        raise DomainError(N_("Đơn vị đã ngừng hoạt động."), "unit")
    change = _unit_change(session, unit, UnitChangeKind.RETIRE, effective_on, decision_ref, note)
    unit.active, unit.retired_on = False, effective_on
    session.flush()
    return change


def reactivate_unit(
    session: Session, unit: Unit, effective_on: date, decision_ref: str = "", note: str = ""
) -> UnitChange:
    if unit.active:
        raise DomainError(N_("Đơn vị đang hoạt động."), "unit")
    change = _unit_change(session, unit, UnitChangeKind.REACTIVATE, effective_on, decision_ref, note)
    unit.active, unit.retired_on, unit.merged_into = True, None, None
    session.flush()
    return change


def current_successor(unit: Unit) -> Unit | None:
    """Follow merges to the unit that carries on today (None if the line ended by retirement)."""
    seen = set()
    while unit is not None and not unit.active and unit.id not in seen:
        seen.add(unit.id)
        unit = unit.merged_into
    return unit if unit is not None and unit.active else None
