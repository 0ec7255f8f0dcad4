"""Where a new criteria set may start from: last year's, another cluster's, or a province template."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from portal import vntext
from portal.extensions import db
from portal.models import Cluster, CriteriaSet, EmulationYear
from portal.services import DomainError
from portal.services.criteria.sets import in_force

SOURCES = {
    "empty": _l("Bảng trống"),
    "last_year": _l("Bảng tiêu chí năm trước của cụm, khối này"),
    "other": _l("Bảng tiêu chí của cụm, khối khác"),
    "template": _l("Mẫu bảng tiêu chí của tỉnh"),
}


def _last_year(cluster: Cluster, year: EmulationYear) -> CriteriaSet | None:
    previous = db.session.scalar(select(EmulationYear).where(EmulationYear.year == year.year - 1))
    return in_force(db.session, cluster.id, previous.id) if previous else None


def _others(cluster: Cluster, year: EmulationYear) -> list[CriteriaSet]:
    """Published or locked sets of other clusters, this year and last year."""
    found = db.session.scalars(
        select(CriteriaSet)
        .join(EmulationYear, EmulationYear.id == CriteriaSet.year_id)
        .where(
            CriteriaSet.cluster_id.is_not(None),
            CriteriaSet.cluster_id != cluster.id,
            CriteriaSet.status.in_(("published", "locked")),
            EmulationYear.year.in_((year.year, year.year - 1)),
        )
        .options(selectinload(CriteriaSet.cluster), selectinload(CriteriaSet.year))
    )
    return sorted(found, key=lambda s: (-s.year.year, vntext.sort_key(s.title)))


def _templates(cluster: Cluster) -> list[CriteriaSet]:
    found = db.session.scalars(
        select(CriteriaSet).where(
            CriteriaSet.cluster_id.is_(None),
            CriteriaSet.status == "published",
            or_(CriteriaSet.template_kind.is_(None), CriteriaSet.template_kind == cluster.kind),
        )
    )
    return sorted(found, key=lambda s: vntext.sort_key(s.title))


def fill_choices(form, cluster: Cluster, year: EmulationYear) -> None:
    last, others, templates = _last_year(cluster, year), _others(cluster, year), _templates(cluster)
    sources = (
        ["empty"]
        + (["last_year"] if last else [])
        + (["other"] if others else [])
        + (["template"] if templates else [])
    )
    form.source.choices = [(key, SOURCES[key]) for key in sources]
    form.source_set_id.choices = (
        [(0, _("— Chọn bảng nguồn —"))]
        + [
            (s.id, _("%(cluster)s — năm %(year)s: %(title)s", cluster=s.cluster.name, year=s.year.year, title=s.title))
            for s in others
        ]
        + [(s.id, _("Mẫu của tỉnh: %(title)s", title=s.title)) for s in templates]
    )
    form._sources = {"last_year": last, "other": {s.id: s for s in others}, "template": {s.id: s for s in templates}}


def chosen(form, cluster: Cluster, year: EmulationYear) -> CriteriaSet | None:
    """The set to copy, checked against what this cluster may start from."""
    source, allowed = form.source.data, form._sources
    if source == "empty":
        return None
    if source == "last_year":
        return allowed["last_year"]
    picked = allowed.get(source, {}).get(form.source_set_id.data)
    if picked is None:
        raise DomainError(_("Chọn bảng nguồn phù hợp với cách bắt đầu đã chọn."), "source_set_id")
    return picked
