"""The documentation stays true: its links resolve, docs/README.md maps every page, and the README's demo
logins are the ones the demo data gives."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import BASE_DIR
from portal.extensions import db
from portal.services.demo import logins as demo_logins
from portal.services.demo import world as demo

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def markdown_files() -> list[Path]:
    return [BASE_DIR / "README.md", *sorted((BASE_DIR / "docs").rglob("*.md"))]


def _prose(text: str) -> str:
    return INLINE_CODE.sub("", FENCE.sub("", text))


def links(path: Path) -> list[str]:
    return LINK.findall(_prose(path.read_text(encoding="utf-8")))


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (letters with diacritics kept), spaces to '-'."""
    text = re.sub(r"[*_`]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {anchor(h) for h in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8")))}


def test_anchor_follows_github_for_vietnamese_headings():
    assert anchor("Tài khoản mẫu / demo logins") == "tài-khoản-mẫu--demo-logins"
    assert anchor("Bước 1. Đọc bảng tiêu chí") == "bước-1-đọc-bảng-tiêu-chí"
    assert anchor("JSON API (`/api/v1/`)") == "json-api-apiv1"


def test_the_link_scanner_sees_links_outside_code_only(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("[a](one.md) `[b](two.md)` ![img](three.png)\n```\n[c](four.md)\n```\n[d](five.md#x)\n")
    assert links(page) == ["one.md", "five.md#x"]


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(BASE_DIR)))
def test_every_relative_link_resolves(path):
    broken = []
    for target in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: …
            continue
        file_part, _, fragment = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
            broken.append(f"{target}: no heading #{fragment} in {resolved.name}")
    assert not broken, f"{path.relative_to(BASE_DIR)}: " + "; ".join(broken)


def test_the_docs_index_links_every_page_of_docs():
    index = BASE_DIR / "docs" / "README.md"
    linked = {(index.parent / t.partition("#")[0]).resolve() for t in links(index) if not t.startswith("#")}
    pages = {p.resolve() for p in (BASE_DIR / "docs").rglob("*.md")} - {index.resolve()}
    missing = sorted(str(p.relative_to(BASE_DIR)) for p in pages - linked)
    assert not missing, f"add these pages to docs/README.md: {missing}"


def test_readme_demo_logins_are_those_of_the_demo_data(app):
    demo.seed(db.session)
    db.session.flush()
    year, logins = demo_logins.role_logins(db.session)
    readme = (BASE_DIR / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Tài khoản mẫu / demo logins", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\|[^|\n]*\| `([^`]+)` \|", section, re.M)
    assert rows == [login.username for login in logins]
    assert f"`{demo.DEMO_PASSWORD}`" in section and f"year {year}" in section
    assert all(login.demo_password for login in logins)
