"""The audit log as a hash chain: each link's hash covers its entry's content and the previous hash.

The links are the rows of `audit_seals`, in position order (`audit_seal` writes them). Editing,
inserting, reordering or deleting any sealed entry in the middle breaks the chain from there on, which
`verify` reports; `flask audit verify` runs it. (Cutting links off the end leaves a valid shorter
chain: keep the head hash that `verify` prints somewhere outside the database to detect that too.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

GENESIS = "0" * 64
FIELDS = ("at", "user_id", "username", "action", "object_type", "object_id", "object_label", "changes", "summary")


def _value(key: str, value):
    if key == "at" and isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    return value


def entry_hash(prev_hash: str, entry: Mapping) -> str:
    """SHA-256 over the previous hash and the entry's fields as canonical JSON."""
    content = {key: _value(key, entry[key]) for key in FIELDS}
    payload = prev_hash + json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


BROKEN_LINK = "liên kết với bản ghi trước bị đứt (bản ghi bị xóa, chèn hoặc đổi thứ tự)"


# an entry sealed after entries dated this much later than itself: a transaction that long, or an entry
# inserted behind the application's back and dated in the past (inserting is what the trigger allows)
LATE = timedelta(minutes=10)


@dataclass
class Verdict:
    count: int
    head: str
    broken_at: int | None  # id of the first entry that does not fit
    reason: str = ""
    late: list[int] = field(default_factory=list)  # ids of the entries sealed late (see LATE)

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(links: Iterable[Mapping]) -> Verdict:
    """Check the chain's links in position order: mappings with `id` (the entry's), `prev_hash` and `hash`
    (the link's), `missing` (the entry is gone) and the entry's FIELDS."""
    prev, count, newest, late = GENESIS, 0, None, []
    for link in links:
        count += 1
        if link["missing"]:
            return Verdict(count, prev, link["id"], "bản ghi đã niêm phong bị xóa")
        if link["prev_hash"] != prev:
            return Verdict(count, prev, link["id"], BROKEN_LINK)
        if entry_hash(prev, link) != link["hash"]:
            return Verdict(count, prev, link["id"], "nội dung không khớp mã băm (bản ghi bị sửa)")
        prev = link["hash"]
        at = link["at"]
        if newest is not None and at is not None and at < newest - LATE:
            late.append(link["id"])
        newest = at if newest is None or (at is not None and at > newest) else newest
    return Verdict(count, prev, None, late=late)
