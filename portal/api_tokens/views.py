"""“Khóa API”: every signed-in user's own API tokens — list, create (the secret is shown once), revoke.

Like a temporary password, a new secret exists only in the response that shows it
(rendered straight from the POST, marked no-store); the portal keeps its hash.
A user reaches only their own tokens: anyone else's is 404.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.api_tokens.forms import TokenForm
from portal.extensions import db
from portal.forms import saved
from portal.htmx import hx_redirect, hx_trigger, is_fragment_request, render
from portal.models import ApiToken
from portal.models.base import utcnow
from portal.services.platform import api_tokens

bp = Blueprint("api_tokens", __name__, url_prefix="/account/tokens")


def _page(form: TokenForm, status: int = 200, block: str | None = None, **extra):
    response = render(
        "api_tokens/index.html",
        block=block,
        status=status,
        form=form,
        tokens=api_tokens.tokens_of(db.session, current_user),
        now=utcnow(),
        **extra,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
@login_required
def index():
    """The user's tokens and the form to create one; the list alone for htmx (after a change)."""
    return _page(TokenForm(formdata=None), block="token_list")


@bp.post("/")
@login_required
def create():
    """Create a token; its secret is shown once, in this response only."""
    form = TokenForm()
    if form.validate_on_submit():
        ok, created = saved(
            form, lambda: api_tokens.create(db.session, current_user, form.name.data, form.expires_on.data)
        )
        if ok:
            token, secret = created
            response = _page(TokenForm(formdata=None), block="create_form", created=token, secret=secret)
            return hx_trigger(response, "api-tokens-changed")
    return _page(form, status=422, block="create_form")


@bp.post("/<id:token_id>/revoke")  # the bounded id converter (portal/routing.py)
@login_required
def revoke(token_id: int):
    """Revoke one of the user's own tokens; calls with it get 401 from now on."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    api_tokens.revoke(db.session, token)
    db.session.commit()
    if is_fragment_request():
        return _page(TokenForm(formdata=None), block="token_list")
    flash(_("Đã thu hồi khóa API “%(name)s”.", name=token.name), "success")
    return hx_redirect(url_for("api_tokens.index"))
