"""Ids inside forms never reach another cluster's or unit's data (ids in URLs: test_authz_matrix)."""

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Criterion, Pledge, PledgeSignature, TargetRegistration
from portal.services import criteria as criteria_svc
from portal.services import pledges, years
from tests import factories


@pytest.fixture
def two_clusters(world):
    """The world's cluster and the other block, each with a published table and a pledge."""
    mine = factories.criteria_set(world)
    for unit in (factories.unit("Sở Tài chính"),):
        years.add_membership(db.session, world.year, world.other_cluster, unit)
    theirs = criteria_svc.create_set(db.session, world.other_cluster, world.year, title="Bảng khối", target_total=D(10))
    section = criteria_svc.add_criterion(db.session, theirs, None, code="I", title="Phần của khối")
    foreign = criteria_svc.add_criterion(
        db.session, theirs, section, code="1", title="Định lượng của khối", method="quantitative", max_points=D(10)
    )
    criteria_svc.publish(db.session, theirs)
    my_pledge = pledges.create(db.session, world.cluster, world.year)
    their_pledge = pledges.create(db.session, world.other_cluster, world.year)
    db.session.commit()
    return {
        "mine": mine,
        "theirs": theirs,
        "section": section,
        "foreign": foreign,
        "my_pledge": my_pledge,
        "their_pledge": their_pledge,
    }


def test_a_parent_from_another_table_is_not_found(world, two_clusters, auth, client):
    auth.login("head")
    before = db.session.scalar(select(func.count()).select_from(Criterion))
    response = client.post(
        f"/criteria/sets/{two_clusters['mine'].id}/items",
        data={
            "parent_id": two_clusters["section"].id,
            "code": "9",
            "title": "Cài vào bảng khác",
            "kind": "scored",
            "method": "direct",
            "max_points": "1",
        },
    )
    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Criterion)) == before


def test_the_pledge_cannot_bind_another_clusters_table(world, two_clusters, auth, client):
    auth.login("head")
    pledge = two_clusters["my_pledge"]
    response = client.post(
        f"/pledges/{pledge.id}/edit",
        data={"title": "Giao ước", "commitments": "Một", "criteria_set_id": two_clusters["theirs"].id},
    )
    assert response.status_code == 422 and "không thuộc cụm, khối" in response.text
    assert db.session.get(Pledge, pledge.id).criteria_set_id == two_clusters["mine"].id


def test_a_member_registers_targets_only_for_itself_and_its_cluster(world, two_clusters, auth, client, hx):
    auth.login("member")
    foreign = two_clusters["foreign"]
    assert hx.post(f"/pledges/targets/{foreign.id}", data={f"c{foreign.id}-target": "5"}).status_code == 404
    own = pledges.quantitative_items(db.session, two_clusters["mine"])[0]
    # a unit_id smuggled into the form is ignored: the target is the signed-in unit's
    hx.post(f"/pledges/targets/{own.id}", data={f"c{own.id}-target": "7", "unit_id": world.head.id})
    rows = db.session.execute(select(TargetRegistration.unit_id, TargetRegistration.target)).all()
    assert rows == [(world.member.id, D(7))]


def test_a_member_signs_only_for_its_own_unit(world, two_clusters, auth, client):
    auth.login("member")
    client.post(
        f"/pledges/{two_clusters['my_pledge'].id}/sign",
        data={
            "representative_name": "Nguyễn Văn An",
            "representative_position": "Chủ tịch",
            "signed_on": "15/01/2026",
            "unit_id": world.head.id,
        },
    )
    assert db.session.scalars(select(PledgeSignature.unit_id)).all() == [world.member.id]
    assert (
        client.post(
            f"/pledges/{two_clusters['their_pledge'].id}/sign",
            data={"representative_name": "X", "representative_position": "Y", "signed_on": "15/01/2026"},
        ).status_code
        == 404
    )


def test_another_clusters_signature_cannot_be_confirmed(world, two_clusters, auth, client):
    outsider_unit = world.outsider
    signature = pledges.sign(
        db.session,
        two_clusters["their_pledge"],
        outsider_unit,
        representative_name="A",
        representative_position="B",
        signed_on=date(2026, 1, 15),
        user_id=None,
    )
    db.session.commit()
    auth.login("head")
    assert client.post(f"/pledges/signatures/{signature.id}/confirm").status_code == 404
    assert db.session.get(PledgeSignature, signature.id).confirmed_at is None
