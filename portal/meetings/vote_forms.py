"""Forms of the online ballot: a voter's ballot (a group of checkboxes per award, at most its seats, built
for the window's papers) and the receipt code a voter types to change its ballot or to check it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, StringField
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import Optional, PortalForm, required
from portal.services.meetings import online

CODE = Length(max=40, message=_l("Mã biên nhận gồm 16 ký tự (chữ A–Z và số 2–7)."))


class Checkboxes(SelectMultipleField):
    """Candidates as checkboxes (a thumb picks them better than a multiple select on a phone)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class BallotBase(PortalForm):
    code = StringField(_l("Mã biên nhận"), validators=[Optional(), CODE])

    award_ids: list[int] = []

    def choices(self) -> dict[int, list[int]]:
        return {award_id: list(getattr(self, f"award_{award_id}").data or []) for award_id in self.award_ids}

    def award_field(self, award_id: int):
        return getattr(self, f"award_{award_id}")


def ballot_form(papers: list[online.Paper], labels: dict[int, str], names: dict[int, str], **kwargs) -> BallotBase:
    """The ballot of a window: per award its candidates (unit id → name), at most `seats` ticked."""

    class BallotForm(BallotBase):
        pass

    for paper in papers:
        choices = [(unit_id, names.get(unit_id, "")) for unit_id in paper.unit_ids]
        field = Checkboxes(labels.get(paper.award_id, ""), coerce=int, choices=choices, validators=[Optional()])
        setattr(BallotForm, f"award_{paper.award_id}", field)
    BallotForm.award_ids = [p.award_id for p in papers]
    return BallotForm(**kwargs)


class ReceiptForm(PortalForm):
    code = StringField(
        _l("Mã biên nhận"),
        validators=[required(), CODE],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
