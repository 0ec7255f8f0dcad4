"""Sign in, sign out, change password, choose language."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select

from portal.auth.forms import ChangePasswordForm, EmptyForm, LoginForm
from portal.extensions import db
from portal.models import User
from portal.models.base import utcnow
from portal.services.audit import Actor, acting_as, record_event
from portal.services.throttle import make_throttle

bp = Blueprint("auth", __name__)
BAD_LOGIN = _l("Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản tạm thời bị khóa.")


def _safe_next(target: str | None) -> str:
    """Only a path on this site: no scheme, no host, no protocol-relative '//'."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("home.index")


def _throttle():
    cfg = current_app.config
    return make_throttle(db.session, cfg["REDIS_URL"], cfg["LOGIN_MAX_FAILURES"], cfg["LOGIN_LOCK_SECONDS"])


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in; the same answer for an unknown user, a wrong password and a locked key."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        keys = (f"user:{username}", f"addr:{request.remote_addr}")
        throttle = _throttle()
        user = db.session.scalar(select(User).where(func.lower(User.username) == username))
        ok = user is not None and user.check_password(form.password.data) and user.active
        if ok and not any(throttle.is_locked(k) for k in keys):
            for key in keys:
                throttle.reset(key)
            user.last_login_at = utcnow()
            login_user(user, remember=form.remember.data)
            with acting_as(Actor(user.id, user.username)):
                record_event(db.session, "login", "Đăng nhập", user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")), code=303)
        for key in keys:
            throttle.fail(key)
        record_event(db.session, "login_failed", f"Đăng nhập thất bại: {username[:64]}")
        db.session.commit()
        form.password.errors.append(BAD_LOGIN)
        return render_template("auth/login.html", form=form), 422
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """Sign out (POST only, with CSRF)."""
    if EmptyForm().validate_on_submit():
        record_event(db.session, "logout", "Đăng xuất", current_user)
        db.session.commit()
        logout_user()
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
            current_user.set_password(form.new_password.data)
            current_user.must_change_password = False
            record_event(db.session, "password", "Đổi mật khẩu", current_user)
            db.session.commit()
            flash(_("Đã đổi mật khẩu."), "success")
            return redirect(url_for("home.index"), code=303)
    status = 422 if form.errors else 200
    return render_template("auth/change_password.html", form=form), status


@bp.post("/language/<lang>")
def set_language(lang: str):
    """Switch the interface language (Vietnamese by default)."""
    if lang in current_app.config["LANGUAGES"] and EmptyForm().validate_on_submit():
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")), code=303)
