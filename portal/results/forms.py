"""Forms of the pages that set how results are computed: the classification bands of a year."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import InputRequired, StopValidation

from portal.forms import REQUIRED, PortalForm, VNDecimalField
from portal.models.org import CLUSTER_KINDS
from portal.services.results.bands import CODES

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


def _percent_field(label):
    return VNDecimalField(label, validators=[InputRequired(REQUIRED), percent], render_kw={"inputmode": "decimal"})


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
            getattr(self, f"{band.code}_total").data = (band.min_total_share * 100).normalize()
            getattr(self, f"{band.code}_floor").data = (band.min_floor_share * 100).normalize()

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
