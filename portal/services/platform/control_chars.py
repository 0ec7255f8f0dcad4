"""Control characters in text that people send: refused before they reach the database.

PostgreSQL refuses a NUL byte in any text (a DataError, hence a 500), and the other C0
controls (ESC, form feed, backspace …) are never part of what an officer types: they come
from a crafted request or a broken paste, and would end up in documents and exports. Tab,
line feed and carriage return are ordinary text.
"""

from __future__ import annotations

import re

from portal.models.base import N_

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MESSAGE = N_("Nội dung có ký tự điều khiển ẩn (ví dụ ký tự NUL); hãy xóa đoạn vừa dán và gõ lại.")


def has_control_characters(text: str) -> bool:
    return CONTROL_CHARACTERS.search(text) is not None


def any_control_characters(value) -> bool:
    """True if a string anywhere in a parsed JSON value (keys included) holds a control character."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if has_control_characters(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
