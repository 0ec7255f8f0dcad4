"""Issue 18, goal 4: the SQL statements of every page of the results, the meeting and the council's drill-down
(a cluster-year, a unit's years) are the same in number at a small cluster-year (3 units) and a larger one (8
units, all-pairs peer review, every stage scored), and the year-wide pages (bands, eligibility, quotas) the
same with one cluster-year populated or two.

One test per page, all through the same helper, read by the secretariat; the pages' own test files keep their
finer checks (the results settings page, for its cluster's head only, is not here).
"""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.models import Unit
from portal.services.org import cluster_year
from tests import factories
from tests.signin import sign_in
from tests.test_results_read import _populate

CLUSTER_PAGES = {
    "results": "/results/{cluster}/{year}",
    "results_print": "/results/{cluster}/{year}/print",
    "results_unit": "/results/{cluster}/{year}/units/{unit}",
    "results_excel": "/results/{cluster}/{year}.xlsx",
    "results_not_applicable": "/results/{cluster}/not-applicable?year={year}",
    "meeting": "/meetings/{cluster}/{year}",
    "dashboard_cluster": "/dashboard/clusters/{cluster}/{year}",
    "dashboard_unit": "/dashboard/units/{unit}",
}
YEAR_PAGES = {
    "results_bands": "/results/bands/{year}",
    "results_eligibility": "/results/eligibility/{year}",
    "meeting_quotas": "/meetings/quotas/{year}",
}


def _count(client, count_queries, url: str, expected: list[str]) -> int:
    client.get(url)  # warm the session's caches and first-request work
    with count_queries() as n:
        page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    if page.mimetype == "text/html":
        text = page.get_data(as_text=True)
        assert all(name in text for name in expected), url
    return n()


@pytest.fixture
def sizes(world):
    """The small cluster-year (world.cluster, 3 units) populated; a function populating the large one
    (world.other_cluster, 8 units) and returning both unit lists."""
    small = [world.head, world.deputy, world.member]
    _populate(world, world.cluster, small)
    db.session.commit()

    def grow():
        large = [world.outsider] + [Unit(name=f"UBND xã số {n}") for n in range(7)]
        db.session.add_all(large[1:])
        db.session.flush()
        _populate(world, world.other_cluster, large)
        db.session.commit()
        return small, large

    return grow


@pytest.mark.parametrize("page", sorted(CLUSTER_PAGES))
def test_a_cluster_years_page_reads_as_many_statements_at_3_units_as_at_8(client, world, sizes, count_queries, page):
    sign_in(client, world.users["secretariat"].id)
    small, large = sizes()
    counts = []
    for cluster, units in ((world.cluster, small), (world.other_cluster, large)):
        url = CLUSTER_PAGES[page].format(cluster=cluster.id, year=world.year.year, unit=units[1].id)
        names = [u.name for u in units] if page in ("results", "results_print") else []
        counts.append(_count(client, count_queries, url, names))
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("page", sorted(YEAR_PAGES))
def test_a_year_wide_page_reads_as_many_statements_with_one_cluster_year_as_with_two(
    client, world, sizes, count_queries, page
):
    sign_in(client, world.users["secretariat"].id)
    url = YEAR_PAGES[page].format(year=world.year.year)
    before = _count(client, count_queries, url, [])
    sizes()
    assert _count(client, count_queries, url, []) == before


def test_the_published_results_read_as_many_statements_at_3_units_as_at_8(client, world, count_queries):
    """The published page reads its stored snapshot: its statements do not grow with the cluster's members."""
    from dataclasses import replace

    from tests.publication_helpers import published

    published(world)
    larger = factories.cluster("Cụm thi đua số 2")
    units = [factories.unit(f"UBND xã Mới {n}") for n in range(3)]
    for unit in units:
        cluster_year.add_membership(db.session, world.year, larger, unit)
    head, deputy, member = units
    published(replace(world, cluster=larger, head=head, deputy=deputy, member=member), extra=5)
    sign_in(client, world.users["secretariat"].id)
    counts = []
    for cluster, size in ((world.cluster, 3), (larger, 8)):
        members = cluster_year.member_ids(db.session, world.year.id, cluster.id)
        names = [db.session.get(Unit, unit_id).name for unit_id in members]
        assert len(names) == size
        counts.append(_count(client, count_queries, f"/publication/{cluster.id}/{world.year.year}", names))
    assert counts[0] == counts[1], counts
