"""In the browser: the head finds the meeting's documents on the meeting page at phone and desktop width
(nothing scrolls sideways), downloads the minutes through its link and reads it back; a member sees no link
while the meeting is open."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document
from playwright.sync_api import expect

from tests import factories
from tests.document_helpers import voted

pytestmark = pytest.mark.browser

WIDTHS = ({"width": 375, "height": 800}, {"width": 1280, "height": 900})


@pytest.fixture(scope="module")
def meeting(seed):
    def build():
        world = factories.world()
        voted(world)
        return {"cluster": world.cluster.id, "year": world.year.year, "deputy": world.deputy.name}

    return seed(build)


def _fits(page) -> None:
    width, scroll = page.evaluate("[window.innerWidth, document.scrollingElement.scrollWidth]")
    assert scroll <= width + 1, f"{page.url} scrolls sideways: content {scroll}px wide in a {width}px viewport"


def test_the_head_downloads_the_minutes_from_the_meeting_page(page, sign_in, meeting, tmp_path: Path):
    sign_in("head")
    page.goto(f"/meetings/{meeting['cluster']}/{meeting['year']}")
    card = page.locator("#meeting-documents")
    expect(card.get_by_role("link", name="Biên bản họp bình xét thi đua (.docx)")).to_be_visible()
    expect(card.get_by_role("link", name=f"Báo cáo thành tích: {meeting['deputy']} (.docx)")).to_be_visible()
    for size in WIDTHS:
        page.set_viewport_size(size)
        expect(card).to_be_visible()
        _fits(page)
    with page.expect_download() as info:
        card.get_by_role("link", name="Biên bản họp bình xét thi đua (.docx)").click()
    download = info.value
    assert download.suggested_filename.startswith("bien-ban-hop-binh-xet-")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    texts = [p.text for p in Document(target).paragraphs]
    assert "BIÊN BẢN" in texts and "Hội nghị thống nhất đề nghị khen thưởng:" in texts


def test_a_member_sees_no_link_while_the_meeting_is_open(page, sign_in, meeting):
    sign_in("member")
    page.goto(f"/meetings/{meeting['cluster']}/{meeting['year']}")
    card = page.locator("#meeting-documents")
    expect(card).to_contain_text("sau khi hội nghị kết thúc")
    expect(card.get_by_role("link")).to_have_count(0)
