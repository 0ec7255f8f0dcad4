"""The dashboard's filter form (GET: the filter state lives in the URL, so a link can be shared)."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Optional

from portal.forms import PortalForm, max_length
from portal.models.org import CLUSTER_KINDS
from portal.services.monitoring.filters import MINE, SORTS, Filters
from portal.services.monitoring.stages import Stage

SORT_LABELS = {
    "cluster": _l("Tên cụm, khối"),
    "kind": _l("Loại"),
    "head": _l("Trưởng cụm, khối"),
    "overseer": _l("Người phụ trách"),
    "decision": _l("Số quyết định"),
    "stage": _l("Giai đoạn"),
    "late": _l("Số việc chậm trễ"),
    "signed": _l("Tỷ lệ đã ký giao ước"),
    "submitted": _l("Tỷ lệ đã nộp tự chấm"),
    "reviews": _l("Tỷ lệ phiếu chấm đã xong"),
    "leader": _l("Đơn vị dẫn đầu"),
    "score": _l("Điểm dẫn đầu"),
}


class DashboardFilterForm(PortalForm):
    class Meta:
        csrf = False

    year = SelectField(_l("Năm"), choices=[], validate_choice=False)
    q = StringField(_l("Tìm kiếm"), validators=[Optional(), max_length(100)])
    kind = SelectField(
        _l("Loại"), choices=[("", _l("Cụm và khối")), *((k, _l(v)) for k, v in CLUSTER_KINDS.items())], default=""
    )
    stage = SelectField(
        _l("Giai đoạn"), choices=[("", _l("Mọi giai đoạn")), *((s.value, _l(s.label)) for s in Stage)], default=""
    )
    overseer = SelectField(_l("Phụ trách"), choices=[], default="", validate_choice=False)
    late = BooleanField(_l("Chỉ cụm, khối có việc chậm trễ"))
    # the column headers sort too, but a phone shows the table as cards without them: these keep sorting in reach
    sort = SelectField(_l("Sắp xếp theo"), choices=[(s, SORT_LABELS[s]) for s in SORTS], default="cluster")
    dir = SelectField(_l("Chiều sắp xếp"), choices=[("asc", _l("Tăng dần")), ("desc", _l("Giảm dần"))], default="asc")

    def set_choices(self, years: list[int], overseers: list[tuple[int, str]], council_member_id: int | None) -> None:
        """The years that exist and the council members who oversee a cluster this year ("mine" for a member)."""
        self.year.choices = [(str(y), str(y)) for y in years]
        mine = [(MINE, _l("Cụm, khối tôi phụ trách"))] if council_member_id else []
        self.overseer.choices = [("", _l("Mọi thành viên phụ trách")), *mine, *((str(i), n) for i, n in overseers)]

    def filters(self) -> Filters:
        """The filters as the service reads them; a value outside the choices counts as no filter."""
        self.validate()
        overseer = self.overseer.data if self.overseer.data in {c[0] for c in self.overseer.choices} else ""
        return Filters(
            kind=self.kind.data if not self.kind.errors else "",
            stage=self.stage.data if not self.stage.errors else "",
            overseer=overseer or "",
            late_only=bool(self.late.data),
            q=(self.q.data or "").strip() if not self.q.errors else "",
            sort=self.sort.data if not self.sort.errors else "cluster",
            descending=self.dir.data == "desc",
        )
