"""Planning an import of the organisation workbook: every row checked against the database and the
rest of the file, and what importing it would change, with how to apply it. Nothing is written."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.models import Cluster, EmulationYear, Membership, Unit
from portal.models.org import CLUSTER_KINDS, SECTORS, Sector
from portal.services import DomainError
from portal.services.org import cluster_year
from portal.services.org import structure as org
from portal.services.org.transfer.layout import CLUSTERS, MEMBERS, SHEETS, STATUS_LABELS, UNITS, name_key
from portal.services.org.transfer.read import Sheet, parse_cell, parse_integer
from portal.services.org.transfer.report import Change, ImportReport, RowError


def plan_import(session: Session, sheets: dict[str, Sheet]) -> ImportReport:
    """The report of every row: its errors, or the change it makes (with how to apply it)."""
    return _Planner(session, sheets).plan()


def _display(key: str, value) -> str:
    if value is None:
        return ""
    if key == "sector":
        return SECTORS.get(value, value)
    if key == "kind":
        return CLUSTER_KINDS.get(value, value)
    if key == "active":
        return STATUS_LABELS[value]
    return str(value)


class _Planner:
    """Checks every row and records what importing it would change, and how to apply it."""

    def __init__(self, session: Session, sheets: dict[str, Sheet]):
        self.sheets = sheets
        self.report = ImportReport(sheets=list(sheets))
        self.units = {name_key(u.name): u for u in session.scalars(select(Unit))}
        self.clusters = {c.code.upper(): c for c in session.scalars(select(Cluster))}
        self.cluster_names = {(c.kind, name_key(c.name)): c for c in self.clusters.values()}
        self.years = {y.year: y for y in session.scalars(select(EmulationYear))}
        self.memberships = self._memberships(session)
        self.file_units: dict[str, int] = {}  # name key -> row where the file names it
        self.file_clusters: dict[str, int] = {}  # code -> row

    def _memberships(self, session: Session) -> dict[tuple[int, int], Membership]:
        sheet = self.sheets.get(MEMBERS)
        wanted = {self.years[n].id for n in self._years_named(sheet) if n in self.years} if sheet else set()
        if not wanted:
            return {}
        rows = session.scalars(
            select(Membership).where(Membership.year_id.in_(wanted)).options(selectinload(Membership.cluster))
        )
        return {(m.year_id, m.unit_id): m for m in rows}

    @staticmethod
    def _years_named(sheet: Sheet) -> set:
        named = set()
        for _number, values in sheet.rows:
            try:
                named.add(parse_integer(values.get("year")))
            except DomainError:
                continue
        return named

    def plan(self) -> ImportReport:
        for name, step in ((UNITS, self._unit), (CLUSTERS, self._cluster), (MEMBERS, self._member)):
            sheet = self.sheets.get(name)
            if sheet is None:
                continue
            context: dict = {}  # what earlier rows of this sheet already claimed
            for number, values in sheet.rows:
                cells, ok = self._cells(sheet, number, values)
                step(number, cells, ok, context)
        return self.report

    def _cells(self, sheet: Sheet, number: int, values: dict) -> tuple[dict, bool]:
        cells, ok = {}, True
        for col in SHEETS[sheet.name]:
            if col.key not in sheet.columns:
                cells[col.key] = None
                continue
            try:
                cells[col.key] = parse_cell(col, values.get(col.key))
            except DomainError as error:
                self._error(sheet.name, number, col.key, error.message)
                cells[col.key], ok = None, False
        return cells, ok

    def _error(self, sheet: str, number: int, key: str, message: str) -> None:
        header = next((c.header for c in SHEETS[sheet] if c.key == key), "")
        self.report.errors.append(RowError(sheet, number, header, message))

    def _change(self, sheet: str, number: int, action: str, label: str, fields: list, apply=None) -> None:
        self.report.changes.append(Change(sheet, number, action, label, fields, apply))

    @staticmethod
    def _diff(sheet: str, before: dict, after: dict) -> list[tuple[str, str, str]]:
        shown = [
            (c.header, _display(c.key, before.get(c.key)), _display(c.key, after[c.key]))
            for c in SHEETS[sheet]
            if c.key in after
        ]
        return [(header, old, new) for header, old, new in shown if old != new]

    # Units: matched by name; the name itself is never changed here (renaming keeps history elsewhere).
    def _unit(self, number: int, cells: dict, ok: bool, context: dict) -> None:
        if not cells.get("name"):
            return
        key = name_key(cells["name"])
        if key in self.file_units:
            return self._error(UNITS, number, "name", f"Trùng tên với dòng {self.file_units[key]}.")
        self.file_units[key] = number
        if not ok:
            return
        unit = self.units.get(key)
        given = {k: cells[k] for k in ("short_name", "sector", "address") if cells[k] is not None}
        if unit is None:
            if cells["active"] is False:
                return self._error(UNITS, number, "active", "Đơn vị mới phải ở tình trạng Hoạt động.")
            values = {"short_name": "", "sector": Sector.OTHER, "address": "", **given}

            def create(session: Session) -> None:
                self.units[key] = org.save_unit(session, None, name=cells["name"], **values)

            return self._change(UNITS, number, "create", cells["name"], self._diff(UNITS, {}, values), create)
        if cells["active"] is not None and cells["active"] != unit.active:
            how = "“Giải thể / ngừng hoạt động” hoặc “Sáp nhập”" if unit.active else "“Cho hoạt động trở lại”"
            return self._error(
                UNITS,
                number,
                "active",
                f"Đổi tình trạng đơn vị bằng chức năng {how} trên trang của "
                "đơn vị trong mục Đơn vị (cần ngày hiệu lực và quyết định).",
            )
        current = {k: getattr(unit, k) for k in ("short_name", "sector", "address")}
        fields = self._diff(UNITS, current, given)
        if not fields:
            return self._change(UNITS, number, "unchanged", unit.name, [])
        self._change(
            UNITS,
            number,
            "update",
            unit.name,
            fields,
            lambda session: org.save_unit(session, unit, name=unit.name, active=unit.active, **{**current, **given}),
        )

    # Clusters and blocks: matched by code; the name is unique within its kind.
    def _cluster(self, number: int, cells: dict, ok: bool, context: dict) -> None:
        if not cells.get("code"):
            return
        code = cells["code"].upper()
        if code in self.file_clusters:
            return self._error(CLUSTERS, number, "code", f"Trùng mã với dòng {self.file_clusters[code]}.")
        self.file_clusters[code] = number
        if not ok:
            return
        named = (cells["kind"], name_key(cells["name"]))
        if named in context:
            return self._error(CLUSTERS, number, "name", f"Trùng tên với dòng {context[named]}.")
        context[named] = number
        clash = self.cluster_names.get(named)
        if clash is not None and clash.code.upper() != code:
            return self._error(
                CLUSTERS, number, "name", f"Đã có {clash.kind_label.lower()} tên “{clash.name}” (mã {clash.code})."
            )
        cluster = self.clusters.get(code)
        given = {k: cells[k] for k in ("kind", "name", "description", "active") if cells[k] is not None}
        if cluster is None:
            values = {"description": "", "active": True, **given}

            def create(session: Session) -> None:
                self.clusters[code] = org.save_cluster(session, None, code=code, **values)

            return self._change(
                CLUSTERS, number, "create", f"{code} – {cells['name']}", self._diff(CLUSTERS, {}, values), create
            )
        current = {k: getattr(cluster, k) for k in ("kind", "name", "description", "active")}
        fields = self._diff(CLUSTERS, current, given)
        label = f"{cluster.code} – {cluster.name}"
        if not fields:
            return self._change(CLUSTERS, number, "unchanged", label, [])
        self._change(
            CLUSTERS,
            number,
            "update",
            label,
            fields,
            lambda session: org.save_cluster(session, cluster, code=cluster.code, **{**current, **given}),
        )

    # Memberships: a unit is in one cluster per year; the same cluster again is no change.
    def _member(self, number: int, cells: dict, ok: bool, context: dict) -> None:
        known_errors = len(self.report.errors)
        year, code, name, order = self.years.get(cells["year"]), cells["code"], cells["unit"], cells["rotation_order"]
        if cells["year"] is not None and year is None:
            self._error(
                MEMBERS,
                number,
                "year",
                f"Chưa có năm thi đua {cells['year']}; hãy tạo năm trong mục Năm thi đua trước.",
            )
        code = code.upper() if code else None
        if code and code not in self.clusters and code not in self.file_clusters:
            self._error(
                MEMBERS,
                number,
                "code",
                f"Không có cụm, khối mã “{code}” trong hệ thống hay trong trang “Cụm, khối” của tệp.",
            )
        key = name_key(name) if name else None
        if key and key not in self.units and key not in self.file_units:
            self._error(
                MEMBERS, number, "unit", f"Không có đơn vị “{name}” trong hệ thống hay trong trang “Đơn vị” của tệp."
            )
        if order is not None and not 1 <= order <= 1000:
            self._error(MEMBERS, number, "rotation_order", "Phải là số nguyên từ 1 đến 1000.")
        if not ok or len(self.report.errors) > known_errors:
            return
        if (year.year, key) in context:
            return self._error(
                MEMBERS,
                number,
                "unit",
                f"Đơn vị đã có ở dòng {context[(year.year, key)]} "
                f"cho năm {year.year}; mỗi năm một đơn vị thuộc một cụm, khối.",
            )
        context[(year.year, key)] = number
        if order is not None:
            if (year.year, code, order) in context:
                return self._error(
                    MEMBERS,
                    number,
                    "rotation_order",
                    f"Trùng thứ tự luân phiên với dòng {context[(year.year, code, order)]}.",
                )
            context[(year.year, code, order)] = number
        self._place(number, year, code, key, name, order)

    def _place(self, number: int, year: EmulationYear, code: str, key: str, name: str, order: int | None) -> None:
        unit = self.units.get(key)
        label = f"{unit.name if unit else name} → {code} ({year.year})"
        membership = self.memberships.get((year.id, unit.id)) if unit is not None else None
        if membership is not None:
            placed = membership.cluster
            if placed.code.upper() != code:
                return self._error(
                    MEMBERS,
                    number,
                    "code",
                    f"Đơn vị “{unit.name}” đã thuộc “{placed.name}” (mã {placed.code}) trong năm {year.year}.",
                )
            if order is None or order == membership.rotation_order:
                return self._change(MEMBERS, number, "unchanged", label, [])
            fields = self._diff(MEMBERS, {"rotation_order": membership.rotation_order}, {"rotation_order": order})
            return self._change(
                MEMBERS, number, "update", label, fields, lambda session: _set_order(session, membership, order)
            )
        if unit is not None and not unit.active:
            return self._error(MEMBERS, number, "unit", f"Đơn vị “{unit.name}” đã ngừng hoạt động.")

        def create(session: Session) -> None:
            added = cluster_year.add_membership(session, year, self.clusters[code], self.units[key])
            if order is not None:
                _set_order(session, added, order)

        self._change(MEMBERS, number, "create", label, self._diff(MEMBERS, {}, {"rotation_order": order}), create)


def _set_order(session: Session, membership: Membership, order: int) -> None:
    membership.rotation_order = order
    session.flush()
