"""In the browser: a unit's user sees its own cluster and role; another cluster does not exist for it."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser import sign_out

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def province(seed):
    def build():
        world = factories.world()
        return {
            "cluster_id": world.cluster.id,
            "cluster": world.cluster.name,
            "head": world.head.name,
            "other_cluster": world.other_cluster.name,
        }

    return seed(build)


def test_head_sees_its_cluster_on_home(page, sign_in, province, page_problems):
    sign_in("head")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{province['head']} — năm 2026")
    card = page.locator(".card").filter(has=page.get_by_role("link", name=province["cluster"]))
    expect(card.locator(".badge.text-bg-primary")).to_have_text("Trưởng cụm")
    expect(page.locator(".alert").filter(has_text="Đơn vị là Trưởng cụm năm 2026")).to_be_visible()
    card.get_by_role("link", name=province["cluster"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(province["cluster"])

    sign_out(page)
    expect(page).to_have_url(re.compile(r"/login$"))

    sign_in("outsider")
    expect(page.get_by_role("link", name=province["other_cluster"])).to_be_visible()
    expect(page.get_by_text(province["cluster"])).to_have_count(0)
    cluster_path = f"/clusters/{province['cluster_id']}"
    page_problems.expect(404, cluster_path)
    response = page.goto(f"{cluster_path}?year=2026")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Không tìm thấy (404)")
    expect(page.get_by_text(province["cluster"])).to_have_count(0)
