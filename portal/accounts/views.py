"""User accounts: list, search, create with a temporary password, edit in place, lock, reset password.

A temporary password exists only in the response that shows it: never in the
session, a flash, a redirect or the audit log. Those responses are therefore
rendered straight from the POST (not Post/Redirect/Get) and marked no-store.
"""

from functools import partial

from flask import Blueprint, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager

from portal import vntext
from portal.access import get_or_404, require
from portal.accounts.forms import AccountEditForm, AccountFilterForm, AccountForm
from portal.extensions import db
from portal.forms import done, edit_in_place, saved
from portal.htmx import hx_redirect, hx_trigger, render
from portal.models import CouncilMember, Unit, User
from portal.models.users import USER_KINDS
from portal.routing import paginate
from portal.services.platform import accounts

bp = Blueprint("accounts", __name__, url_prefix="/accounts")


def _filtered(filters: AccountFilterForm):
    # The joins serve both the search and the eager load: one query for the page, one for the count.
    query = (
        select(User)
        .outerjoin(User.unit)
        .outerjoin(User.council_member)
        .options(contains_eager(User.unit), contains_eager(User.council_member))
        .order_by(User.username)
    )
    if filters.q.data:
        like = vntext.like_pattern(filters.q.data)
        columns = (User.search_key, Unit.search_key, CouncilMember.search_key)
        query = query.where(or_(*(column.like(like, escape="\\") for column in columns)))
    if filters.kind.data in USER_KINDS:
        query = query.where(User.kind == filters.kind.data)
    if filters.status.data in ("active", "inactive"):
        query = query.where(User.active == (filters.status.data == "active"))
    return paginate(query)


def _with_choices(form: AccountForm) -> AccountForm:
    units = db.session.scalars(select(Unit).where(Unit.active).order_by(Unit.sort_key))
    members = db.session.scalars(select(CouncilMember).where(CouncilMember.active).order_by(CouncilMember.sort_key))
    form.unit_id.choices = [(0, _("— Chọn đơn vị —"))] + [(u.id, u.name) for u in units]
    form.council_member_id.choices = [(0, _("— Chọn thành viên Hội đồng —"))] + [
        (m.id, f"{m.full_name} – {m.position}" if m.position else m.full_name) for m in members
    ]
    return form


def _index(form: AccountForm, status: int = 200, **result):
    filters = AccountFilterForm(request.args)
    filters.validate()
    block = "create_form" if request.method == "POST" else "results"
    return render(
        "accounts/index.html",
        block=block,
        status=status,
        form=form,
        filters=filters,
        page=_filtered(filters),
        without_account=accounts.count_units_without_account(db.session),
        **result,
    )


def _secret(response):
    """The response shows a temporary password: no cache may keep it."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
@require("manage_users")
def index():
    """List accounts with search and filters; the results block is the htmx fragment."""
    return _index(_with_choices(AccountForm(formdata=None)))


@bp.post("/")
@require("manage_users")
def create():
    """Create an account; its temporary password is shown once, in this response only."""
    form = _with_choices(AccountForm())
    if form.validate_on_submit():
        fields = {k: form[k].data for k in ("kind", "username", "full_name", "email", "unit_id", "council_member_id")}
        ok, created = saved(form, lambda: accounts.create_user(db.session, **fields))
        if ok:
            user, password = created
            response = _index(_with_choices(AccountForm(formdata=None)), created=user, temporary_password=password)
            return _secret(hx_trigger(response, "accounts-changed"))
    return _index(form, status=422)


@bp.get("/<int:user_id>")
@require("manage_users")
def show(user_id: int):
    """An account's card: details, password reset, lock or unlock, history."""
    return render("accounts/show.html", user=get_or_404(User, user_id))


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@require("manage_users")
def edit(user_id: int):
    """Edit in place: GET gives the row form (or a page), POST saves and gives the row back."""
    user = get_or_404(User, user_id)
    form = AccountEditForm(obj=user) if request.method == "GET" else AccountEditForm()
    update = partial(
        accounts.update_user,
        db.session,
        user,
        full_name=form.full_name.data,
        email=form.email.data,
        active=form.active.data,
        acting_user_id=current_user.id,
    )
    return edit_in_place(
        form,
        update,
        row=lambda: render("accounts/_row.html", user=user),
        message=_("Đã lưu tài khoản."),
        card_url=url_for("accounts.show", user_id=user.id),
        fragment="accounts/_row_form.html",
        page="accounts/edit.html",
        user=user,
    )


@bp.get("/<int:user_id>/row")
@require("manage_users")
def row(user_id: int):
    """The read-only row (cancel of an in-place edit)."""
    return render("accounts/_row.html", user=get_or_404(User, user_id))


@bp.post("/<int:user_id>/reset-password")
@require("manage_users")
def reset_password(user_id: int):
    """Issue a new temporary password, shown once; the user must change it at the next sign-in."""
    user = get_or_404(User, user_id)
    outcome = done(lambda: accounts.reset_password(db.session, user, current_user.id), flash_category=None)
    if not outcome.ok:
        return render("accounts/show.html", block="account", status=422, user=user, error=outcome.result)
    return _secret(render("accounts/show.html", block="account", user=user, temporary_password=outcome.result))


@bp.post("/<int:user_id>/deactivate")
@require("manage_users")
def deactivate(user_id: int):
    """Lock an account: it can no longer sign in."""
    return _set_active(get_or_404(User, user_id), False, _("Đã khóa tài khoản; người dùng không đăng nhập được nữa."))


@bp.post("/<int:user_id>/reactivate")
@require("manage_users")
def reactivate(user_id: int):
    """Unlock an account."""
    return _set_active(get_or_404(User, user_id), True, _("Đã mở khóa tài khoản."))


def _set_active(user: User, active: bool, message: str):
    outcome = done(lambda: accounts.set_active(db.session, user, active, current_user.id), flash_category=None)
    if not outcome.ok:
        return render("accounts/show.html", block="account", status=422, user=user, error=outcome.result)
    flash(message, "success")
    return hx_redirect(url_for("accounts.show", user_id=user.id))


@bp.get("/unit-accounts")
@require("manage_users")
def unit_accounts():
    """Confirm page: the active units without an account that one click will provide for."""
    return render(
        "accounts/unit_accounts.html",
        units=accounts.units_without_account(db.session),
        total=accounts.count_units_without_account(db.session),
        limit=accounts.BULK_LIMIT,
    )


@bp.post("/unit-accounts")
@require("manage_users")
def create_unit_accounts():
    """Create one account for each active unit without one; the passwords are shown once, here."""

    def create_all() -> list[tuple[str, str, str]]:
        created = accounts.create_unit_accounts(db.session)
        return [(user.unit.name, user.username, password) for user, password in created]

    ok, rows = done(create_all, flash_category="warning")
    if not ok:
        return hx_redirect(url_for("accounts.index"))
    return _secret(
        render(
            "accounts/unit_accounts.html",
            rows=rows,
            limit=accounts.BULK_LIMIT,
            total=accounts.count_units_without_account(db.session),
        )
    )
