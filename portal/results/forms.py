"""Forms of the pages that set how results are computed: a cluster-year's settings, the bands of a year."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import FieldList, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import InputRequired, StopValidation

from portal.forms import REQUIRED, PortalForm, VNDateField, VNDecimalField, max_length, required
from portal.models.org import CLUSTER_KINDS
from portal.models.results import BASES, FLOOR_LEVELS, INELIGIBILITY_KINDS, NON_PARTICIPATION, SCALE_MODES, TieBreaker
from portal.services.results.bands import CODES
from portal.services.results.inputs import Settings, TieRule

EVERY_KIND = ""
KIND_CHOICES = [(EVERY_KIND, _l("Mọi cụm, khối")), *((code, _l(label)) for code, label in CLUSTER_KINDS.items())]
HUNDREDTH = Decimal("0.01")


def percent(_form, field):
    """A percentage above 0, at most 100, with at most two decimals (a share of four)."""
    value = field.data
    if value is None:
        return
    if not Decimal(0) < value <= Decimal(100):
        raise StopValidation(_l("Nhập một tỷ lệ lớn hơn 0 và không quá 100 %."))
    if value != value.quantize(HUNDREDTH):
        raise StopValidation(_l("Tối đa 2 chữ số thập phân."))


def weight(_form, field):
    """A percentage from 0 to 100 with at most two decimals."""
    value = field.data
    if value is None:
        return
    if not Decimal(0) <= value <= Decimal(100):
        raise StopValidation(_l("Nhập một tỷ lệ từ 0 đến 100 %."))
    if value != value.quantize(HUNDREDTH):
        raise StopValidation(_l("Tối đa 2 chữ số thập phân."))


def _percent_field(label, check=percent):
    return VNDecimalField(label, validators=[InputRequired(REQUIRED), check], render_kw={"inputmode": "decimal"})


def _as_percent(share: Decimal) -> Decimal:
    return (share * 100).normalize()


def _choices(labels: dict) -> list[tuple[str, str]]:
    return [(code, _l(label)) for code, label in labels.items()]


NO_TIE_RULE = ""
SECTION_PREFIX = "section:"
TIE_SLOTS = 3  # every tie-breaker there is: fewer deductions, more at maximum, one section (or more)


class SettingsForm(PortalForm):
    """How a cluster-year's results are computed; shares are typed as percentages."""

    basis = RadioField(_l("Cách tính điểm"), choices=_choices(BASES))
    trim_min_reviewers = IntegerField(
        _l("Số đơn vị chấm tối thiểu để bỏ một điểm cao nhất và một điểm thấp nhất"),
        validators=[InputRequired(REQUIRED)],
        render_kw={"inputmode": "numeric"},
    )
    self_weight = _percent_field(_l("Trọng số điểm tự chấm khi kết hợp (%)"), weight)
    scale_mode = RadioField(_l("So sánh tổng điểm"), choices=_choices(SCALE_MODES))
    tie_rules = FieldList(
        SelectField(_l("Tiêu chí phân định"), choices=[]), min_entries=TIE_SLOTS, max_entries=TIE_SLOTS
    )
    non_participation = RadioField(_l("Đơn vị không chấm chéo"), choices=_choices(NON_PARTICIPATION))
    non_participation_points = VNDecimalField(
        _l("Số điểm trừ khi không chấm chéo"), validators=[InputRequired(REQUIRED)]
    )
    floor_level = RadioField(_l("Xét tỷ lệ tối thiểu của xếp loại ở"), choices=_choices(FLOOR_LEVELS))
    reviewer_bias_share = _percent_field(_l("Cảnh báo người chấm lệch quá (% tổng điểm chuẩn)"))
    self_excess_share = _percent_field(_l("Cảnh báo tự chấm cao hơn chấm chéo quá (% tổng điểm chuẩn)"))
    mutual_share = _percent_field(_l("Cảnh báo cặp chấm cao cho nhau quá (% tổng điểm chuẩn)"))

    def offer_sections(self, sections) -> None:
        """The tie-breakers to choose from: none, the two counts, the table's scored sections."""
        choices = [
            (NO_TIE_RULE, _l("— Không —")),
            *((str(b), _l(b.label)) for b in TieBreaker if b is not TieBreaker.SECTION),
            *(
                (f"{SECTION_PREFIX}{s.id}", _l("Điểm cao hơn ở phần %(code)s. %(title)s", code=s.code, title=s.title))
                for s in sections
            ),
        ]
        for entry in self.tie_rules:
            entry.choices = choices

    def fill(self, chosen: Settings) -> None:
        self.basis.data = str(chosen.basis)
        self.trim_min_reviewers.data = chosen.trim_min_reviewers
        self.self_weight.data = _as_percent(chosen.self_weight)
        self.scale_mode.data = str(chosen.scale_mode)
        rules = [
            f"{SECTION_PREFIX}{r.section_id}" if r.breaker is TieBreaker.SECTION else str(r.breaker)
            for r in chosen.tie_rules
        ]
        for entry, value in zip(self.tie_rules, [*rules, *[NO_TIE_RULE] * TIE_SLOTS], strict=False):
            entry.data = value
        self.non_participation.data = str(chosen.non_participation)
        self.non_participation_points.data = chosen.non_participation_points
        self.floor_level.data = str(chosen.floor_level)
        for name in ("reviewer_bias_share", "self_excess_share", "mutual_share"):
            getattr(self, name).data = _as_percent(getattr(chosen, name))

    def settings(self) -> Settings:
        """The choices as the engine's settings (the bands are the secretariat's, not part of them)."""
        rules = []
        for value in (entry.data for entry in self.tie_rules):
            if value.startswith(SECTION_PREFIX):
                rules.append(TieRule(TieBreaker.SECTION, int(value.removeprefix(SECTION_PREFIX))))
            elif value:
                rules.append(TieRule(TieBreaker(value)))
        return Settings(
            basis=self.basis.data,
            trim_min_reviewers=self.trim_min_reviewers.data,
            self_weight=self.self_weight.data / 100,
            scale_mode=self.scale_mode.data,
            tie_rules=tuple(rules),
            non_participation=self.non_participation.data,
            non_participation_points=self.non_participation_points.data,
            floor_level=self.floor_level.data,
            reviewer_bias_share=self.reviewer_bias_share.data / 100,
            self_excess_share=self.self_excess_share.data / 100,
            mutual_share=self.mutual_share.data / 100,
        )


class BandsForm(PortalForm):
    """The three bands of a year for one kind of cluster (or for every kind), as percentages."""

    cluster_kind = SelectField(_l("Áp dụng cho"), choices=KIND_CHOICES, default=EVERY_KIND)
    xuat_sac_total = _percent_field(_l("Tổng điểm tối thiểu (% tổng điểm chuẩn)"))
    xuat_sac_floor = _percent_field(_l("Mỗi tiêu chí tối thiểu (% điểm tối đa)"))
    tot_total = _percent_field(_l("Tổng điểm tối thiểu (% tổng điểm chuẩn)"))
    tot_floor = _percent_field(_l("Mỗi tiêu chí tối thiểu (% điểm tối đa)"))
    hoan_thanh_total = _percent_field(_l("Tổng điểm tối thiểu (% tổng điểm chuẩn)"))
    hoan_thanh_floor = _percent_field(_l("Mỗi tiêu chí tối thiểu (% điểm tối đa)"))

    def fill(self, bands) -> None:
        """Show the bands in force (shares) as percentages."""
        for band in bands:
            getattr(self, f"{band.code}_total").data = _as_percent(band.min_total_share)
            getattr(self, f"{band.code}_floor").data = _as_percent(band.min_floor_share)

    def shares(self) -> dict[str, tuple[Decimal, Decimal]]:
        """Band code → (share of the declared total, floor share), as the bands service takes them."""
        return {
            code: (getattr(self, f"{code}_total").data / 100, getattr(self, f"{code}_floor").data / 100)
            for code in CODES
        }

    def kind(self) -> str | None:
        return self.cluster_kind.data or None


class BandsResetForm(PortalForm):
    """Back to the bands for every kind (or the defaults) for the chosen kind."""

    cluster_kind = SelectField(choices=KIND_CHOICES, default=EVERY_KIND)


class IneligibilityForm(PortalForm):
    """Mark a member unit not eligible for awards, with a reason and a period."""

    unit_id = SelectField(_l("Đơn vị"), coerce=int, validators=[required()])
    kind = SelectField(_l("Trường hợp"), choices=_choices(INELIGIBILITY_KINDS))
    reason = TextAreaField(
        _l("Lý do (căn cứ, số văn bản nếu có)"), validators=[required(), max_length(4000)], render_kw={"rows": 2}
    )
    starts_on = VNDateField(_l("Từ ngày"))  # empty: the service asks for it; a bad date: its own message
    ends_on = VNDateField(_l("Đến ngày (không bắt buộc)"))


class EndIneligibilityForm(PortalForm):
    ends_on = VNDateField(_l("Ngày kết thúc"))


NO_REASON = _l("Nêu lý do tiêu chí không áp dụng cho đơn vị.")


class NotApplicableForm(PortalForm):
    """Mark a scored leaf "không áp dụng" for a member unit, with the reason (the same pair again: a new reason)."""

    unit_id = SelectField(_l("Đơn vị"), coerce=int, validators=[required()])
    criterion_id = SelectField(_l("Tiêu chí"), coerce=int, validators=[required()])
    reason = TextAreaField(_l("Lý do"), validators=[required(NO_REASON), max_length(2000)], render_kw={"rows": 2})


class NotApplicableReasonForm(PortalForm):
    """A new reason for a mark."""

    reason = TextAreaField(_l("Lý do"), validators=[required(NO_REASON), max_length(2000)], render_kw={"rows": 2})
