"""`flask seed-demo`: the demo province seeds, and its open self round shows on the scoring pages."""

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Assessment, Cluster, ScoringRound, User


def test_seed_demo_opens_a_self_round_with_work_in_progress(app, runner, client):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    scoring_round = db.session.scalar(select(ScoringRound))
    assert scoring_round.kind == "self" and scoring_round.criteria_set.status == "locked"
    statuses = dict(db.session.execute(select(Assessment.status, func.count()).group_by(Assessment.status)).all())
    assert statuses["submitted"] == 2 and statuses["draft"] >= 3
    cluster = db.session.get(Cluster, scoring_round.cluster_id)
    secretariat = db.session.scalar(select(User).where(User.kind == "secretariat"))
    with client.session_transaction() as session:
        session["_user_id"] = str(secretariat.id)
        session["_fresh"] = True
    secretariat.must_change_password = False
    db.session.commit()
    page = client.get(f"/scoring/{cluster.id}/{scoring_round.criteria_set.year.year}")
    assert page.status_code == 200 and "2/" in page.text and "đơn vị đã nộp bản tự chấm" in page.text
