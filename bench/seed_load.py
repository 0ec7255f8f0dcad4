"""Seed a fresh, migrated database for the load and kill scenarios, through the portal's own services.

One emulation year; C clusters of U member units, each unit with one user (known password, no
forced change); per cluster a locked criteria table of K leaf criteria, 10 points each, every fifth
one quantitative (the others direct, step 0,25), with targets registered by every unit but every
seventh (which is then compared by its actual result alone); the self round open without deadline.
With --scored every unit's draft is also filled in completely (the kill scenario submits them); with
--council a council member's account `load-council` (same password) who may read the council's dashboard.

    python -m bench.seed_load --database-url postgresql://… --manifest out.json [--clusters 2 --units 25 --criteria 20]

Writes a JSON manifest: the password, and per unit its user, assessment and cluster; per cluster its criteria.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

PASSWORD = "Tai-thu-2026!"
MAX_POINTS = Decimal(10)


def is_quantitative(position: int) -> bool:
    return position % 5 == 1  # 1, 6, 11, 16 …: a few per table


def target_for(unit_index: int, position: int) -> Decimal | None:
    if unit_index % 7 == 6:
        return None  # no registered target: compared by the actual result among such units
    return Decimal(100 + 7 * unit_index + 3 * position)


def scored_value(unit_index: int, position: int, method: str) -> str:
    """The value a fully scored draft carries (Vietnamese writing, as typed)."""
    if method == "quantitative":
        base = target_for(unit_index, position) or Decimal(150)
        return str((base * Decimal(80 + (unit_index * 7 + position) % 50) / 100).quantize(Decimal("0.1"))).replace(
            ".", ","
        )
    return str(Decimal((unit_index * position) % 41) * Decimal("0.25")).replace(".", ",")


def seed(session, clusters: int, units: int, criteria: int, scored: bool, council: bool = False) -> dict:
    from portal.models import CouncilMember, User
    from portal.services.criteria import sets as criteria_svc
    from portal.services.org import cluster_year, years
    from portal.services.org import structure as org
    from portal.services.platform.audit import Actor, acting_as
    from portal.services.pledges import agreements as pledges
    from portal.services.scoring import assessments

    year = years.create_year(session, 2026, note="Dữ liệu thử tải")
    years.set_current(session, year)
    password_hash = None
    manifest: dict = {"password": PASSWORD, "year": 2026, "clusters": [], "units": []}
    for c in range(1, clusters + 1):
        cluster = org.save_cluster(session, None, kind="cluster", code=f"TT{c:02d}", name=f"Cụm thi đua thử tải {c}")
        members = []
        for u in range(1, units + 1):
            unit = org.save_unit(session, None, name=f"Đơn vị thử tải {c:02d}.{u:03d}", short_name=f"TT{c}-{u}")
            cluster_year.add_membership(session, year, cluster, unit)
            user = User(
                username=f"load-c{c:02d}-u{u:03d}",
                full_name=f"Cán bộ đơn vị {c:02d}.{u:03d}",
                kind="unit",
                unit=unit,
                must_change_password=False,
            )
            if password_hash is None:  # scrypt is slow on purpose: hash once, share it
                user.set_password(PASSWORD)
                password_hash = user.password_hash
            user.password_hash = password_hash
            session.add(user)
            members.append((unit, user))
        session.flush()
        term = cluster_year.ensure_term(session, year, cluster)
        cluster_year.assign_term(
            session,
            term,
            head_id=members[0][0].id,
            deputy_ids=[members[1][0].id] if len(members) > 1 else [],
            overseer_id=None,
            decision_number=f"{c}/QĐ-HĐTĐKT",
            decision_date=date(2026, 1, 15),
            decision_issuer="Hội đồng TĐ-KT tỉnh",
        )
        cset = criteria_svc.create_set(
            session, cluster, year, title="Bảng tiêu chí thử tải 2026", target_total=MAX_POINTS * criteria
        )
        section = criteria_svc.add_criterion(session, cset, None, code="I", title="Nhiệm vụ trọng tâm")
        leaves = []
        for k in range(1, criteria + 1):
            quantitative = is_quantitative(k)
            leaves.append(
                criteria_svc.add_criterion(
                    session,
                    cset,
                    section,
                    code=str(k),
                    title=f"Chỉ tiêu số {k}" if quantitative else f"Nhiệm vụ số {k}",
                    method="quantitative" if quantitative else "direct",
                    max_points=MAX_POINTS,
                    measure_unit="tỷ đồng" if quantitative else "",
                )
            )
        criteria_svc.publish(session, cset)
        for index, (unit, _user) in enumerate(members):
            for k, leaf in enumerate(leaves, start=1):
                target = target_for(index, k)
                if leaf.method == "quantitative" and target is not None:
                    pledges.register_target(session, cset, unit, leaf, target)
        criteria_svc.lock(session, cset)
        scoring_round = assessments.open_self_round(session, cset)
        by_unit = {a.subject_unit_id: a for a in _assessments(session, scoring_round.id)}
        if scored:
            for index, (unit, user) in enumerate(members):
                with acting_as(Actor(user.id, user.username)):
                    for k, leaf in enumerate(leaves, start=1):
                        assessments.save_score(
                            session,
                            by_unit[unit.id],
                            leaf,
                            scored_value(index, k, leaf.method),
                            "Đã thực hiện",
                            expected_revision=None,
                            user_id=user.id,
                        )
        manifest["clusters"].append(
            {
                "id": cluster.id,
                "round_id": scoring_round.id,
                "criteria": [
                    {"id": leaf.id, "position": k, "method": leaf.method, "max_points": str(leaf.max_points)}
                    for k, leaf in enumerate(leaves, start=1)
                ],
            }
        )
        for index, (unit, user) in enumerate(members):
            manifest["units"].append(
                {
                    "index": index,
                    "cluster_id": cluster.id,
                    "unit_id": unit.id,
                    "user_id": user.id,
                    "username": user.username,
                    "assessment_id": by_unit[unit.id].id,
                    "targets": {
                        str(leaf.id): str(target_for(index, k))
                        for k, leaf in enumerate(leaves, start=1)
                        if leaf.method == "quantitative" and target_for(index, k) is not None
                    },
                }
            )
    if council:
        member = CouncilMember(full_name="Nguyễn Văn Thử Tải")
        user = User(
            username="load-council",
            full_name=member.full_name,
            kind="council",
            council_member=member,
            must_change_password=False,
            password_hash=password_hash,
        )
        session.add_all([member, user])
        session.flush()
        manifest["council"] = user.username
    return manifest


def _assessments(session, round_id: int):
    from sqlalchemy import select

    from portal.models import Assessment

    return session.scalars(select(Assessment).where(Assessment.round_id == round_id))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--manifest", required=True, type=Path)
    parser.add_argument("--clusters", type=int, default=2)
    parser.add_argument("--units", type=int, default=25)
    parser.add_argument("--criteria", type=int, default=20)
    parser.add_argument("--scored", action="store_true", help="fill in every unit's draft completely")
    parser.add_argument("--council", action="store_true", help="also a council member's account, load-council")
    options = parser.parse_args(argv)
    if options.units < 1 or options.clusters < 1 or options.criteria < 1:
        parser.error("clusters, units and criteria must be at least 1")

    os.environ.pop("FLASK_CONFIG", None)
    from config import normalise_database_url
    from portal import create_app
    from portal.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(options.database_url)})
    with app.app_context():
        manifest = seed(db.session, options.clusters, options.units, options.criteria, options.scored, options.council)
        db.session.commit()
    options.manifest.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
