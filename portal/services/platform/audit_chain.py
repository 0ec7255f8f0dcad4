"""The audit log as a hash chain: each entry's hash covers its content and the previous hash.

Editing, inserting or deleting any entry in the middle breaks the chain from
there on, which `verify` reports; `flask audit verify` runs it. (Cutting entries
off the end leaves a valid shorter chain: keep the head hash that `verify`
prints somewhere outside the database to detect that too.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

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


def chain(prev_hash: str, entries: list[dict]) -> str:
    """Fill prev_hash and hash of new entries in order; returns the new head."""
    for entry in entries:
        entry["prev_hash"] = prev_hash
        entry["hash"] = prev_hash = entry_hash(prev_hash, entry)
    return prev_hash


@dataclass
class Verdict:
    count: int
    head: str
    broken_at: int | None  # id of the first entry that does not fit
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(entries: Iterable[Mapping]) -> Verdict:
    """Check entries given in id order (mappings with id, prev_hash, hash and FIELDS)."""
    prev, count = GENESIS, 0
    for entry in entries:
        count += 1
        if entry["prev_hash"] != prev:
            return Verdict(count, prev, entry["id"], "liên kết với bản ghi trước bị đứt (bản ghi bị xóa hoặc chèn)")
        if entry_hash(prev, entry) != entry["hash"]:
            return Verdict(count, prev, entry["id"], "nội dung không khớp mã băm (bản ghi bị sửa)")
        prev = entry["hash"]
    return Verdict(count, prev, None)
