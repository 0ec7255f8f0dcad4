"""Rows as JSON: ISO 8601 dates and times (UTC, with Z), Decimal numbers as strings ("12.50") to stay exact."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from portal.models import Assessment, Cluster, CouncilMember, CriteriaSet, EmulationYear, Score, Unit
from portal.services.criteria.tree import Tree

CENT = Decimal("0.01")


def when(value: datetime | None) -> str | None:
    """Stored timestamps are naive UTC."""
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


def day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def points(value: Decimal | None) -> str | None:
    """Points always with two decimals: "12.50"."""
    return None if value is None else str(Decimal(value).quantize(CENT))


def number(value: Decimal | None) -> str | None:
    """A reported value without trailing zeros: "12.5", "1000"."""
    if value is None:
        return None
    text = format(Decimal(value).normalize(), "f")
    return "0" if text in ("-0", "") else text


def unit(u: Unit) -> dict:
    return {
        "id": u.id,
        "name": u.name,
        "short_name": u.short_name,
        "sector": u.sector,
        "address": u.address,
        "active": u.active,
        "retired_on": day(u.retired_on),
        "merged_into_id": u.merged_into_id,
    }


def cluster(c: Cluster) -> dict:
    return {
        "id": c.id,
        "kind": c.kind,
        "code": c.code,
        "name": c.name,
        "description": c.description,
        "active": c.active,
    }


def year(y: EmulationYear) -> dict:
    return {"id": y.id, "year": y.year, "is_current": y.is_current}


def overseer(member: CouncilMember | None) -> dict | None:
    if member is None:
        return None
    return {"id": member.id, "full_name": member.full_name, "position": member.position}


def criteria_set(cset: CriteriaSet, year_number: int | None) -> dict:
    """`year_number`: the set's year (None for a province template), passed in so lists load no year rows."""
    return {
        "id": cset.id,
        "cluster_id": cset.cluster_id,
        "year": year_number,
        "version": cset.version,
        "title": cset.title,
        "status": cset.status,
        "target_total": points(cset.target_total),
        "score_step": points(cset.score_step),
        "deduction_capped": cset.deduction_capped,
        "version_reason": cset.version_reason,
        "published_at": when(cset.published_at),
        "locked_at": when(cset.locked_at),
    }


def criteria_tree(tree: Tree) -> list[dict]:
    def node(n) -> dict:
        kids = tree.kids(n)
        return {
            "id": n.id,
            "code": n.code,
            "title": n.title,
            "guidance": n.guidance,
            "kind": n.kind,
            "method": None if kids else n.method,
            "max_points": points(tree.maxima[n.id]),
            "points_each": points(n.points_each) if not kids else None,
            "measure_unit": n.measure_unit,
            "evidence_required": n.evidence_required,
            "children": [node(k) for k in kids],
        }

    return [node(root) for root in tree.roots]


def assessment(a: Assessment, scoring_round) -> dict:
    return {
        "id": a.id,
        "round_id": a.round_id,
        "round_kind": scoring_round.kind,
        "cluster_id": scoring_round.cluster_id,
        "criteria_set_id": a.criteria_set_id,
        "subject_unit_id": a.subject_unit_id,
        "author_unit_id": a.author_unit_id,
        "stage": a.stage,
        "status": a.status,
        "submitted_at": when(a.submitted_at),
    }


def score(criterion, path: str, row: Score | None) -> dict:
    return {
        "criterion_id": criterion.id,
        "code": path,
        "title": criterion.title,
        "kind": criterion.kind,
        "method": criterion.method,
        "max_points": points(criterion.max_points),
        "value": number(row.value) if row else None,
        "points": points(row.points) if row else None,
        "note": row.note if row else "",
        "revision": row.revision if row else None,
        "updated_at": when(row.updated_at) if row else None,
    }
