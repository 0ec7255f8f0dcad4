"""Vietnamese text keys (portal.vntext): pure functions, no app."""

import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from portal import vntext

NFD = "NFD"


def test_normalise_is_nfc_with_single_spaces():
    assert vntext.normalise(unicodedata.normalize(NFD, "  Ủy  ban\t nhân\n dân ")) == "Ủy ban nhân dân"
    assert vntext.normalise(None) == ""


@pytest.mark.parametrize(
    "variant",
    [
        "ỦY BAN NHÂN DÂN XÃ TRÀM CHIM",
        "ủy ban nhân dân xã tràm chim",
        "Uỷ ban nhân dân xã Tràm Chim",  # tone on the second vowel (the other spelling style)
        unicodedata.normalize(NFD, "Ủy ban nhân dân xã Tràm Chim"),
        "Ủy  ban nhân dân   xã Tràm Chim ",
    ],
)
def test_name_key_ignores_case_normal_form_spacing_and_tone_placement(variant):
    assert vntext.name_key(variant) == vntext.name_key("Ủy ban nhân dân xã Tràm Chim")


@pytest.mark.parametrize(("a", "b"), [("hòa", "hoà"), ("khỏe", "khoẻ"), ("thủy", "thuỷ"), ("qủy", "quỷ")])
def test_tone_placement_styles_are_one_name(a, b):
    assert vntext.name_key(a) == vntext.name_key(b)


@pytest.mark.parametrize(("a", "b"), [("Đài", "Dài"), ("Hồ", "Hổ"), ("Ánh", "Anh"), ("Sở Y tế", "Sở Y tế 2")])
def test_name_key_keeps_what_makes_names_different(a, b):
    assert vntext.name_key(a) != vntext.name_key(b)


def test_search_key_drops_case_and_every_diacritic():
    assert vntext.search_key("ỦY BAN  Nhân dân Đồng Tháp") == "uy ban nhan dan dong thap"
    assert vntext.search_key(unicodedata.normalize(NFD, "Uỷ ban")) == vntext.search_key("ủy ban") == "uy ban"


def test_like_pattern_escapes_wildcards():
    assert vntext.like_pattern(" 100%_Đạt\\ ") == "%100\\%\\_dat\\\\%"


def _ordered(names):
    return sorted(names, key=vntext.sort_key)


def test_sort_in_vietnamese_alphabetical_order():
    names = ["Văn phòng UBND tỉnh", "Ủy ban nhân dân xã Tràm Chim", "Hội Nông dân", "Đài Phát thanh", "Dương Minh"]
    assert _ordered(names) == [
        "Dương Minh",
        "Đài Phát thanh",
        "Hội Nông dân",
        "Ủy ban nhân dân xã Tràm Chim",
        "Văn phòng UBND tỉnh",
    ]
    assert _ordered(["â", "b", "ă", "a", "đ", "d", "ơ", "ô", "o", "ư", "u", "ê", "e"]) == [
        *("a", "ă", "â", "b", "d", "đ", "e", "ê", "o", "ô", "ơ", "u", "ư")
    ]


def test_syllable_letters_then_its_tone_in_dictionary_order():
    assert _ordered(["ạ", "á", "ã", "ả", "à", "a"]) == ["a", "à", "ả", "ã", "á", "ạ"]
    # within a syllable the letters decide first: "bà" before "bác" whatever the tones
    assert _ordered(["bác", "bạ", "bà"]) == ["bà", "bạ", "bác"]
    # syllable by syllable, as a dictionary: every "ba …" before "bà …"
    assert _ordered(["Hạ Long", "Hà Nội", "Ha Tien"]) == ["Ha Tien", "Hà Nội", "Hạ Long"]
    assert _ordered(["bà con", "ba vì", "ba"]) == ["ba", "ba vì", "bà con"]


def test_case_is_third_level_and_numbers_are_numbers():
    assert _ordered(["Cụm 10", "Cụm 2", "cụm 2", "Cụm 1"]) == ["Cụm 1", "cụm 2", "Cụm 2", "Cụm 10"]
    assert _ordered(["Khối 3", "Khối 03", "Khối 12"]) == ["Khối 3", "Khối 03", "Khối 12"]
    assert _ordered(["An Bình", "An", "An-Bình"]) == ["An", "An Bình", "An-Bình"]


def test_nfd_and_nfc_sort_as_one():
    assert vntext.sort_key(unicodedata.normalize(NFD, "Ủy ban")) == vntext.sort_key("Ủy ban")


def test_people_are_listed_by_given_name():
    people = ["Nguyễn Thị Bình", "Trần Văn An", "Lê Văn Đức", "Phạm Duy"]
    assert sorted(people, key=vntext.person_sort_key) == ["Trần Văn An", "Nguyễn Thị Bình", "Phạm Duy", "Lê Văn Đức"]


VIETNAMESE = st.text(
    alphabet=st.sampled_from(list("aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂĐÊÔƠƯ 0123456789-.()%_") + list(vntext.TONES)),
    max_size=30,
)


@given(VIETNAMESE, VIETNAMESE)
def test_keys_are_stable_under_normal_form_and_case(a, b):
    assert vntext.sort_key(a) == vntext.sort_key(unicodedata.normalize(NFD, unicodedata.normalize("NFC", a)))
    assert vntext.name_key(a) == vntext.name_key(vntext.normalise(a).upper())
    if vntext.name_key(a) == vntext.name_key(b):
        assert vntext.search_key(a) == vntext.search_key(b)
    assert b"\x00" not in _levels(a) + vntext.sort_key(a).split(b"\x00", 1)[1]  # the separator appears once


def _levels(text: str) -> bytes:
    """Letters and tones: what decides before case."""
    return vntext.sort_key(text).split(b"\x00", 1)[0]


@given(VIETNAMESE, VIETNAMESE)
def test_case_never_outweighs_letters_or_tones(a, b):
    assume(_levels(a) != _levels(b))
    assert (vntext.sort_key(a) < vntext.sort_key(b)) == (vntext.sort_key(a.lower()) < vntext.sort_key(b.lower()))


LETTERS = [unicodedata.normalize("NFC", b + t) for b in "aăâbdđeêioôơuưyAĐƠ" for t in ["", *vntext.TONES]]
WORDS = st.lists(st.sampled_from([*LETTERS, " "]), max_size=20).map("".join)


def _first_syllable(text: str) -> str:
    """The first syllable without its tone, in lower case."""
    word = vntext.normalise(text).split(" ")[0]
    return unicodedata.normalize(
        "NFC", "".join(c for c in unicodedata.normalize(NFD, word) if c not in vntext.TONES)
    ).lower()


@given(WORDS, WORDS)
def test_tones_never_outweigh_the_letters_of_the_first_syllable(a, b):
    first_a, first_b = _first_syllable(a), _first_syllable(b)
    assume(first_a != first_b)
    assert (vntext.sort_key(a) < vntext.sort_key(b)) == (vntext.sort_key(first_a) < vntext.sort_key(first_b))
