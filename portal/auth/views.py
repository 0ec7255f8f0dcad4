"""Sign in, sign out, change password, one's own sign-in sessions, choose language."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.auth.current import current_session, sign_in, sign_out
from portal.auth.forms import ChangePasswordForm, LoginForm
from portal.extensions import db
from portal.forms import EmptyForm
from portal.htmx import hx_redirect, render
from portal.redirects import safe_next
from portal.services.platform import accounts, sessions
from portal.services.platform.throttle import sign_in_throttle

bp = Blueprint("auth", __name__)
BAD_LOGIN = _l("Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản tạm thời bị khóa.")


def _throttle():
    cfg = current_app.config
    return sign_in_throttle(
        db.session,
        cfg["REDIS_URL"],
        per_address=cfg["LOGIN_MAX_FAILURES"],
        per_user=cfg["LOGIN_MAX_FAILURES_PER_USER"],
        lock_seconds=cfg["LOGIN_LOCK_SECONDS"],
    )


def _refused(form: LoginForm):
    form.password.errors.append(BAD_LOGIN)
    return render_template("auth/login.html", form=form), 422


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in; the same answer, after the same work, for an unknown user, a wrong password and a lock."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 422 if form.errors else 200
    attempt = accounts.authenticate(
        db.session, form.username.data, form.password.data, throttle=_throttle(), address=request.remote_addr
    )
    if attempt.user is None:
        db.session.commit()  # the failure counts and its audit entry (a locked attempt has neither)
        return _refused(form)
    sign_in(attempt.user, remember=form.remember.data)
    db.session.commit()
    return redirect(safe_next(request.args.get("next")), code=303)


@bp.post("/logout")
@login_required
def logout():
    """Sign out (POST only, with CSRF): this session ends on the server too."""
    if EmptyForm().validate_on_submit():
        sign_out(current_user._get_current_object())
        db.session.commit()
    return redirect(url_for("auth.login"), code=303)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password; forced at first sign-in."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(_("Mật khẩu hiện tại không đúng."))
        elif form.new_password.data == form.current_password.data:
            form.new_password.errors.append(_("Mật khẩu mới phải khác mật khẩu hiện tại."))
        else:
            accounts.change_password(db.session, current_user, form.new_password.data, keep=current_session())
            db.session.commit()
            flash(_("Đã đổi mật khẩu; các phiên đăng nhập khác đã kết thúc."), "success")
            return redirect(url_for("home.index"), code=303)
    status = 422 if form.errors else 200
    return render_template("auth/change_password.html", form=form), status


@bp.post("/language/<lang>")
def set_language(lang: str):
    """Switch the interface language (Vietnamese by default); a signed-in user's e-mail digest follows it."""
    if lang in current_app.config["LANGUAGES"] and EmptyForm().validate_on_submit():
        session["lang"] = lang
        if current_user.is_authenticated and current_user.locale != lang:
            current_user.locale = lang
            db.session.commit()
    return redirect(safe_next(request.form.get("next")), code=303)


@bp.get("/account/sessions")
@login_required
def sessions_page():
    """The user's live sign-in sessions (device, address, started, last seen), each of which they may end."""
    response = render(
        "auth/sessions.html",
        records=sessions.live_sessions(db.session, current_user),
        current=current_session(),
        describe_agent=sessions.describe_agent,
        form=EmptyForm(),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/account/sessions/<id:session_id>/end")
@login_required
def end_session(session_id: int):
    """End one of one's own sessions (another user's is not found); ending this one signs out."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        sessions.end_own_session(db.session, current_user, session_id)
    except LookupError:
        abort(404)
    db.session.commit()
    flash(_("Đã kết thúc phiên đăng nhập."), "success")
    return hx_redirect(url_for("auth.sessions_page"))


@bp.post("/account/sessions/end-others")
@login_required
def end_other_sessions():
    """End every session of the user but this one."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    ended = sessions.end_other_sessions(db.session, current_user, current_session())
    db.session.commit()
    flash(_("Đã kết thúc %(count)d phiên đăng nhập khác.", count=ended), "success")
    return hx_redirect(url_for("auth.sessions_page"))
