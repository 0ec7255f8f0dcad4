"""Forms of the publication pages: a correction, the choice of two revisions, the council's decision, the share."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import NumberRange

from portal.forms import Optional, PortalForm, VNDateField, VNDecimalField, max_length, required
from portal.models.publication import VERDICTS
from portal.services.publication import council, snapshots

COUNT = NumberRange(min=0, max=100_000, message=_l("Nhập một số nguyên từ 0 trở lên."))


class CorrectionForm(PortalForm):
    unit_id = SelectField(_l("Đơn vị"), coerce=int, validate_choice=False)
    criterion_id = SelectField(_l("Tiêu chí"), coerce=int, validate_choice=False)
    points = StringField(_l("Điểm đúng"), validators=[required(), max_length(16)])
    reason = TextAreaField(_l("Lý do đính chính"), validators=[required(), max_length(2000)], render_kw={"rows": 2})

    def fill(self, content: dict) -> CorrectionForm:
        self.unit_id.choices = [(u["unit_id"], u["name"]) for u in content["table"]]
        leaves = content["input"]["table"]["leaves"]
        self.criterion_id.choices = [
            (leaf["criterion_id"], leaf["code"] or f"#{leaf['criterion_id']}") for leaf in leaves
        ]
        return self

    def correction(self) -> snapshots.Correction:
        return snapshots.Correction(self.unit_id.data or 0, self.criterion_id.data or 0, self.points.data or "")


class DecisionForm(PortalForm):
    votes_for = IntegerField(_l("Phiếu đồng ý"), validators=[Optional(), COUNT])
    votes_against = IntegerField(_l("Phiếu không đồng ý"), validators=[Optional(), COUNT])
    members = IntegerField(_l("Số thành viên biểu quyết"), validators=[Optional(), COUNT])
    verdict = SelectField(_l("Quyết định của Chủ tịch"), choices=list(VERDICTS.items()))
    reason = TextAreaField(
        _l("Lý do (bắt buộc khi không đồng ý)"), validators=[max_length(2000)], render_kw={"rows": 2}
    )
    decision_number = StringField(_l("Số quyết định"), validators=[required(), max_length(64)])
    decided_on = VNDateField(_l("Ngày quyết định"), validators=[required()])

    def fields(self) -> council.DecisionFields:
        return council.DecisionFields(
            self.votes_for.data,
            self.votes_against.data,
            self.members.data,
            self.verdict.data or "",
            self.reason.data or "",
            self.decision_number.data or "",
            self.decided_on.data,
        )


class ShareForm(PortalForm):
    percent = VNDecimalField(_l("Tỷ lệ tối đa (%)"), places=2, validators=[required()])


class ShortlistForm(PortalForm):
    unit_id = SelectField(_l("Đơn vị dẫn đầu"), coerce=int, validate_choice=False)
