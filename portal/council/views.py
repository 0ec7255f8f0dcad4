"""Members of the Emulation and Commendation Council: list, search, edit in place, what they oversee."""

from flask import Blueprint, flash, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import case, func, select

from portal import vntext
from portal.access import current_year, get_or_404, require
from portal.council.forms import ConfirmForm, CouncilFilterForm, CouncilMemberForm
from portal.extensions import db
from portal.forms import edit_in_place, saved
from portal.htmx import hx_redirect, render
from portal.models import Cluster, CouncilMember, EmulationYear, Term, User
from portal.models.org import COUNCIL_ROLES
from portal.routing import paginate
from portal.services.org import cluster_year
from portal.services.org import structure as org

bp = Blueprint("council", __name__, url_prefix="/council")
FIELDS = ("full_name", "position", "organisation", "council_role", "phone", "email")
# The chairman first, then the vice-chairmen, as a council's list is read.
ROLE_RANK = case({role: rank for rank, role in enumerate(COUNCIL_ROLES)}, value=CouncilMember.council_role, else_=99)


def _filtered(filters: CouncilFilterForm):
    query = select(CouncilMember).order_by(ROLE_RANK, CouncilMember.sort_key, CouncilMember.id)
    if filters.q.data:
        query = query.where(CouncilMember.search_key.like(vntext.like_pattern(filters.q.data), escape="\\"))
    if filters.council_role.data:
        query = query.where(CouncilMember.council_role == filters.council_role.data)
    if filters.status.data != "all":
        query = query.where(CouncilMember.active == (filters.status.data != "inactive"))
    return paginate(query)


def _overseen_counts(member_ids: list[int]) -> dict[int, int]:
    """How many clusters each member oversees in the current year: one grouped query."""
    year = current_year()
    if year is None or not member_ids:
        return {}
    return dict(
        db.session.execute(
            select(Term.overseer_id, func.count())
            .where(Term.year_id == year.id, Term.overseer_id.in_(member_ids))
            .group_by(Term.overseer_id)
        ).all()
    )


def _index(form: CouncilMemberForm, status: int = 200):
    filters = CouncilFilterForm(request.args)
    filters.validate()
    page = _filtered(filters)
    block = "create_form" if request.method == "POST" else "results"
    return render(
        "council/index.html",
        block=block,
        status=status,
        form=form,
        filters=filters,
        page=page,
        overseen=_overseen_counts([m.id for m in page.items]),
        year=current_year(),
    )


@bp.get("/")
@require("manage_council")
def index():
    """List council members with search and filters; the results block is the htmx fragment."""
    return _index(CouncilMemberForm(formdata=None))


@bp.post("/")
@require("manage_council")
def create():
    """Add a council member; errors come back next to the fields (422)."""
    form = CouncilMemberForm()
    if form.validate_on_submit():
        ok, member = saved(form, lambda: org.save_council_member(db.session, None, **_fields(form)))
        if ok:
            flash(_("Đã thêm thành viên Hội đồng “%(name)s”.", name=member.full_name), "success")
            return hx_redirect(url_for("council.index", q=member.full_name))
    return _index(form, status=422)


def _fields(form: CouncilMemberForm) -> dict:
    return {k: form[k].data for k in FIELDS}


@bp.get("/<int:member_id>")
@require("manage_council")
def show(member_id: int):
    """A council member's card: details, clusters overseen in each year, linked accounts."""
    return render_template("council/show.html", **_show_context(get_or_404(CouncilMember, member_id)))


def _show_context(member: CouncilMember, status_form: ConfirmForm | None = None) -> dict:
    overseen = db.session.execute(
        select(EmulationYear.year, Cluster, Term.decision_number, Term.proposed_by_rotation)
        .join(Term, Term.year_id == EmulationYear.id)
        .join(Cluster, Cluster.id == Term.cluster_id)
        .where(Term.overseer_id == member.id)
        .order_by(EmulationYear.year.desc(), Cluster.kind, Cluster.code)
    ).all()
    users = db.session.scalars(select(User).where(User.council_member_id == member.id).order_by(User.username)).all()
    return {
        "member": member,
        "overseen": overseen,
        "users": users,
        "year": current_year(),
        "status_form": status_form or ConfirmForm(formdata=None),
    }


@bp.route("/<int:member_id>/edit", methods=["GET", "POST"])
@require("manage_council")
def edit(member_id: int):
    """Edit in place: GET gives the row form (or a page), POST saves and gives the row back."""
    member = get_or_404(CouncilMember, member_id)
    form = CouncilMemberForm(obj=member) if request.method == "GET" else CouncilMemberForm()
    return edit_in_place(
        form,
        lambda: org.save_council_member(db.session, member, active=member.active, **_fields(form)),
        row=lambda: _row(member),
        message=_("Đã lưu thành viên Hội đồng."),
        card_url=url_for("council.show", member_id=member.id),
        fragment="council/_row_form.html",
        page="council/edit.html",
        member=member,
    )


def _row(member: CouncilMember):
    return render("council/_row.html", member=member, overseen=_overseen_counts([member.id]), year=current_year())


@bp.get("/<int:member_id>/row")
@require("manage_council")
def row(member_id: int):
    """The read-only row (cancel of an in-place edit)."""
    return _row(get_or_404(CouncilMember, member_id))


@bp.post("/<int:member_id>/active")
@require("manage_council")
def toggle_active(member_id: int):
    """Deactivate a member (not while overseeing a cluster this year), or bring one back."""
    member = get_or_404(CouncilMember, member_id)
    form = ConfirmForm()
    if (
        form.validate_on_submit()
        and saved(
            form, lambda: cluster_year.set_council_member_active(db.session, member, not member.active, current_year())
        ).ok
    ):
        if member.active:
            flash(_("%(name)s: hoạt động trở lại.", name=member.full_name), "success")
        else:
            flash(_("%(name)s: đã ngừng hoạt động.", name=member.full_name), "success")
        return hx_redirect(url_for("council.show", member_id=member.id))
    return render("council/show.html", block="status", status=422, **_show_context(member, status_form=form))
