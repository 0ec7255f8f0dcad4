"""The pledge agreement: drafting, binding a criteria version, signing, confirming, targets.

A signature is for one exact charter: the agreement's text and the criteria
version it binds, written as canonical JSON and stored once under its SHA-256
(`Charter`). When the text or the bound version changes, the charter changes,
and the members who signed an earlier one show as having to confirm again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.formatting import vn_today
from portal.models import (
    Charter,
    Cluster,
    CriteriaSet,
    Criterion,
    EmulationYear,
    Membership,
    Pledge,
    PledgeSignature,
    TargetRegistration,
    Unit,
)
from portal.models.base import N_, utcnow
from portal.models.criteria import Method, SetStatus
from portal.models.notices import NoticeKind
from portal.services import DomainError
from portal.services.criteria import sets as criteria_svc
from portal.services.notices import events as notices
from portal.services.org.structure import clean

TARGET_LIMIT = Decimal(10) ** 14  # targets are Numeric(18, 4): 14 digits before the decimal point
TEXT_FIELDS = (
    "title",
    "number_symbol",
    "place",
    "legal_grounds",
    "goals",
    "commitments",
    "meeting_place",
    "recipients",
)
DEFAULT_GROUNDS = (
    "Luật Thi đua, khen thưởng ngày 15 tháng 6 năm 2022;\n"
    "Nghị định số 152/2025/NĐ-CP của Chính phủ quy định chi tiết một số điều của Luật Thi đua, khen thưởng;\n"
    "Hướng dẫn tổ chức hoạt động và bình xét thi đua của các Khối, Cụm thi đua của Hội đồng Thi đua - Khen thưởng tỉnh."
)
DEFAULT_COMMITMENTS = (
    "Thực hiện thắng lợi nhiệm vụ chính trị, các chỉ tiêu kinh tế - xã hội được giao trong năm.\n"
    "Triển khai sâu rộng các phong trào thi đua; phát hiện, bồi dưỡng, nhân rộng điển hình tiên tiến.\n"
    "Thực hiện tốt cải cách hành chính, chuyển đổi số, thực hành tiết kiệm, chống lãng phí.\n"
    "Xây dựng tổ chức Đảng, đoàn thể trong sạch, vững mạnh.\n"
    "Thực hiện đầy đủ chế độ thông tin, báo cáo; tham gia đầy đủ các hoạt động của cụm, khối."
)


DEFAULT_RECIPIENTS = (
    "Hội đồng Thi đua - Khen thưởng tỉnh;\nBan Thi đua - Khen thưởng, Sở Nội vụ;\nCác đơn vị thành viên;\nLưu: VT."
)


def find(session: Session, cluster_id: int, year_id: int) -> Pledge | None:
    return session.scalar(select(Pledge).where(Pledge.cluster_id == cluster_id, Pledge.year_id == year_id))


def create(session: Session, cluster: Cluster, year: EmulationYear) -> Pledge:
    """The year's agreement with default text, bound to the criteria set in force if members see it."""
    if find(session, cluster.id, year.id) is not None:
        raise DomainError(N_("Cụm, khối đã có giao ước thi đua năm này."))
    cset = criteria_svc.in_force(session, cluster.id, year.id)
    pledge = Pledge(
        cluster=cluster,
        year=year,
        title=f"Giao ước thi đua năm {year.year}",
        number_symbol=f"Số: 01/GƯTĐ-{cluster.code}",
        legal_grounds=DEFAULT_GROUNDS,
        commitments=DEFAULT_COMMITMENTS,
        goals=f"Các đơn vị thành viên {cluster.name} cùng nhau thi đua hoàn thành xuất sắc nhiệm vụ năm {year.year}.",
        criteria_set=cset if cset is not None and cset.status in (SetStatus.PUBLISHED, SetStatus.LOCKED) else None,
        recipients=DEFAULT_RECIPIENTS,
    )
    session.add(pledge)
    session.flush()
    if pledge.criteria_set is not None:
        ask_to_sign(session, pledge)
    return pledge


def update(
    session: Session, pledge: Pledge, *, criteria_set_id: int | None, meeting_date: date | None, **fields
) -> Pledge:
    before = current_hash(session, pledge)
    values = {key: (fields.get(key) or "").strip() for key in TEXT_FIELDS}
    values["title"] = clean(values["title"])
    if not values["title"]:
        raise DomainError(N_("Nhập tên giao ước."), "title")
    if not [line for line in values["commitments"].splitlines() if line.strip()]:
        raise DomainError(N_("Giao ước phải có ít nhất một nội dung cam kết."), "commitments")
    if criteria_set_id:
        cset = session.get(CriteriaSet, criteria_set_id)
        if cset is None or (cset.cluster_id, cset.year_id) != (pledge.cluster_id, pledge.year_id):
            raise DomainError(N_("Bảng tiêu chí không thuộc cụm, khối và năm của giao ước."), "criteria_set_id")
        if cset.status not in (SetStatus.PUBLISHED, SetStatus.LOCKED):
            raise DomainError(
                N_("Chỉ gắn được bảng tiêu chí đã công bố (thành viên phải xem được)."), "criteria_set_id"
            )
        pledge.criteria_set = cset  # the relationship, so the charter sees the new version at once
    else:
        pledge.criteria_set = None
    for key, value in values.items():
        setattr(pledge, key, value)
    pledge.meeting_date = meeting_date
    session.flush()
    if pledge.criteria_set is not None and current_hash(session, pledge) != before:
        ask_to_sign(session, pledge)
    return pledge


def ask_to_sign(session: Session, pledge: Pledge) -> None:
    """Every member unit whose latest signature is not for the charter as it stands is asked to (re)sign."""
    waiting = [row for row in statuses(session, pledge, current_hash(session, pledge)) if not row.current]
    for kind, message, rows in (
        (
            NoticeKind.PLEDGE_TO_SIGN,
            N_("%(cluster)s: giao ước thi đua năm %(year)s cần được ký."),
            [row for row in waiting if row.signature is None],
        ),
        (
            NoticeKind.PLEDGE_TO_RESIGN,
            N_("%(cluster)s: giao ước thi đua năm %(year)s đã thay đổi, cần ký xác nhận lại."),
            [row for row in waiting if row.signature],
        ),
    ):
        if rows:
            notices.notify(
                session,
                notices.unit_users(session, pledge.cluster_id, pledge.year_id, [row.unit.id for row in rows]),
                kind,
                cluster_id=pledge.cluster_id,
                year_id=pledge.year_id,
                message=message,
                params={"cluster": pledge.cluster.name, "year": pledge.year.year},
                endpoint="pledges.for_cluster",
                args={"cluster_id": pledge.cluster_id, "year": pledge.year.year},
            )


# --- the charter ------------------------------------------------------------------------


def _num(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def charter_content(session: Session, pledge: Pledge) -> dict:
    """What a member signs, in a stable form: the text and every criterion of the bound version."""
    content = {
        "pledge": {key: getattr(pledge, key) for key in TEXT_FIELDS},
        "meeting_date": pledge.meeting_date.isoformat() if pledge.meeting_date else None,
        "cluster": pledge.cluster.code,
        "year": pledge.year.year,
        "criteria": None,
    }
    cset = pledge.criteria_set
    if cset is not None:
        tree = criteria_svc.load_tree(session, cset)
        content["criteria"] = {
            "set_id": cset.id,
            "version": cset.version,
            "title": cset.title,
            "target_total": _num(cset.target_total),
            "score_step": _num(cset.score_step),
            "items": [
                [
                    depth,
                    n.code,
                    n.title,
                    n.kind,
                    n.method,
                    _num(tree.maxima[n.id]),
                    _num(n.points_each),
                    n.measure_unit,
                    n.guidance,
                    n.evidence_required,
                ]
                for n, depth in tree.walk()
            ],
        }
    return content


def canonical(content: dict) -> str:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def charter_hash(content: dict) -> str:
    return hashlib.sha256(canonical(content).encode("utf-8")).hexdigest()


def current_hash(session: Session, pledge: Pledge) -> str:
    """The hash of the agreement as it stands (nothing stored)."""
    return charter_hash(charter_content(session, pledge))


def current_charter(session: Session, pledge: Pledge) -> Charter:
    """The charter of the agreement as it stands, stored if new."""
    content = charter_content(session, pledge)
    digest = charter_hash(content)
    charter = session.get(Charter, digest)
    if charter is None:
        charter = Charter(hash=digest, pledge_id=pledge.id, content=canonical(content), created_at=utcnow())
        session.add(charter)
        session.flush()
    return charter


def verify(charter: Charter) -> bool:
    """Does the stored content still hash to the key it is stored under?"""
    return hashlib.sha256(charter.content.encode("utf-8")).hexdigest() == charter.hash


# --- signing ------------------------------------------------------------------------------


@dataclass
class MemberStatus:
    unit: Unit
    signature: PledgeSignature | None  # the latest
    current: bool  # the latest signature is for the charter as it stands

    @property
    def label(self) -> str:
        if self.signature is None:
            return "Chưa ký"
        return "Đã ký" if self.current else "Cần ký xác nhận lại"


def member_units(session: Session, pledge: Pledge) -> list[Unit]:
    return list(
        session.scalars(
            select(Unit)
            .join(Membership, Membership.unit_id == Unit.id)
            .where(Membership.year_id == pledge.year_id, Membership.cluster_id == pledge.cluster_id)
            .order_by(Membership.rotation_order, Membership.id)
        )
    )


def statuses(session: Session, pledge: Pledge, current_hash: str) -> list[MemberStatus]:
    latest: dict[int, PledgeSignature] = {}
    for signature in session.scalars(
        select(PledgeSignature).where(PledgeSignature.pledge_id == pledge.id).order_by(PledgeSignature.id)
    ):
        latest[signature.unit_id] = signature
    return [
        MemberStatus(
            unit, latest.get(unit.id), bool(latest.get(unit.id)) and latest[unit.id].charter_hash == current_hash
        )
        for unit in member_units(session, pledge)
    ]


def sign(
    session: Session,
    pledge: Pledge,
    unit: Unit,
    *,
    representative_name: str,
    representative_position: str,
    signed_on: date,
    user_id: int | None,
) -> PledgeSignature:
    """A member unit signs the agreement as it stands now."""
    if pledge.criteria_set_id is None:
        raise DomainError(N_("Giao ước chưa gắn bảng tiêu chí đã công bố; chưa ký được."))
    if unit.id not in {u.id for u in member_units(session, pledge)}:
        raise DomainError(N_("Đơn vị không phải thành viên của cụm, khối trong năm này."))
    name, position = _signer(pledge, representative_name, representative_position, signed_on)
    charter = current_charter(session, pledge)
    already = session.scalar(
        select(PledgeSignature.id).where(
            PledgeSignature.pledge_id == pledge.id,
            PledgeSignature.unit_id == unit.id,
            PledgeSignature.charter_hash == charter.hash,
        )
    )
    if already:
        raise DomainError(N_("Đơn vị đã ký giao ước này."))
    signature = PledgeSignature(
        pledge=pledge,
        unit=unit,
        representative_name=name,
        representative_position=position,
        signed_on=signed_on,
        charter_hash=charter.hash,
        signed_by_user_id=user_id,
        created_at=utcnow(),
    )
    session.add(signature)
    session.flush()
    return signature


def _signer(pledge: Pledge, name: str, position: str, signed_on: date | None) -> tuple[str, str]:
    """The representative's name and position, cleaned, once they and the signing date are valid."""
    name, position = clean(name), clean(position)
    if not name:
        raise DomainError(N_("Nhập họ tên người đại diện ký."), "representative_name")
    if not position:
        raise DomainError(N_("Nhập chức vụ người ký."), "representative_position")
    if signed_on is None:
        raise DomainError(N_("Nhập ngày ký."), "signed_on")
    if signed_on > vn_today() and signed_on != pledge.meeting_date:
        # The agreement is dated the day of its signing meeting: a member that signs ahead signs that date.
        raise DomainError(N_("Ngày ký không được sau hôm nay (trừ ngày hội nghị ký kết)."), "signed_on")
    return name, position


def confirm(session: Session, signature: PledgeSignature, user_id: int | None) -> None:
    """The head unit confirms a member's signature."""
    if signature.confirmed_at is not None:
        raise DomainError(N_("Chữ ký đã được xác nhận."))
    signature.confirmed_at, signature.confirmed_by_user_id = utcnow(), user_id
    session.flush()


# --- registered targets ------------------------------------------------------------------


def quantitative_items(session: Session, pledge_or_set) -> list[Criterion]:
    cset = pledge_or_set.criteria_set if isinstance(pledge_or_set, Pledge) else pledge_or_set
    if cset is None:
        return []
    tree = criteria_svc.load_tree(session, cset)
    return [n for n in tree.leaves() if n.method == Method.QUANTITATIVE]


def targets_of(
    session: Session, unit_ids: list[int], items: list[Criterion]
) -> dict[tuple[int, int], TargetRegistration]:
    if not unit_ids or not items:
        return {}
    rows = session.scalars(
        select(TargetRegistration)
        .where(TargetRegistration.unit_id.in_(unit_ids), TargetRegistration.criterion_id.in_([c.id for c in items]))
        .options(selectinload(TargetRegistration.unit))
    )
    return {(r.unit_id, r.criterion_id): r for r in rows}


def register_target(
    session: Session, cset: CriteriaSet, unit: Unit, criterion: Criterion, target: Decimal | None, note: str = ""
) -> TargetRegistration:
    """A member registers (or changes) its target on one quantitative criterion."""
    if criterion.set_id != cset.id or criterion.method != Method.QUANTITATIVE:
        raise DomainError(N_("Chỉ đăng ký chỉ tiêu cho tiêu chí định lượng của bảng tiêu chí hiện hành."))
    if cset.status == SetStatus.LOCKED:
        raise DomainError(N_("Bảng tiêu chí đã khóa để chấm điểm; không sửa chỉ tiêu đăng ký được nữa."), "target")
    if target is not None and target < 0:
        raise DomainError(N_("Chỉ tiêu không được âm."), "target")
    if target is not None and target >= TARGET_LIMIT:
        raise DomainError(N_("Chỉ tiêu quá lớn."), "target")
    row = session.scalar(
        select(TargetRegistration).where(
            TargetRegistration.unit_id == unit.id, TargetRegistration.criterion_id == criterion.id
        )
    )
    if row is None:
        row = TargetRegistration(
            cluster_id=cset.cluster_id, year_id=cset.year_id, unit_id=unit.id, criterion_id=criterion.id
        )
        session.add(row)
    row.target, row.note = target, (note or "").strip()[:2000]
    session.flush()
    return row


@dataclass(frozen=True)
class TargetGap:
    """A member unit with quantitative criteria it has no target for (full codes, e.g. "I.2")."""

    unit: Unit
    codes: list[str]


def target_gaps(session: Session, cset: CriteriaSet) -> tuple[int, list[TargetGap]]:
    """What locking the set would freeze: (member count, the members missing a target on some quantitative
    criterion). No target or a target of 0 alike: such a unit is scored apart and never leads the criterion.
    Three queries whatever the cluster's size: the tree, the members, the registered targets."""
    tree = criteria_svc.load_tree(session, cset)
    codes, path = {}, []
    for node, depth in tree.walk():
        path[depth - 1 :] = [node.code]
        if tree.is_leaf(node) and node.method == Method.QUANTITATIVE:
            codes[node.id] = ".".join(path)
    if not codes or cset.cluster_id is None:
        return 0, []
    units = session.scalars(
        select(Unit)
        .join(Membership, Membership.unit_id == Unit.id)
        .where(Membership.year_id == cset.year_id, Membership.cluster_id == cset.cluster_id)
        .order_by(Membership.rotation_order, Membership.id)
    ).all()
    registered = set(
        session.execute(
            select(TargetRegistration.unit_id, TargetRegistration.criterion_id).where(
                TargetRegistration.criterion_id.in_(list(codes)),
                TargetRegistration.target.is_not(None),
                TargetRegistration.target != 0,
            )
        ).all()
    )
    gaps = [TargetGap(u, [code for cid, code in codes.items() if (u.id, cid) not in registered]) for u in units]
    return len(units), [gap for gap in gaps if gap.codes]
