"""Vietnamese text: the keys that make names unique, searchable and sorted alike on every database.

SQLite's lower() and LIKE fold only ASCII, and PostgreSQL orders text by its server's
collation, so neither database can be trusted with Vietnamese. The portal computes the keys
here, in Python, stores them beside each name and lets the database compare only those keys:

- `normalise(s)`: what is stored and shown: NFC, runs of whitespace as one space, stripped.
- `name_key(s)`: uniqueness. NFC + casefold, and the tone mark of a word ending in "oa", "oe"
  or "uy" always on the second vowel, so "Ủy ban", "UỶ BAN" and "Uỷ ban" (old and new tone
  placement, NFC or NFD input) are one name.
- `search_key(s)`: search. Casefolded, without any diacritic, đ as d: "uy ban", "ủy ban" and
  "UỶ BAN" all find "Ủy ban nhân dân". Queries go through the same function (`like_pattern`).
- `sort_key(s)`: Vietnamese alphabetical order as bytes, compared bytewise (BLOB on SQLite,
  bytea on PostgreSQL, `bytes` in Python: the same order in all three). Syllable by
  syllable, as Vietnamese dictionaries list words (all of "ba …" before "bà …"):
  1. a syllable's letters in the Vietnamese alphabet a ă â b c d đ e ê g h i k l m n o ô ơ p
     q r s t u ư v x y (f, j, w, z in their Latin places), case and tone ignored; a shorter
     syllable before a longer one ("ba" before "bác"); punctuation before digits, digits
     before letters; a run of digits compares as a number ("Cụm 2" before "Cụm 10");
  2. then that syllable's tones, in the order of Vietnamese dictionaries (Hoàng Phê's Từ
     điển tiếng Việt; CLDR's Vietnamese collation has the same order): no mark, huyền, hỏi,
     ngã, sắc, nặng (a à ả ã á ạ), so "Hà Nội" before "Hạ Long";
  3. only when every syllable is equal: case (lower before upper), then leading zeros.
- `person_sort_key(full_name)`: Vietnamese people are listed by given name (the last word),
  then by family and middle names: "Trần Văn An" before "Nguyễn Thị Bình".

Changing the keys' definition changes stored data: write a migration that recomputes them
with these functions (as the one that introduced them does).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

ALPHABET = tuple("aăâbcdđeêfghijklmnoôơpqrstuưvwxyz")
BREVE, CIRCUMFLEX, HORN = "\u0306", "\u0302", "\u031b"
# tone marks in dictionary order: huyền, hỏi, ngã, sắc, nặng (no mark is 1)
TONES = {"\u0300": 2, "\u0309": 3, "\u0303": 4, "\u0301": 5, "\u0323": 6}
_LETTER_INDEX = {unicodedata.normalize("NFD", letter): i for i, letter in enumerate(ALPHABET)}
_LETTER_INDEX["đ"] = ALPHABET.index("đ")
_VOWELS = {unicodedata.normalize("NFD", v) for v in "aăâeêioôơuưy"}
_MOVABLE = {("o", "a"), ("o", "e"), ("u", "y")}  # tone on the first or second vowel, by style
_SPACE, _END, _PUNCT, _DIGITS, _LETTER, _OTHER = 0x01, 0x02, 0x03, 0x05, 0x10, 0xF0
_WHITESPACE = re.compile(r"\s+")


def normalise(s: str | None) -> str:
    """NFC, whitespace collapsed to single spaces, stripped: the form names are stored in."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", s or "")).strip()


@dataclass
class _Char:
    """One base character with its combining marks; letters of the alphabet are split up."""

    text: str  # the base character and its marks, decomposed
    letter: str | None = None  # "a", "a\u0306", "đ", ... (lower case, no tone)
    tone: str = ""
    upper: bool = False

    def render(self) -> str:
        if self.letter is None:
            return self.text
        base = self.letter.upper() if self.upper else self.letter
        return base + self.tone


def _chars(s: str) -> list[_Char]:
    chars: list[_Char] = []
    for ch in unicodedata.normalize("NFD", s):
        if unicodedata.combining(ch) and chars:
            chars[-1].text += ch
        else:
            chars.append(_Char(ch))
    for char in chars:
        base, marks = char.text[0], char.text[1:]
        lower = base.lower()
        if not ("a" <= lower <= "z" or lower == "đ"):
            continue
        modifier = next((m for m in marks if m in (BREVE, CIRCUMFLEX, HORN) and lower + m in _LETTER_INDEX), "")
        char.letter = lower + modifier
        char.tone = next((m for m in marks if m in TONES), "")
        char.upper = base != lower
    _canonical_tones(chars)
    return chars


def _canonical_tones(chars: list[_Char]) -> None:
    """Put the tone of a word ending in oa/oe/uy on the second vowel: hòa → hoà, thủy → thuỷ."""
    for i in range(len(chars) - 1):
        first, second = chars[i], chars[i + 1]
        if (first.letter, second.letter) not in _MOVABLE or not first.tone or second.tone:
            continue
        after = chars[i + 2] if i + 2 < len(chars) else None
        before = chars[i - 1] if i > 0 else None
        if (after is None or after.letter is None) and (before is None or before.letter not in _VOWELS):
            first.tone, second.tone = "", first.tone


def name_key(s: str | None) -> str:
    """The key that makes two names the same name: case, NFC/NFD and tone placement ignored."""
    text = "".join(char.render() for char in _chars(normalise(s)))
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())


def search_key(s: str | None) -> str:
    """Casefolded, without diacritics, đ as d: what search compares."""
    bare = "".join(ch for ch in unicodedata.normalize("NFD", (s or "").casefold()) if not unicodedata.combining(ch))
    return _WHITESPACE.sub(" ", bare.replace("đ", "d")).strip()


def like_pattern(query: str | None) -> str:
    """A LIKE pattern (escape character "\\") finding the query anywhere in a search key."""
    key = search_key(query)
    return "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _codepoint(ch: str) -> bytes:
    """Three bytes, none zero, in code point order."""
    cp = ord(ch)
    return bytes(((cp >> 14) + 1, ((cp >> 7) & 0x7F) + 1, (cp & 0x7F) + 1))


def sort_key(s: str | None) -> bytes:
    """Vietnamese alphabetical order as bytes: per syllable letters then tone; 0x00; case."""
    chars = _chars(normalise(s))
    first, case = bytearray(), bytearray()
    tones = bytearray()
    i = 0
    while i < len(chars):
        char = chars[i]
        base = char.text[0]
        if base == " ":  # a syllable ends: its tones, then the space
            first += bytes((_END,)) + tones + bytes((_SPACE,))
            tones.clear()
        elif char.letter is not None:
            first.append(_LETTER + _LETTER_INDEX[char.letter])
            tones.append(TONES.get(char.tone, 1))
            case.append(2 if char.upper else 1)
        elif base.isdecimal():
            i, key, zeros = _number(chars, i)
            first += key
            case.append(zeros)
            continue
        else:
            first += bytes((_OTHER if base.isalpha() else _PUNCT,)) + _codepoint(base)
        i += 1
    if chars:
        first += bytes((_END,)) + tones
    return bytes(first) + b"\x00" + bytes(case)


def _number(chars: list[_Char], start: int) -> tuple[int, bytes, int]:
    """The run of digits from `start`, sorted by its value: (where it ends, its key, its leading zeros + 1)."""
    end = start
    while end < len(chars) and chars[end].text[0].isdecimal():
        end += 1
    digits = "".join(str(unicodedata.decimal(c.text[0])) for c in chars[start:end])
    number = digits.lstrip("0") or "0"
    return end, bytes((_DIGITS, min(len(number), 250) + 1)) + number.encode(), min(len(digits) - len(number) + 1, 255)


def person_sort_key(full_name: str | None) -> bytes:
    """A person's name sorted the Vietnamese way: by given name (last word), then the rest."""
    words = normalise(full_name).split(" ")
    return sort_key(" ".join(words[-1:] + words[:-1]))
