"""A voter's receipt code checked against a published snapshot's online ballots.

The snapshot freezes each closed online window's ballots (per award: the choices and the SHA-256 of the
receipt code, never the voter). Anyone holding a code can see, on the published record itself, that the
ballot it names was counted as cast; the meeting's own receipt check reads the same ballots from the
database before publication.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.services.meetings import voting


@dataclass(frozen=True)
class Found:
    window: int
    choices: list[tuple[str, list[str]]]  # (award name, the names of the units chosen) per award


def ballot_count(content: dict) -> int:
    """How many ballots (one per voter and award) the snapshot holds."""
    return sum(len(a["ballots"]) for w in content.get("online_ballots", []) for a in w["awards"])


def _names(content: dict) -> dict[int, str]:
    return {u["unit_id"]: u["name"] for u in content["input"]["units"]}


def check(content: dict, code: str) -> Found | None:
    """The ballot the code names in the snapshot, with its choices by name; None when no ballot has it."""
    if len(voting.normalise(code)) != voting.CODE_LENGTH:
        return None
    digest = voting.receipt_hash(code)
    names = _names(content)
    for window in content.get("online_ballots", []):
        chosen = [
            (award["award_name"], [names.get(unit_id, str(unit_id)) for unit_id in ballot["choices"]])
            for award in window["awards"]
            for ballot in award["ballots"]
            if ballot["receipt_sha256"] == digest
        ]
        if chosen:
            return Found(window["window"], chosen)
    return None
