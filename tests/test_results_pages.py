"""The results pages: the ranked table, a unit's explanation, the Excel file and the print page.

Who reads them (policy.sees_results) is tested directly and through the pages; the pages answer the
three kinds of request (full, htmx fragment, history restore); the table sorts server-side; its
query count stays flat as the cluster grows.
"""

from __future__ import annotations

from decimal import Decimal as D
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from portal.charts import Bar, profile_chart
from portal.extensions import db
from portal.models import ScoringRound, Unit, User
from portal.policy import ClusterYear, Principal, sees_results
from portal.services.results import settings as settings_svc
from portal.services.results.inputs import Basis, Settings
from tests.signin import sign_in
from tests.test_results_read import _populate, scenario  # noqa: F401  (a fixture)

HERE = ClusterYear(1, 10)
ELSEWHERE = ClusterYear(1, 20)
PRINCIPALS = {
    "secretariat": Principal("secretariat", user_id=1),
    "overseer": Principal("council", user_id=2, council_member_id=1, oversees=frozenset({HERE})),
    "council": Principal("council", user_id=3, council_member_id=2),
    "head": Principal("unit", 4, 1, memberships=frozenset({HERE}), offices={HERE: "head"}),
    "deputy": Principal("unit", 5, 2, memberships=frozenset({HERE}), offices={HERE: "deputy"}),
    "member": Principal("unit", 6, 3, memberships=frozenset({HERE})),
    "outsider": Principal("unit", 7, 4, memberships=frozenset({ELSEWHERE})),
}
OPEN, CLOSED = "open", "closed"


@pytest.mark.parametrize("role", ["secretariat", "overseer", "council", "head", "deputy"])
def test_leaders_council_and_secretariat_always_read_the_results(role):
    assert sees_results(PRINCIPALS[role], HERE, basis="peer_mean", rounds={})
    assert sees_results(PRINCIPALS[role], HERE, basis="agreed", rounds={"self": OPEN, "peer": OPEN})


@pytest.mark.parametrize(
    "basis, rounds, seen",
    [
        ("agreed", {}, False),
        ("agreed", {"self": OPEN}, False),
        ("agreed", {"self": CLOSED}, True),
        ("agreed", {"self": CLOSED, "verification": OPEN}, False),
        ("agreed", {"self": CLOSED, "verification": CLOSED}, True),
        ("agreed", {"self": CLOSED, "peer": OPEN}, True),  # the peer round does not feed the agreed score
        ("peer_mean", {"self": CLOSED}, False),  # no peer round yet
        ("trimmed_mean", {"self": CLOSED, "peer": OPEN}, False),  # never peer scores before it closes
        ("median", {"self": CLOSED, "peer": CLOSED}, True),
        ("blend", {"self": CLOSED, "peer": CLOSED, "verification": OPEN}, False),
    ],
)
def test_a_member_reads_them_once_the_rounds_feeding_the_basis_are_closed(basis, rounds, seen):
    assert sees_results(PRINCIPALS["member"], HERE, basis=basis, rounds=rounds) is seen


def test_outside_the_cluster_year_nobody_reads_them():
    closed = {"self": CLOSED, "peer": CLOSED}
    assert not sees_results(PRINCIPALS["outsider"], HERE, basis="agreed", rounds=closed)
    assert not sees_results(PRINCIPALS["head"], ELSEWHERE, basis="agreed", rounds=closed)
    assert not sees_results(Principal("anonymous"), HERE, basis="agreed", rounds=closed)


# ---------------------------------------------------------------- the pages


def _url(world, suffix=""):
    return f"/results/{world.cluster.id}/{world.year.year}{suffix}"


def test_the_ranked_table_full_fragment_and_history_restore(client, hx, world, scenario):  # noqa: F811
    sign_in(client, world.users["secretariat"].id)
    full = client.get(_url(world))
    assert full.status_code == 200 and "HX-Request" in full.headers["Vary"]
    page = full.get_data(as_text=True)
    assert "<html" in page and 'id="results-table"' in page
    for unit in (world.head, world.deputy, world.member):
        assert unit.name in page
    assert "Điểm thống nhất (thẩm định, giải trình, chốt điểm)" in page  # the basis in force
    assert "Không đủ điều kiện khen thưởng" in page and "Thanh tra tỉnh" in page  # the deputy's flag
    assert 'aria-sort="ascending"' in page  # ranked by rank
    fragment = hx.get(_url(world, "?sort=unit")).get_data(as_text=True)
    assert "<html" not in fragment and fragment.lstrip().startswith('<div id="results-table"')
    restored = hx.history_restore(_url(world, "?sort=unit")).get_data(as_text=True)
    assert "<html" in restored


def test_the_table_sorts_by_any_column_in_the_url(client, world, scenario):  # noqa: F811
    sign_in(client, world.users["head"].id)
    names = [world.head.name, world.deputy.name, world.member.name]

    def order(query):
        page = client.get(_url(world, query)).get_data(as_text=True)
        body = page[page.index("<tbody>") :]
        return sorted(names, key=body.index)

    by_name = order("?sort=unit&dir=asc")
    assert by_name == sorted(names, key=lambda n: n.casefold())
    assert order("?sort=unit&dir=desc") == by_name[::-1]
    by_total = order("?sort=total&dir=desc")
    assert by_total == order("?sort=rank&dir=asc")
    assert 'aria-sort="descending"' in client.get(_url(world, "?sort=total&dir=desc")).get_data(as_text=True)
    assert client.get(_url(world, "?sort=nonsense")).status_code == 200  # an unknown column: the rank


def test_a_units_explanation_with_its_chart(client, hx, world, scenario):  # noqa: F811
    sign_in(client, world.users["overseer"].id)
    url = _url(world, f"/units/{world.deputy.id}")
    page = client.get(url).get_data(as_text=True)
    assert "<html" in page and 'role="img"' in page and "<title" in page
    assert "Số liệu kho bạc thấp hơn" in page and "Chấp nhận một phần giải trình" in page  # reasons of the changes
    fragment = hx.get(url).get_data(as_text=True)
    assert "<html" not in fragment and 'class="card mb-3 results-unit"' in fragment
    assert "<html" in hx.history_restore(url).get_data(as_text=True)
    assert client.get(_url(world, f"/units/{world.outsider.id}")).status_code == 404  # not of this cluster


def test_a_member_reads_the_results_only_once_the_rounds_are_closed(client, world, scenario):  # noqa: F811
    sign_in(client, world.users["member"].id)
    assert client.get(_url(world)).status_code == 404
    cluster_page = client.get(f"/clusters/{world.cluster.id}?year={world.year.year}").get_data(as_text=True)
    assert f'href="{_url(world)}"' not in cluster_page  # (its "không áp dụng" page stays linked: members read it)
    db.session.execute(update(ScoringRound).values(status="closed"))
    db.session.commit()
    assert client.get(_url(world)).status_code == 200
    assert client.get(_url(world, ".xlsx")).status_code == 200
    assert _url(world) in client.get("/").get_data(as_text=True)  # the link on the unit's home page


def test_the_council_reads_and_the_outsider_gets_404(client, world, scenario):  # noqa: F811
    sign_in(client, world.users["council"].id)
    assert client.get(_url(world)).status_code == 200
    sign_in(client, world.users["outsider"].id)
    assert client.get(_url(world)).status_code == 404
    assert client.get(_url(world, "/print")).status_code == 404


def test_links_from_the_cluster_and_progress_pages(client, world, scenario):  # noqa: F811
    sign_in(client, world.users["head"].id)
    assert _url(world) in client.get(f"/clusters/{world.cluster.id}?year={world.year.year}").get_data(as_text=True)
    assert _url(world) in client.get(f"/scoring/{world.cluster.id}/{world.year.year}").get_data(as_text=True)


def test_excel_reads_back_with_text_never_a_formula(client, world, scenario):  # noqa: F811
    db.session.get(Unit, world.member.id).name = '=HYPERLINK("http://x","y")'
    db.session.commit()
    sign_in(client, world.users["secretariat"].id)
    response = client.get(_url(world, ".xlsx"))
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(BytesIO(response.data)).active
    header = [cell.value for cell in ws[3]]
    assert header[:2] == ["Hạng", "Đơn vị"] and "Tổng điểm" in header and "Lý do không đủ điều kiện" in header
    rows = {row[1].value: row for row in ws.iter_rows(min_row=4)}
    assert set(rows) == {world.head.name, world.deputy.name, '=HYPERLINK("http://x","y")'}
    assert rows['=HYPERLINK("http://x","y")'][1].data_type == "s"
    total = header.index("Tổng điểm")
    assert all(isinstance(row[total].value, int | float) for row in rows.values())


def test_the_print_page(client, world, scenario):  # noqa: F811
    sign_in(client, world.users["deputy"].id)
    page = client.get(_url(world, "/print")).get_data(as_text=True)
    assert "data-print" in page and "print.css" in page and world.head.name in page


def test_no_table_yet_says_so(client, world):
    sign_in(client, world.users["secretariat"].id)
    page = client.get(_url(world)).get_data(as_text=True)
    assert "chưa có bảng tiêu chí" in page


def test_the_settings_in_force_are_shown(client, world, scenario):  # noqa: F811
    settings_svc.save(db.session, scenario["where"], Settings(basis=Basis.PEER_MEAN))
    db.session.commit()
    sign_in(client, world.users["head"].id)
    assert "Trung bình điểm chấm chéo" in client.get(_url(world)).get_data(as_text=True)


def test_query_count_is_flat_in_units_and_reviewers(client, world, count_queries):
    small = [world.head, world.deputy, world.member]
    large = [world.outsider] + [Unit(name=f"UBND xã số {n}") for n in range(7)]
    db.session.add_all(large[1:])
    db.session.flush()
    _populate(world, world.cluster, small)
    _populate(world, world.other_cluster, large)
    sign_in(client, world.users["secretariat"].id)
    counts = {}
    for cluster, units in ((world.cluster, small), (world.other_cluster, large)):
        url = f"/results/{cluster.id}/{world.year.year}"
        client.get(url)  # warm the session's caches
        with count_queries() as n:
            page = client.get(url)
        assert page.status_code == 200 and all(u.name in page.get_data(as_text=True) for u in units)
        counts[len(units)] = n()
    assert counts[3] == counts[8], counts


def test_the_chart_is_accessible_svg():
    svg = profile_chart(
        [Bar("I. <Kinh tế>", D(40), D(50), D(35)), Bar("II. Xã hội", D(60), D(50), D(20))],
        title="Hồ sơ <A>",
        description="Mô tả",
    )
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title" in svg
    assert "&lt;Kinh tế&gt;" in svg and "Hồ sơ &lt;A&gt;" in svg  # text is escaped
    assert svg.count('class="chart-bar"') == 2


def test_the_demo_province_shows_a_ranking(app, runner, client):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    scoring_round = db.session.scalar(select(ScoringRound))
    secretariat = db.session.scalar(select(User).where(User.kind == "secretariat"))
    secretariat.must_change_password = False
    db.session.commit()
    sign_in(client, secretariat.id)
    page = client.get(f"/results/{scoring_round.cluster_id}/{scoring_round.criteria_set.year.year}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert body.count('data-label="Hạng"><strong>1</strong>') == 1  # the two units that handed in lead apart
    assert body.count("<tr") > 3
