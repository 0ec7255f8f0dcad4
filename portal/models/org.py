"""The organisation: member units, clusters and blocks, council members."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import N_, Audited, LabelledEnum, Timestamped, keep_text_keys, one_of


class Sector(LabelledEnum):
    DEPARTMENT = "department", N_("Sở, ban, ngành tỉnh")
    PARTY = "party", N_("Cơ quan Đảng")
    MASS_ORG = "mass_org", N_("Mặt trận, đoàn thể, hội")
    CENTRAL_AGENCY = "central_agency", N_("Cơ quan Trung ương đóng tại tỉnh")
    COMMUNE = "commune", N_("Xã")
    WARD = "ward", N_("Phường")
    DISTRICT = "district", N_("Huyện, thị xã, thành phố (trước 2025)")
    PUBLIC_SERVICE = "public_service", N_("Đơn vị sự nghiệp, trường học")
    ENTERPRISE = "enterprise", N_("Doanh nghiệp")
    OTHER = "other", N_("Khác")


class ClusterKind(LabelledEnum):
    CLUSTER = "cluster", N_("Cụm thi đua")
    BLOCK = "block", N_("Khối thi đua")


class CouncilRole(LabelledEnum):
    CHAIRMAN = "chairman", N_("Chủ tịch Hội đồng")
    VICE_CHAIRMAN = "vice_chairman", N_("Phó Chủ tịch Hội đồng")
    STANDING = "standing", N_("Ủy viên thường trực")
    MEMBER = "member", N_("Ủy viên")
    SECRETARY = "secretary", N_("Thư ký")


class UnitChangeKind(LabelledEnum):
    RENAME = "rename", N_("Đổi tên")
    MERGE = "merge", N_("Sáp nhập")
    RETIRE = "retire", N_("Giải thể / ngừng hoạt động")
    REACTIVATE = "reactivate", N_("Hoạt động trở lại")


SECTORS = Sector.labels()
CLUSTER_KINDS = ClusterKind.labels()
COUNCIL_ROLES = CouncilRole.labels()
UNIT_CHANGE_KINDS = UnitChangeKind.labels()

TEXT_KEYS = frozenset({"name_key", "sort_key", "search_key"})  # derived (portal.vntext), not audited


class Unit(Audited, Timestamped, db.Model):
    """A member unit: department, commune, agency, school or enterprise."""

    __tablename__ = "units"
    __audit_exclude__ = TEXT_KEYS
    __table_args__ = (
        CheckConstraint(one_of("sector", Sector), name="sector"),
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
        CheckConstraint("merged_into_id IS NULL OR merged_into_id <> id", name="not_merged_into_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    short_name: Mapped[str] = mapped_column(String(64), default="")
    sector: Mapped[str] = mapped_column(String(32), default=Sector.OTHER)
    address: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    retired_on: Mapped[date | None] = mapped_column(Date)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    # kept by keep_text_keys: a name is unique whatever its case, normal form or tone placement
    name_key: Mapped[str] = mapped_column(String(512), unique=True)
    sort_key: Mapped[bytes] = mapped_column(LargeBinary, index=True)
    search_key: Mapped[str] = mapped_column(Text, default="")  # name, short name

    merged_into: Mapped[Unit | None] = relationship(remote_side=[id])
    changes: Mapped[list[UnitChange]] = relationship(
        back_populates="unit", foreign_keys="UnitChange.unit_id", order_by="UnitChange.effective_on"
    )

    @property
    def sector_label(self) -> str:
        return SECTORS.get(self.sector, self.sector)

    @property
    def display_name(self) -> str:
        return self.short_name or self.name


class UnitChange(Audited, Timestamped, db.Model):
    """One reorganisation event in a unit's life: renamed, merged, retired."""

    __tablename__ = "unit_changes"
    __table_args__ = (CheckConstraint(one_of("kind", UnitChangeKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    effective_on: Mapped[date] = mapped_column(Date)
    decision_ref: Mapped[str] = mapped_column(String(128), default="")
    old_name: Mapped[str] = mapped_column(String(255), default="")
    new_name: Mapped[str] = mapped_column(String(255), default="")
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    unit: Mapped[Unit] = relationship(back_populates="changes", foreign_keys=[unit_id])
    successor: Mapped[Unit | None] = relationship(foreign_keys=[successor_id])

    @property
    def kind_label(self) -> str:
        return UNIT_CHANGE_KINDS[self.kind]

    def audit_label(self) -> str:
        return f"{self.kind_label}: {self.old_name or self.unit_id}"


class Cluster(Audited, Timestamped, db.Model):
    """An emulation cluster (Cụm) or block (Khối)."""

    __tablename__ = "clusters"
    __audit_exclude__ = TEXT_KEYS
    __table_args__ = (
        CheckConstraint(one_of("kind", ClusterKind), name="kind"),
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
        CheckConstraint("length(trim(code)) > 0", name="code_not_blank"),
        db.UniqueConstraint("kind", "name_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default=ClusterKind.CLUSTER)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    name_key: Mapped[str] = mapped_column(String(512))
    sort_key: Mapped[bytes] = mapped_column(LargeBinary, index=True)
    search_key: Mapped[str] = mapped_column(Text, default="")  # code, name

    @property
    def kind_label(self) -> str:
        return CLUSTER_KINDS[self.kind]

    @property
    def head_title(self) -> str:
        return N_("Trưởng cụm") if self.kind == ClusterKind.CLUSTER else N_("Trưởng khối")

    @property
    def deputy_title(self) -> str:
        return N_("Phó cụm") if self.kind == ClusterKind.CLUSTER else N_("Phó khối")


class CouncilMember(Audited, Timestamped, db.Model):
    """A member of the provincial Emulation and Commendation Council."""

    __tablename__ = "council_members"
    __audit_exclude__ = TEXT_KEYS
    __table_args__ = (
        CheckConstraint(one_of("council_role", CouncilRole), name="council_role"),
        CheckConstraint("length(trim(full_name)) > 0", name="name_not_blank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(128))
    position: Mapped[str] = mapped_column(String(255), default="")
    organisation: Mapped[str] = mapped_column(String(255), default="")
    council_role: Mapped[str] = mapped_column(String(32), default=CouncilRole.MEMBER)
    phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # two people may share a name: no name_key; listed by given name first
    sort_key: Mapped[bytes] = mapped_column(LargeBinary, index=True)
    search_key: Mapped[str] = mapped_column(Text, default="")  # name, position, organisation

    @property
    def council_role_label(self) -> str:
        return COUNCIL_ROLES[self.council_role]

    def audit_label(self) -> str:
        return self.full_name


keep_text_keys(Unit, "name", search=("name", "short_name"))
keep_text_keys(Cluster, "name", search=("code", "name"))
keep_text_keys(CouncilMember, "full_name", search=("full_name", "position", "organisation"), person=True)
