"""A cluster-year whose year-end meeting has voted and closed, ready to publish; shared by the publication tests."""

from __future__ import annotations

from portal.extensions import db
from portal.services.meetings import awards, ballot, record
from tests.meeting_helpers import opened, scored, where

POINTS = {"head": ("55", "35"), "deputy": ("50", "28"), "member": ("45", "35")}


def award(code):
    return next(a for a in awards.award_types(db.session) if a.code == code)


def voted(world, close: bool = True, extra: int = 0):
    """Scores, the meeting, a flag for the head and certificates for the head and the deputy; closed (`extra`
    more members, who score nothing)."""
    units, items = scored(world, POINTS, extra)
    meeting = opened(world)
    n = len(units)  # every member present, every ballot valid
    flag = ballot.TallyFields(n, n, n, 0, {world.head.id: n}, "Ông A")
    ballot.save_tally(db.session, meeting, award("co_thi_dua"), flag)
    votes = {unit.id: 0 for unit in units.values()} | {world.head.id: n, world.deputy.id: n - 1, world.member.id: 1}
    ballot.save_tally(db.session, meeting, award("bang_khen_toan_dien"), ballot.TallyFields(n, n, n, 0, votes, "Ông A"))
    if close:
        record.close(db.session, meeting)
    db.session.commit()
    return units, items, meeting


def published(world, extra: int = 0):
    """The world's cluster-year voted, closed and published (revision 1)."""
    from portal.services.publication import snapshots

    units, items, meeting = voted(world, extra=extra)
    snapshot = snapshots.publish(db.session, where(world), None)
    db.session.commit()
    return units, items, snapshot


def voted_online(world):
    """Scores, the meeting, an online vote (member and deputy vote, the head leaves a blank certificate
    ballot), closed and published. Returns (receipt codes by voter, the snapshot)."""
    from portal.services.meetings import online, voting
    from portal.services.publication import snapshots

    scored(world, POINTS)
    meeting = opened(world)
    window = online.open_window(db.session, meeting)
    flag, certificate = award("co_thi_dua"), award("bang_khen_toan_dien")
    choices = {
        "member": {flag.id: [world.head.id], certificate.id: [world.head.id, world.deputy.id]},
        "deputy": {flag.id: [world.head.id], certificate.id: [world.head.id]},
        "head": {flag.id: [world.head.id], certificate.id: [world.deputy.id]},
    }
    codes = {name: voting.cast(db.session, meeting, window, getattr(world, name).id, c) for name, c in choices.items()}
    online.close_current(db.session, meeting)
    record.close(db.session, meeting)
    snapshot = snapshots.publish(db.session, where(world), None)
    db.session.commit()
    return codes, snapshot
