"""Error pages: the whole page for a plain, boosted or history-restore request; the error block alone for an
htmx fragment request; `Vary: HX-Request` on every one, so no cache hands one kind the other's answer."""

import pytest

from tests.signin import sign_in


@pytest.fixture
def member(world, client):
    sign_in(client, world.users["member"].id)
    return world


def _not_found(world) -> str:
    """Another cluster's year: outside the member's scope, it does not exist for them."""
    return f"/clusters/{world.other_cluster.id}?year={world.year.year}"


FORBIDDEN = "/units/"  # the secretariat's list of units: a member sees it exists, and may not open it
CASES = [(404, _not_found, "Không tìm thấy"), (403, lambda world: FORBIDDEN, "Không có quyền")]


@pytest.mark.parametrize(("code", "url", "title"), CASES, ids=["404", "403"])
@pytest.mark.parametrize("kind", ["plain", "boosted", "history_restore"])
def test_the_whole_page_unless_htmx_asks_for_a_fragment(member, client, hx, code, url, title, kind):
    response = client.get(url(member)) if kind == "plain" else getattr(hx, kind)(url(member))
    assert response.status_code == code
    assert "<html" in response.text and title in response.text
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize(("code", "url", "title"), CASES, ids=["404", "403"])
def test_an_htmx_fragment_request_gets_the_error_block_alone(member, hx, code, url, title):
    response = hx.get(url(member))
    assert response.status_code == code
    assert "<html" not in response.text and 'class="alert alert-danger"' in response.text
    assert f"{title} ({code})" in response.text
    assert "HX-Request" in response.headers["Vary"]
