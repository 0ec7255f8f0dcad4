"""`flask seed-demo`: the demo province seeds, and its open self round shows on the scoring pages."""

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Assessment, Cluster, CriteriaSet, EmulationYear, ScoringRound, Term, User
from portal.services.demo.world import DEMO_PASSWORD
from portal.services.platform.principals import principal_for
from tests.signin import sign_in


def test_seed_demo_opens_a_self_round_with_work_in_progress(app, runner, client):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    scoring_round = db.session.scalar(select(ScoringRound))
    assert scoring_round.kind == "self" and scoring_round.criteria_set.status == "locked"
    statuses = dict(db.session.execute(select(Assessment.status, func.count()).group_by(Assessment.status)).all())
    assert statuses["submitted"] == 2 and statuses["draft"] >= 3
    cluster = db.session.get(Cluster, scoring_round.cluster_id)
    secretariat = db.session.scalar(select(User).where(User.kind == "secretariat"))
    sign_in(client, secretariat.id)
    secretariat.must_change_password = False
    db.session.commit()
    page = client.get(f"/scoring/{cluster.id}/{scoring_round.criteria_set.year.year}")
    assert page.status_code == 200 and "2/" in page.text and "đơn vị đã nộp bản tự chấm" in page.text


def _logins_table(output: str) -> dict[str, str]:
    """The role → username lines that `seed-demo` and `demo-logins` print ("  role  username  who")."""
    rows = {}
    for line in output.splitlines():
        if line.startswith("  ") and " | " in line:
            role, username, _who = (cell.strip() for cell in line.split(" | ", 2))
            rows[role] = username
    return rows


def test_seed_demo_prints_the_logins_per_role_again_on_a_second_start(app, runner):
    first = runner.invoke(args=["seed-demo", "--if-empty"])
    second = runner.invoke(args=["seed-demo", "--if-empty"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "bỏ qua" in second.output  # nothing seeded twice …
    assert _logins_table(second.output) == _logins_table(first.output)  # … and the same logins shown
    assert len(_logins_table(second.output)) == 6 and "ThiDua@2026" in second.output


def _current_term_of(user: User) -> tuple[Term, str | None]:
    """The current year's term of the user's cluster, and the user's office in it (None for a plain member)."""
    principal = principal_for(db.session, user)
    year = db.session.scalar(select(EmulationYear).where(EmulationYear.is_current))
    (cluster_year,) = [cy for cy in principal.memberships if cy.year_id == year.id]
    term = db.session.scalar(select(Term).where(Term.year_id == year.id, Term.cluster_id == cluster_year.cluster_id))
    return term, principal.offices.get(cluster_year)


def _has_table(term: Term) -> bool:
    return (
        db.session.scalar(
            select(func.count()).where(CriteriaSet.cluster_id == term.cluster_id, CriteriaSet.year_id == term.year_id)
        )
        > 0
    )


def test_demo_logins_give_one_working_account_for_each_role(app, runner, auth):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    result = runner.invoke(args=["demo-logins"])
    assert result.exit_code == 0, result.output
    logins = _logins_table(result.output)
    assert list(logins) == [
        "Ban TĐ-KT",
        "Thành viên Hội đồng",
        "Trưởng, có bảng tiêu chí",
        "Phó",
        "Đơn vị thành viên",
        "Trưởng, chưa có bảng tiêu chí",
    ]
    users = {role: db.session.scalar(select(User).where(User.username == name)) for role, name in logins.items()}
    assert users["Ban TĐ-KT"].kind == "secretariat"
    head, office = _current_term_of(users["Trưởng, có bảng tiêu chí"])
    assert office == "head" and _has_table(head)
    assert principal_for(db.session, users["Thành viên Hội đồng"]).oversees >= {(head.year_id, head.cluster_id)}
    assert _current_term_of(users["Phó"]) == (head, "deputy")
    assert _current_term_of(users["Đơn vị thành viên"]) == (head, None)
    bare, office = _current_term_of(users["Trưởng, chưa có bảng tiêu chí"])
    assert office == "head" and not _has_table(bare) and bare.has_decision
    for username in logins.values():  # each one signs in with the shared password printed above
        assert auth.login(username, DEMO_PASSWORD).status_code in (302, 303), username
        auth.logout()


def test_demo_logins_say_when_a_password_was_changed_and_when_there_is_nothing(app, runner):
    empty = runner.invoke(args=["demo-logins"])
    assert empty.exit_code == 0 and "Không tìm thấy tài khoản mẫu" in empty.output
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    user = db.session.scalar(select(User).where(User.username == "secretariat"))
    user.set_password("Một mật khẩu khác 2026")
    db.session.commit()
    lines = [line for line in runner.invoke(args=["demo-logins"]).output.splitlines() if "| secretariat " in line]
    assert len(lines) == 1 and "đã đổi mật khẩu" in lines[0]


def test_the_demo_self_round_closes_two_weeks_after_the_vietnam_day(app, runner):
    """Seeded at 01:30 in Vietnam (the UTC date still yesterday): the deadline counts from the Vietnam day."""
    from datetime import datetime, time, timedelta

    import time_machine

    from portal.formatting import VN_TZ, vn_end_of_day
    from tests import factories

    early = datetime.combine(factories.future_date(1), time(1, 30), tzinfo=VN_TZ)
    with time_machine.travel(early, tick=False):
        result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(ScoringRound.deadline)) == vn_end_of_day(early.date() + timedelta(days=14))


def test_seed_demo_gives_the_first_cluster_its_quotas_carried_into_the_current_year(app, runner):
    from portal.models import Quota
    from portal.services.meetings import awards

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    current = db.session.scalar(select(EmulationYear).where(EmulationYear.is_current.is_(True)))
    first = db.session.scalar(select(Cluster).where(Cluster.code == "K01"))
    kinds = {a.code: a for a in awards.award_types(db.session)}
    rows = {
        q.award_type_id: q.count
        for q in db.session.scalars(select(Quota).where(Quota.year_id == current.id, Quota.cluster_id == first.id))
    }
    assert rows[kinds["bang_khen_toan_dien"].id] == 3 and rows[kinds["co_thi_dua"].id] == 1
