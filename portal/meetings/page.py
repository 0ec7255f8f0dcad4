"""What the meeting page shows, gathered once for the page and for each of its htmx answers.

A fixed number of queries whatever the number of units: the attendance is one join, the approved
table the results engine's aggregate read (twice when the meeting changed points), the tallies and
nominations one query each with their units loaded alongside.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.access import may
from portal.extensions import db
from portal.meetings import document_views
from portal.meetings.forms import AdjustmentForm, AttendanceForm, GuestForm, RecordForm, tally_form, tie_form
from portal.models import AwardType, Cluster, EmulationYear, Nomination, ReviewMeeting, Tally
from portal.models.meetings import MeetingStatus
from portal.policy import ClusterYear
from portal.results.views import results_visible
from portal.services.meetings import approved as approved_svc
from portal.services.meetings import awards, ballot, online, record
from portal.services.meetings.approved import Approved
from portal.services.results import report as report_svc


@dataclass
class AwardVote:
    """One award on the meeting page: its quota, who is on the ballot, the vote to count next, what was counted."""

    award: AwardType
    quota: int
    candidates: list[ballot.Candidacy]
    next: ballot.Ballot | None
    tallies: list[Tally]
    nominations: list[Nomination]
    form: object | None


def tally_prefix(award: AwardType) -> str:
    return f"award{award.id}"


def tie_prefix(rank: int) -> str:
    return f"tie{rank}"


def context(
    cluster: Cluster, year: EmulationYear, scope: ClusterYear, meeting: ReviewMeeting | None, forms: dict | None = None
) -> dict:
    """Everything the page's template reads; `forms` holds a submitted form to show back with its errors."""
    forms = forms or {}
    kinds = awards.award_types(db.session)
    in_force = awards.quotas(db.session, year, [cluster.id], kinds)
    leads = may(scope, "run_meeting")
    found = {
        "cluster": cluster,
        "year": year,
        "scope": scope,
        "meeting": meeting,
        "awards": kinds,
        "quotas": {a.id: in_force[(cluster.id, a.id)] for a in kinds},
        "leads": leads,
        "runs": leads and meeting is not None and meeting.status == MeetingStatus.OPEN,
        "results_link": results_visible(cluster.id, year.id),
        "forms": forms,
        "band_label": report_svc.band_label,
    }
    if meeting is None:
        found["record_form"] = forms.get("record") or RecordForm(formdata=None)
        return found
    table = approved_svc.approved_table(db.session, meeting) if found["results_link"] else None
    attendance = record.attendance(db.session, meeting)
    found.update(
        record_form=forms.get("record") or RecordForm(formdata=None, obj=meeting),
        attendance=attendance,
        attendance_forms={unit.id: _attendance_form(unit.id, row, forms) for unit, row in attendance},
        quorum=record.quorum(db.session, meeting),
        guests=record.guests(db.session, meeting),
        guest_form=forms.get("guest") or GuestForm(formdata=None),
        table=table,
        adjustment_form=_adjustment_form(table, forms.get("adjustment")),
        tie_forms=_tie_forms(table, forms),
        votes=_votes(meeting, table, kinds, found["quotas"], forms) if table else [],
        nominations=ballot.nominations(db.session, meeting),
        tallies=ballot.tallies(db.session, meeting),
        online=online.panel(db.session, meeting),
    )
    found["documents"] = document_views.links(cluster, year, scope, meeting, found["nominations"])
    return found


def _attendance_form(unit_id: int, row, forms: dict) -> AttendanceForm:
    prefix = f"unit{unit_id}"
    if prefix in forms:
        return forms[prefix]
    return AttendanceForm(formdata=None, obj=row, prefix=prefix)


def _adjustment_form(table: Approved | None, submitted) -> AdjustmentForm | None:
    if table is None:
        return None
    form = submitted or AdjustmentForm(formdata=None)
    form.unit_id.choices = [(r.approved.unit_id, r.approved.name) for r in table.rows]
    leaves = table.rows[0].engine.leaves if table.rows else ()
    paths, titles = table.report.paths, table.report.titles
    form.criterion_id.choices = [
        (leaf.criterion_id, f"{paths.get(leaf.criterion_id, leaf.code)}. {titles.get(leaf.criterion_id, '')}")
        for leaf in leaves
    ]
    return form


def _tie_forms(table: Approved | None, forms: dict) -> dict:
    """rank → the form of the tie at that rank (the submitted one, or one filled with the stored decisions)."""
    if table is None:
        return {}
    found = {}
    for rank, rows in table.ties():
        submitted = forms.get(tie_prefix(rank))
        if submitted is not None:
            found[rank] = submitted
            continue
        data = {f"place_{r.approved.unit_id}": r.place for r in rows} | {
            f"votes_{r.approved.unit_id}": r.votes for r in rows
        }
        found[rank] = tie_form([r.approved.unit_id for r in rows], formdata=None, data=data, prefix=tie_prefix(rank))
    return found


def _votes(meeting: ReviewMeeting, table: Approved, kinds: list[AwardType], quotas: dict, forms: dict) -> list:
    counted = ballot.tallies(db.session, meeting)
    nominated = ballot.nominations(db.session, meeting)
    found = []
    for award in kinds:
        upcoming = ballot.next_ballot(db.session, meeting, table, award)
        form = None
        if upcoming is not None:
            form = forms.get(tally_prefix(award)) or tally_form(
                upcoming.unit_ids,
                formdata=None,
                prefix=tally_prefix(award),
                data={"committee": meeting.counting_committee},
            )
        found.append(
            AwardVote(
                award=award,
                quota=quotas[award.id][0],
                candidates=ballot.candidates(table, award),
                next=upcoming,
                tallies=[t for t in counted if t.award_type_id == award.id],
                nominations=[n for n in nominated if n.award_type_id == award.id],
                form=form,
            )
        )
    return found
