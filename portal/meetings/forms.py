"""Forms of the meeting pages. Forms with a field per unit or per award (tie, tally, quotas) are built for the
units and awards at hand; the services check every rule and name the field a message belongs to."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import NumberRange

from portal.forms import Optional, PortalForm, VNDateField, VNDecimalField, max_length, required
from portal.models.meetings import QUORUM_RULES, THRESHOLD_BASES, THRESHOLDS
from portal.services.meetings import ballot, record
from portal.services.meetings.rules import Rules

COUNT = NumberRange(min=0, max=100_000, message=_l("Nhập một số nguyên từ 0 trở lên."))


class RecordForm(PortalForm):
    held_on = VNDateField(_l("Ngày họp"), validators=[required()])
    place = StringField(_l("Địa điểm"), validators=[required(), max_length(255)])
    chair = StringField(_l("Chủ trì hội nghị"), validators=[required(), max_length(255)])
    secretary = StringField(_l("Thư ký hội nghị"), validators=[required(), max_length(255)])
    counting_committee = TextAreaField(
        _l("Ban kiểm phiếu (mỗi người một dòng)"), validators=[Optional(), max_length(2000)], render_kw={"rows": 3}
    )

    def fields(self) -> record.RecordFields:
        return record.RecordFields(
            self.held_on.data,
            self.place.data or "",
            self.chair.data or "",
            self.secretary.data or "",
            self.counting_committee.data or "",
        )


class AttendanceForm(PortalForm):
    present = BooleanField(_l("Có mặt"))
    representative = StringField(_l("Người dự họp"), validators=[Optional(), max_length(255)])
    position = StringField(_l("Chức vụ"), validators=[Optional(), max_length(255)])


class GuestForm(PortalForm):
    name = StringField(_l("Họ và tên khách mời"), validators=[required(), max_length(255)])
    position = StringField(_l("Chức vụ, cơ quan"), validators=[Optional(), max_length(255)])


class AdjustmentForm(PortalForm):
    unit_id = SelectField(_l("Đơn vị"), coerce=int, validate_choice=False)
    criterion_id = SelectField(_l("Tiêu chí"), coerce=int, validate_choice=False)
    points = VNDecimalField(_l("Điểm hội nghị thống nhất"), places=2, validators=[Optional()])
    reason = TextAreaField(_l("Lý do thay đổi"), validators=[Optional(), max_length(2000)], render_kw={"rows": 2})


class VoteRulesForm(PortalForm):
    quorum = RadioField(_l("Số thành viên có mặt tối thiểu"), choices=list(QUORUM_RULES.items()))
    threshold = RadioField(_l("Số phiếu cần để được suy tôn"), choices=list(THRESHOLDS.items()))
    threshold_base = RadioField(_l("Tính trên"), choices=list(THRESHOLD_BASES.items()))

    def rules(self) -> Rules:
        return Rules(self.quorum.data, self.threshold.data, self.threshold_base.data)


def _count(label=""):
    return IntegerField(label, validators=[Optional(), COUNT])


class TallyBase(PortalForm):
    issued = _count(_l("Số phiếu phát ra"))
    returned = _count(_l("Số phiếu thu vào"))
    valid = _count(_l("Số phiếu hợp lệ"))
    invalid = _count(_l("Số phiếu không hợp lệ"))
    committee = TextAreaField(
        _l("Ban kiểm phiếu (mỗi người một dòng)"), validators=[Optional(), max_length(2000)], render_kw={"rows": 2}
    )

    unit_ids: list[int] = []

    def fields(self) -> ballot.TallyFields:
        votes = {i: getattr(self, f"votes_{i}").data for i in self.unit_ids}
        return ballot.TallyFields(
            self.issued.data, self.returned.data, self.valid.data, self.invalid.data, votes, self.committee.data or ""
        )

    def vote_field(self, unit_id: int):
        return getattr(self, f"votes_{unit_id}")


def tally_form(unit_ids: list[int], **kwargs) -> TallyBase:
    """The committee's tally of one vote: the ballots, and a field of votes per candidate on it."""
    form_class = type("TallyForm", (TallyBase,), {f"votes_{i}": _count() for i in unit_ids})
    form_class.unit_ids = list(unit_ids)
    return form_class(**kwargs)


class TieBase(PortalForm):
    unit_ids: list[int] = []

    def places(self) -> dict[int, int | None]:
        return {i: getattr(self, f"place_{i}").data for i in self.unit_ids}

    def votes(self) -> dict[int, int | None]:
        return {i: getattr(self, f"votes_{i}").data for i in self.unit_ids}

    def pair(self, unit_id: int):
        return getattr(self, f"place_{unit_id}"), getattr(self, f"votes_{unit_id}")


def tie_form(unit_ids: list[int], **kwargs) -> TieBase:
    """The meeting's vote on a tie: each unit's place in it (1 first) and the votes it got."""
    fields = {f"place_{i}": _count() for i in unit_ids} | {f"votes_{i}": _count() for i in unit_ids}
    form_class = type("TieForm", (TieBase,), fields)
    form_class.unit_ids = list(unit_ids)
    return form_class(**kwargs)


class QuotaBase(PortalForm):
    award_ids: list[int] = []

    def counts(self) -> dict[int, int | None]:
        return {i: getattr(self, f"award_{i}").data for i in self.award_ids}

    def award_field(self, award_id: int):
        return getattr(self, f"award_{award_id}")


def quota_form(award_ids: list[int], **kwargs) -> QuotaBase:
    """One cluster's quotas: a field per award type."""
    form_class = type("QuotaForm", (QuotaBase,), {f"award_{i}": _count() for i in award_ids})
    form_class.award_ids = list(award_ids)
    return form_class(**kwargs)
