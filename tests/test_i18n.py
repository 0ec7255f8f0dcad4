"""Translations: Vietnamese by default (the msgids), a complete English catalogue, a language switch."""

from __future__ import annotations

import re
from datetime import date

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from flask_babel import force_locale
from sqlalchemy import select

from config import BASE_DIR
from portal.extensions import db
from portal.forms import domain_message
from portal.models import Assessment, Unit
from portal.services import DomainError
from portal.services.scoring import assessments
from tests import factories

EN_PO = BASE_DIR / "portal" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
# The same extraction as `make messages` (see the Makefile).
EXTRACT = ["-F", str(BASE_DIR / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext", "-k", "lazy_pgettext:1c,2"]


def _english_catalogue():
    with EN_PO.open("rb") as po_file:
        return read_po(po_file, locale="en")


def _key(message) -> tuple[str | None, str]:
    msgid = message.id[0] if isinstance(message.id, tuple) else message.id
    return message.context, msgid


def _html_lang(page) -> str:
    return re.search(r'<html lang="([a-z]+)">', page.text).group(1)


def _in_english(client) -> None:
    response = client.post("/language/en", data={"next": "/login"})
    assert response.status_code == 303


# --- the catalogue ----------------------------------------------------------------------------


def test_every_english_entry_is_translated_and_none_is_fuzzy():
    catalogue = _english_catalogue()
    assert not catalogue.fuzzy
    messages = [m for m in catalogue if m.id]
    assert len(messages) > 500
    for message in messages:
        assert not message.fuzzy, message.id
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(form.strip() for form in forms), f"untranslated: {message.id!r}"


def test_translations_keep_the_placeholders_of_their_msgid():
    problems = [(message.id, errors) for message, errors in _english_catalogue().check()]
    assert problems == []


def test_translations_keep_the_markup_of_their_msgid():
    """Template strings are rendered as HTML: a translation brings exactly the tags of its msgid."""
    tags = re.compile(r"<[^>]+>")
    for message in _english_catalogue():
        if not message.id:
            continue
        msgid = message.id[0] if isinstance(message.id, tuple) else message.id
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for form in forms:
            assert sorted(tags.findall(form)) == sorted(tags.findall(msgid)), msgid
            assert "&" not in tags.sub("", form), msgid


def test_every_extracted_string_is_in_the_english_catalogue(tmp_path):
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", *EXTRACT, "--ignore-dirs=.* __pycache__", "-o", str(pot), str(BASE_DIR)]
    )
    with pot.open("rb") as pot_file:
        extracted = {_key(m) for m in read_po(pot_file) if m.id}
    assert len(extracted) > 500  # templates, forms, views and model labels were all scanned
    assert (None, "Đơn vị thành viên") in extracted and ("menu", "Đơn vị") in extracted
    assert (None, "Sở, ban, ngành tỉnh") in extracted  # a model label marked with N_()
    translated = {_key(m) for m in _english_catalogue() if m.id}
    assert sorted(extracted - translated, key=str) == []


# --- the default language and the switch -------------------------------------------------------


def test_vietnamese_is_the_default(world, client, auth):
    login = client.get("/login")
    assert _html_lang(login) == "vi"
    assert "Tên đăng nhập" in login.text and "Ghi nhớ đăng nhập" in login.text and "Username" not in login.text
    auth.login("secretariat")
    home = client.get("/")
    assert _html_lang(home) == "vi"
    assert ">Trang chủ</a>" in home.text and ">Đăng xuất</button>" in home.text and "Sign out" not in home.text


def test_login_page_in_english_and_back(client):
    _in_english(client)
    page = client.get("/login")
    assert _html_lang(page) == "en"
    for english in (
        "<title>Sign in ·",
        ">Sign in</h1>",
        ">Username",
        ">Password",
        "Keep me signed in",
        ">Sign in</button>",
    ):
        assert english in page.text
    for vietnamese in ("Đăng nhập", "Tên đăng nhập", "Mật khẩu", "Ghi nhớ đăng nhập"):
        assert vietnamese not in page.text
    assert ">Tiếng Việt</button>" in page.text  # the switch names the other language in that language

    back = client.post("/language/vi", data={"next": "/login"})
    assert back.status_code == 303 and back.headers["Location"] == "/login"
    page = client.get("/login")
    assert _html_lang(page) == "vi" and ">Đăng nhập</h1>" in page.text and "Username" not in page.text
    assert ">English</button>" in page.text


def test_the_sign_in_reminder_follows_the_language(client):
    _in_english(client)
    assert client.get("/units/").status_code == 302
    page = client.get("/login")
    assert "Please sign in to continue." in page.text and "Vui lòng đăng nhập" not in page.text


def test_an_unknown_language_changes_nothing(client):
    client.post("/language/fr", data={"next": "/login"})
    assert _html_lang(client.get("/login")) == "vi"


def test_home_page_menu_and_chrome_in_english(world, client, auth):
    auth.login("secretariat")
    _in_english(client)
    page = client.get("/")
    assert _html_lang(page) == "en"
    for english in (
        ">Home</a>",
        ">Clusters and blocks</a>",
        ">Units</a>",
        ">Emulation years</a>",
        ">Council</a>",
        ">Accounts</a>",
        ">Audit log</a>",
        ">Change password</a>",
        ">Sign out</button>",
        "Emulation year 2026 — whole province",
        "Leadership of the clusters and blocks in 2026",
        "Emulation and Commendation Board (Department of Home Affairs)",
    ):
        assert english in page.text, english
    for vietnamese in (
        "Trang chủ",
        "Cụm, khối</a>",
        "Năm thi đua",
        "Nhật ký",
        "Đổi mật khẩu",
        "Đăng xuất",
        "toàn tỉnh",
        "Lãnh đạo các cụm, khối",
        "Bỏ qua, đến nội dung chính",
    ):
        assert vietnamese not in page.text, vietnamese


def test_units_list_in_english(world, client, auth):
    auth.login("secretariat")
    _in_english(client)
    page = client.get("/units/")
    for english in (
        '<h1 class="page-title mb-0">Member units</h1>',
        ">Unit name</th>",
        ">Add a unit</button>",
        "Search by name",
    ):
        assert english in page.text, english
    assert "<td>Other</td>" in page.text  # the unit type label, stored as a code, shown in English
    for vietnamese in ("Đơn vị thành viên", "Tên đơn vị", "Thêm đơn vị", "Loại hình", "Tình trạng", "<td>Khác</td>"):
        assert vietnamese not in page.text, vietnamese
    assert "UBND phường An Bình" in page.text  # user data is never translated


def test_form_errors_and_flash_messages_in_english(world, client, auth):
    auth.login("secretariat")
    _in_english(client)
    bad = client.post("/units/", data={"name": "", "sector": "other"})
    assert bad.status_code == 422 and "Please fill in this field." in bad.text
    assert "Vui lòng nhập trường này." not in bad.text
    saved = client.post("/units/", data={"name": "Sở Ngoại vụ", "sector": "department"})
    assert saved.status_code == 303
    assert "Unit “Sở Ngoại vụ” added." in client.get(saved.headers["Location"]).text
    assert db.session.scalar(select(Unit).where(Unit.name == "Sở Ngoại vụ")).sector == "department"


def test_domain_errors_follow_the_language(world, client, auth):
    """A service's refusal is a catalogue entry and its values: Vietnamese by default, English after the switch."""
    auth.login("secretariat")
    clash = client.post("/units/", data={"name": "UBND phường An Bình", "sector": "ward"})
    assert clash.status_code == 422 and "Đã có đơn vị tên “UBND phường An Bình”." in clash.text
    _in_english(client)
    clash = client.post("/units/", data={"name": "UBND phường An Bình", "sector": "ward"})
    assert clash.status_code == 422 and "There is already a unit named “UBND phường An Bình”." in clash.text
    assert "Đã có đơn vị tên" not in clash.text and ">Add a unit</button>" in clash.text


def test_a_domain_error_shows_its_values_in_english(world, client, auth, hx):
    """The refusal of an incomplete self-assessment counts and lists the criteria left, in either language."""
    cset, _items = factories.scoring_table(world)
    assessments.open_self_round(db.session, cset)
    db.session.commit()
    own = db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == world.member.id))
    auth.login("member")
    refused = hx.post(f"/scoring/assessments/{own.id}/submit")
    assert refused.status_code == 422 and "Còn 5 tiêu chí chưa chấm: I.1, I.2, I.3, II.1, III.1." in refused.text
    _in_english(client)
    refused = hx.post(f"/scoring/assessments/{own.id}/submit")
    assert refused.status_code == 422 and "5 criteria are not scored yet: I.1, I.2, I.3, II.1, III.1." in refused.text
    assert "chưa chấm" not in refused.text


def test_a_refusal_named_inside_another_is_translated_with_it(app):
    """An import's "Dòng 3: …" carries the row's own refusal as a value; both are put in the reader's language."""
    row = DomainError("Dòng %(row)s: %(error)s", row=3, error=DomainError("Nhập nội dung tiêu chí.", "title"))
    assert row.message == "Dòng 3: Nhập nội dung tiêu chí."
    with app.test_request_context():
        assert domain_message(row) == "Dòng 3: Nhập nội dung tiêu chí."
        with force_locale("en"):
            assert domain_message(row) == "Row 3: Enter the text of the criterion."


def test_cluster_page_in_english(world, client, auth):
    auth.login("secretariat")
    _in_english(client)
    page = client.get(f"/clusters/{world.cluster.id}?year=2026")
    for english in (
        "Emulation cluster · ",
        "Leadership in 2026",
        "Cluster head",
        "Cluster deputy",
        "Overseeing council member",
        f"No. 12/QĐ-HĐTĐKT of {factories.vn_format(date(world.year.year, 1, 15))} by Hội đồng TĐ-KT tỉnh",
        "Criteria table and scoring scale",
        "Members in 2026",
        ">Add member</button>",
    ):
        assert english in page.text, english
    for vietnamese in ("Lãnh đạo năm", "Trưởng cụm", "Phó cụm", "Thành viên năm", "Thêm thành viên", "Cụm thi đua ·"):
        assert vietnamese not in page.text, vietnamese


def test_criteria_page_in_english_and_its_printout_in_vietnamese(world, client, auth):
    cset = factories.criteria_set(world)
    auth.login("head")
    _in_english(client)
    page = client.get(f"/criteria/sets/{cset.id}")
    assert _html_lang(page) == "en"
    for english in (
        "Total maximum points",
        "Maximum bonus",
        ">Print version</a>",
        "Quantitative (against the registered target)",
        ">Published</span>",
    ):
        assert english in page.text, english
    for vietnamese in ("Tổng điểm chuẩn", "Bản in", "Định lượng", "Đã công bố", "Thao tác"):
        assert vietnamese not in page.text, vietnamese
    assert "Thu ngân sách" in page.text  # the criteria themselves are the cluster's data

    printout = client.get(f"/criteria/sets/{cset.id}/print")
    assert _html_lang(printout) == "vi"
    assert "TỔNG CỘNG" in printout.text and "Định lượng (so với chỉ tiêu đăng ký)" in printout.text
    assert "Quantitative" not in printout.text


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_error_pages_follow_the_language(lang, world, client, auth):
    auth.login("member")
    client.post(f"/language/{lang}", data={"next": "/"})
    page = client.get("/units/")
    assert page.status_code == 403
    expected, other = ("Không có quyền", "Not allowed") if lang == "vi" else ("Not allowed", "Không có quyền")
    assert expected in page.text and other not in page.text
