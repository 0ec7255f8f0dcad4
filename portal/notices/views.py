"""“Thông báo”: a signed-in user's own notices (newest first, unread marked), opening one, "mark all read",
the bell's count for htmx, the e-mail digest preference, and the digest's unsubscribe link.

Every notice is its user's alone: anyone else's is 404 (access.own_notice). Opening one is a POST
(it marks it read) answered by 303 to the page where the user acts; the bell refreshes on the
`notices-changed` event. The unsubscribe link works without signing in: its token is signed with
SECRET_KEY, and only the POST of its page turns the digest off (a mail scanner's GET changes nothing).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.access import own_notice
from portal.extensions import db
from portal.forms import EmptyForm, form_status, saved
from portal.htmx import hx_redirect, hx_trigger, is_fragment_request, render
from portal.notices.forms import DigestForm
from portal.notices.links import link_of
from portal.routing import paginate
from portal.services.notices import digest, inbox
from portal.services.platform import mail

bp = Blueprint("notices", __name__, url_prefix="/notices")
CHANGED = "notices-changed"


def _page(form: DigestForm | None = None, status: int = 200, block: str | None = "notice_list"):
    if form is None:
        preference = digest.preference(db.session, current_user.id)
        form = DigestForm(formdata=None, digest=bool(preference and preference.digest))
    return render(
        "notices/index.html",
        block=block,
        status=status,
        page=paginate(inbox.newest_first(current_user.id)),
        form=form,
        mail_enabled=mail.configured(current_app.config),
    )


@bp.get("/")
@login_required
def index():
    """The user's notices, newest first; the list alone for htmx (paging, after "mark all read")."""
    return _page()


@bp.get("/bell")
@login_required
def bell():
    """The bell with the unread count, swapped in place when notices change."""
    return render("notices/_bell.html")


@bp.post("/<id:notice_id>/open")
@login_required
def open_notice(notice_id: int):
    """Mark the notice read and go to the page where the user acts (303)."""
    notice = own_notice(notice_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    inbox.mark_read(db.session, notice)
    db.session.commit()
    return hx_redirect(link_of(notice))


@bp.post("/read-all")
@login_required
def read_all():
    """Every unread notice of the user is read now; htmx gets the list back and the bell refreshes."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    count = inbox.mark_all_read(db.session, current_user.id)
    db.session.commit()
    if is_fragment_request():
        return hx_trigger(_page(), CHANGED)
    flash(_("Đã đánh dấu %(num)s thông báo là đã đọc.", num=count), "success")
    return hx_redirect(url_for("notices.index"))


@bp.post("/preferences")
@login_required
def preferences():
    """Turn the daily e-mail digest on or off."""
    form = DigestForm()
    if (
        form.validate_on_submit()
        and saved(form, lambda: digest.set_digest(db.session, current_user, form.digest.data)).ok
    ):
        flash(_("Đã bật thư tổng hợp hằng ngày.") if form.digest.data else _("Đã tắt thư tổng hợp."), "success")
        return hx_redirect(url_for("notices.index"))
    return _page(form, status=form_status(form), block="preferences")


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """The digest's unsubscribe link, without signing in: the page asks, its button turns the digest off."""
    user = digest.user_for_token(db.session, current_app.config["SECRET_KEY"], token)
    if user is None:
        abort(404)
    form = EmptyForm()
    done = form.validate_on_submit()
    if done:
        digest.set_digest(db.session, user, False)
        db.session.commit()
    return render("notices/unsubscribe.html", form=form, user=user, done=done)
