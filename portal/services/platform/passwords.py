"""What a password that a person chooses must not be: short, common, guessable.

Used wherever a person sets their own password (the "Đổi mật khẩu" form, `flask create-admin`).
Temporary passwords are random (services.accounts.temporary_password) and pass it too.

The estimator is zxcvbn (pinned in requirements.txt): its frequency lists of common
passwords, words and names, keyboard patterns, dates and repeats, scored in guesses; a score
below 3 (fewer than about 10⁸ guesses) is refused. Its lists take about 15 MiB once loaded, so it is
imported on the first password checked, not with the app: a gunicorn worker that never sees a password
change does not carry them (issue 18, goal 5: a worker's peak memory). Before it come rules whose reason is
clearer to a reader: the person's own username and names, the unit's name, the portal's
name and the demo password, in any case and with or without diacritics.

`problem()` returns a reason code, or None; REASONS gives each code's Vietnamese message
(marked for translation; the form translates it).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from portal.models.base import N_

MIN_LENGTH = 10
MIN_SCORE = 3  # zxcvbn: 3 = "safely unguessable", about 10⁸ guesses
ESTIMATE_CHARS = 64  # zxcvbn's work grows fast with length; the start of a long password decides
DEMO_PASSWORD = "ThiDua@2026"  # the demo data's shared password (services.demo): public, in the README
PORTAL_WORDS = ("thidua", "congthidua", "khenthuong", "tdkt", "cumkhoi", "cumthidua", "khoithidua")
# words of five letters or more in unit names that say what kind of unit it is, not which one
GENERIC_WORDS = frozenset({"phuong", "thanh", "huyen", "nhanh", "truong", "trung", "quoc", "chinh"})
KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghijklmnopqrstuvwxyz")

REASONS = {
    "short": N_("Mật khẩu phải có ít nhất 10 ký tự."),
    "one_kind": N_("Mật khẩu phải có cả chữ và số hoặc ký tự đặc biệt."),
    "repeated": N_("Mật khẩu lặp lại quá ít ký tự khác nhau, rất dễ đoán."),
    "sequence": N_("Mật khẩu là một dãy ký tự liền nhau (như 123456…, abcdef…, qwerty…), rất dễ đoán."),
    "username": N_("Mật khẩu không được chứa tên đăng nhập."),
    "names": N_("Mật khẩu không được chứa họ tên của bạn hoặc tên đơn vị."),
    "portal": N_("Mật khẩu không được chứa tên cổng thông tin (như “thi đua”) hoặc mật khẩu mẫu."),
    "common": N_("Mật khẩu quá phổ biến hoặc dễ đoán; hãy chọn một cụm từ dài hơn, ít gặp hơn."),
}


def fold(text: str | None) -> str:
    """Lowercase letters and digits only, without diacritics: 'Thi Đua-2026' -> 'thidua2026'."""
    text = (text or "").replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "", ascii_text)


def _words(text: str | None) -> list[str]:
    return [fold(word) for word in re.split(r"[\s._\-/,()]+", text or "") if fold(word)]


def _fragments(name: str | None, min_length: int = 5) -> set[str]:
    """The parts of a name someone might put in a password: the whole, distinctive words, word pairs."""
    words = _words(name)
    found = {"".join(words)} if len("".join(words)) >= 4 else set()
    found |= {w for w in words if len(w) >= min_length and w not in GENERIC_WORDS}
    found |= {a + b for a, b in zip(words, words[1:], strict=False) if len(a + b) >= min_length}
    return found


def _is_sequence(folded: str) -> bool:
    if len(folded) < 4:
        return False
    steps = {ord(b) - ord(a) for a, b in zip(folded, folded[1:], strict=False)}
    if len(steps) == 1 and steps.pop() in (1, -1):
        return True
    return any(folded in row or folded in row[::-1] for row in KEYBOARD_ROWS)


def problem(password: str, *, username: str = "", names: Iterable[str | None] = ()) -> str | None:
    """The first reason (a key of REASONS) why `password` is refused; None when it is acceptable.

    `names`: the person's full name, their unit's names, the province's name — whatever an
    attacker would try first for this account."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return "short"
    if password.isdigit() or password.isalpha():
        return "one_kind"
    folded = fold(password)
    if len(set(password.lower())) < 4:
        return "repeated"
    if _is_sequence(folded):
        return "sequence"
    user = fold(username)
    if (len(user) >= 3 and user in folded) or any(part in folded for part in _fragments(username, 4)):
        return "username"
    if any(part in folded for name in names for part in _fragments(name)):
        return "names"
    if any(word in folded for word in PORTAL_WORDS) or fold(DEMO_PASSWORD) in folded:
        return "portal"
    from zxcvbn import zxcvbn  # loaded on first use (see the module's docstring)

    context = [username, *(name for name in names if name), "thi dua", "cong thi dua", "khen thuong"]
    if zxcvbn(password[:ESTIMATE_CHARS], user_inputs=context)["score"] < MIN_SCORE:
        return "common"
    return None
