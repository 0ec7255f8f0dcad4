"""Ids inside forms never reach another cluster's or unit's data (ids in URLs: test_authz_matrix)."""

from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Criterion, Pledge, PledgeSignature, TargetRegistration
from portal.services.criteria import sets as criteria_svc
from portal.services.org import cluster_year
from portal.services.pledges import agreements as pledges
from tests import factories


@pytest.fixture
def two_clusters(world):
    """The world's cluster and the other block, each with a published table and a pledge."""
    mine = factories.criteria_set(world)
    for unit in (factories.unit("Sở Tài chính"),):
        cluster_year.add_membership(db.session, world.year, world.other_cluster, unit)
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
            "signed_on": factories.vn_format(factories.past_date(3)),
            "unit_id": world.head.id,
        },
    )
    assert db.session.scalars(select(PledgeSignature.unit_id)).all() == [world.member.id]
    assert (
        client.post(
            f"/pledges/{two_clusters['their_pledge'].id}/sign",
            data={
                "representative_name": "X",
                "representative_position": "Y",
                "signed_on": factories.vn_format(factories.past_date(3)),
            },
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
        signed_on=factories.past_date(3),
        user_id=None,
    )
    db.session.commit()
    auth.login("head")
    assert client.post(f"/pledges/signatures/{signature.id}/confirm").status_code == 404
    assert db.session.get(PledgeSignature, signature.id).confirmed_at is None


@pytest.fixture
def scored(world):
    """The cluster's locked table, the self round open; the deputy has handed in, the member not yet."""
    from portal.models import Assessment
    from portal.services.scoring import assessments

    cset, items = factories.scoring_table(world)
    assessments.open_self_round(db.session, cset)
    own = {a.subject_unit_id: a for a in db.session.scalars(select(Assessment))}
    for key, raw in (("quant", "200"), ("direct", "30"), ("pass", "dat"), ("bonus", "0"), ("minus", "0")):
        assessments.save_score(
            db.session, own[world.deputy.id], items[key], raw, "", expected_revision=None, user_id=None
        )
    assessments.submit(db.session, own[world.deputy.id], None)
    db.session.commit()
    return {"items": items, "deputy": own[world.deputy.id], "member": own[world.member.id]}


def test_a_unit_never_writes_another_units_assessment(world, scored, auth, client, hx):
    from portal.models import Evidence, Score

    deputy, direct = scored["deputy"], scored["items"]["direct"]
    before = db.session.scalar(
        select(Score.value).where(Score.assessment_id == deputy.id, Score.criterion_id == direct.id)
    )
    auth.login("member")
    assert client.get(f"/scoring/assessments/{deputy.id}").status_code == 200  # submitted: readable in the cluster
    for url, data in (
        (f"/scoring/assessments/{deputy.id}/scores/{direct.id}", {"value": "1", "revision": "1"}),
        (f"/scoring/assessments/{deputy.id}/submit", {}),
        (f"/evidence/assessments/{deputy.id}/criteria/{direct.id}", {}),
        (f"/scoring/assessments/{deputy.id}/import", {}),
    ):
        assert hx.post(url, data=data).status_code == 403, url
    after = db.session.scalar(
        select(Score.value).where(Score.assessment_id == deputy.id, Score.criterion_id == direct.id)
    )
    assert after == before and db.session.scalar(select(func.count(Evidence.id))) == 0


def test_another_cluster_never_sees_a_submitted_assessment(world, scored, auth, client):
    auth.login("outsider")
    for url in (
        f"/scoring/assessments/{scored['deputy'].id}",
        f"/scoring/assessments/{scored['deputy'].id}/export.xlsx",
        f"/scoring/{world.cluster.id}/2026",
    ):
        assert client.get(url).status_code == 404, url
