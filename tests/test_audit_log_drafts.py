"""The audit log viewer and units' drafts: the secretariat sees that a draft changed, not what it says,
until the unit submits (README: a draft belongs to its unit alone, whatever the role)."""

from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Assessment, AuditEntry, Criterion, Evidence
from portal.services.platform.audit import Actor, acting_as
from portal.services.scoring import assessments, evidence
from tests import factories

NOTE = "Giải trình riêng của đơn vị về tiêu chí cải cách"
FILE = "bao-cao-noi-bo-quy-3.pdf"


@pytest.fixture
def draft(world, app, tmp_path):
    """The member's self-assessment, still a draft: a score with its explanation, an evidence file."""
    cset, items = factories.scoring_table(world)
    assessments.open_self_round(db.session, cset)
    db.session.commit()
    own = db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == world.member.id))
    member = world.users["member"]
    with acting_as(Actor(member.id, member.username)):
        assessments.save_score(db.session, own, items["direct"], "20", NOTE, expected_revision=0, user_id=member.id)
        evidence.store(
            db.session,
            own,
            items["direct"],
            FILE,
            BytesIO(b"%PDF-1.4\n%%EOF\n"),
            folder=tmp_path / "evidence",
            max_bytes=1024,
            max_files=3,
            user_id=member.id,
        )
        db.session.commit()
    return own


def _entries(object_type: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == object_type).order_by(AuditEntry.id))
    )


def test_the_log_shows_that_a_draft_changed_not_its_content(draft, auth, client):
    auth.login("secretariat")
    pages = [client.get("/audit-log/"), client.get("/audit-log/?object_type=Score")]
    pages += [client.get(f"/audit-log/{entry.id}") for entry in _entries("Score") + _entries("Evidence")]
    for page in pages:
        assert page.status_code == 200
        assert NOTE not in page.text and FILE not in page.text and "bao-cao-noi-bo" not in page.text
        assert "bản nháp đã thay đổi" in page.text and "trong bản nháp của đơn vị" in page.text
    # the stored entries keep everything (for `flask audit verify` and after submission)
    assert any(NOTE in str(entry.changes) for entry in _entries("Score"))
    assert any(FILE in entry.object_label for entry in _entries("Evidence"))


def test_after_submission_the_log_shows_the_content(draft, auth, client):
    draft.status = "submitted"
    db.session.commit()
    auth.login("secretariat")
    page = client.get("/audit-log/")
    assert NOTE in page.text and FILE in page.text and "bản nháp đã thay đổi" not in page.text
    for entry in _entries("Score"):
        assert NOTE in client.get(f"/audit-log/{entry.id}").text


def test_a_deleted_draft_file_stays_hidden(draft, auth, client):
    """The row is gone; the assessment is found in what the entry logged."""
    record = db.session.scalar(select(Evidence))
    evidence.delete(db.session, record, draft)
    db.session.commit()
    auth.login("secretariat")
    deleted = [e for e in _entries("Evidence") if e.action == "delete"]
    assert deleted
    for entry in deleted:
        page = client.get(f"/audit-log/{entry.id}")
        assert FILE not in page.text and "bản nháp đã thay đổi" in page.text


def test_hiding_drafts_costs_the_same_queries_for_many_entries(draft, auth, client, count_queries, tmp_path):
    auth.login("secretariat")
    client.get("/audit-log/")
    with count_queries() as few:
        client.get("/audit-log/")
    criterion = db.session.get(Criterion, db.session.scalar(select(Evidence.criterion_id)))
    with acting_as(Actor(None, "member")):
        for n in range(12):
            pdf = BytesIO(b"%PDF-1.4\n%%EOF\n")
            evidence.store(
                db.session,
                draft,
                criterion,
                f"tep-{n}.pdf",
                pdf,
                folder=tmp_path,
                max_bytes=1024,
                max_files=99,
                user_id=None,
            )
            assessments.save_score(
                db.session, draft, criterion, str(n), f"ghi chú {n}", expected_revision=None, user_id=None
            )
        db.session.commit()
    with count_queries() as many:
        page = client.get("/audit-log/")
    assert page.text.count("bản nháp đã thay đổi") > 20
    assert many() == few()
