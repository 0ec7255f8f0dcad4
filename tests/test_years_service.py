"""Rotation proposals and starting the next year, on the services directly."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from portal.extensions import db
from portal.models import Membership, Term
from portal.services import DomainError
from portal.services.org import cluster_year, next_year, years
from portal.services.org import structure as org
from tests import factories


@given(st.lists(st.integers(1, 10_000), min_size=1, max_size=20, unique=True), st.data(), st.integers(0, 4))
def test_rotation_proposal_properties(order, data, deputies):
    head = data.draw(st.one_of(st.none(), st.sampled_from(order), st.integers(20_000, 30_000)))
    new_head, new_deputies = next_year.propose_rotation(order, head, deputies)
    assert new_head in order
    assert new_head not in new_deputies
    assert len(set(new_deputies)) == len(new_deputies) == min(deputies, len(order) - 1)
    assert set(new_deputies) <= set(order)
    if head in order and len(order) > 1:
        assert new_head == order[(order.index(head) + 1) % len(order)]  # the next in rotation takes the chair
    if head not in order:
        assert new_head == order[0]


def test_rotation_of_an_empty_cluster():
    assert next_year.propose_rotation([], 5, 2) == (None, [])


def _cluster_with(y, names):
    cluster = factories.cluster()
    units = [factories.unit(n) for n in names]
    for unit in units:
        cluster_year.add_membership(db.session, y, cluster, unit)
    return cluster, units


def test_start_next_year_copies_members_and_proposes_rotation(app):
    y = factories.year(2025)
    overseer = factories.council_member()
    cluster, (a, b, c, d) = _cluster_with(y, ["Xã A", "Xã B", "Xã C", "Xã D"])
    term = cluster_year.ensure_term(db.session, y, cluster)
    cluster_year.assign_term(
        db.session,
        term,
        head_id=b.id,
        deputy_ids=[c.id],
        overseer_id=overseer.id,
        decision_number="5/QĐ",
        decision_date=date(2025, 1, 10),
        decision_issuer="UBND tỉnh",
    )
    org.merge_units(db.session, [c], a, date(2025, 7, 1))  # C merged into A
    org.retire_unit(db.session, d, date(2025, 7, 1))  # D dissolved
    db.session.commit()

    nxt = next_year.start_next_year(db.session, y)
    db.session.commit()
    assert nxt.year == 2026
    assert cluster_year.member_ids(db.session, nxt.id, cluster.id) == [a.id, b.id]
    new_term = db.session.scalar(select(Term).where(Term.year_id == nxt.id, Term.cluster_id == cluster.id))
    assert new_term.proposed_by_rotation and not new_term.decision_number
    assert new_term.head_unit.id == a.id  # after B comes (C, now merged into) A, then wraps
    assert [u.id for u in new_term.deputies] == [b.id]
    assert new_term.overseer_id == overseer.id and new_term.decision_issuer == "UBND tỉnh"
    # the past year is untouched
    assert cluster_year.member_ids(db.session, y.id, cluster.id) == [a.id, b.id, c.id, d.id]


def test_start_next_year_refuses_an_existing_year(app):
    y = factories.year(2025)
    factories.year(2026, current=False)
    with pytest.raises(DomainError, match="Năm thi đua 2026 đã có."):
        next_year.start_next_year(db.session, y)


def test_one_current_year(app):
    a, b = factories.year(2025), factories.year(2026)
    years.set_current(db.session, a)
    years.set_current(db.session, b)
    db.session.commit()
    db.session.refresh(a)
    assert (a.is_current, b.is_current) == (False, True)


def test_retired_unit_cannot_join(app):
    y = factories.year(2026)
    cluster, unit = factories.cluster(), factories.unit("Xã cũ")
    org.retire_unit(db.session, unit, date(2025, 7, 1))
    with pytest.raises(DomainError, match="đã ngừng hoạt động"):
        cluster_year.add_membership(db.session, y, cluster, unit)
    assert db.session.scalars(select(Membership)).all() == []
