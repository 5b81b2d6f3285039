"""Sign-up, log-in and log-out; Flask-Login wiring."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from microblog.extensions import LOG_IN_SCOPE, limiter, login_manager
from microblog.services import accounts, sessions
from microblog.services.errors import NotFound, ServiceError
from microblog.web.helpers import log_in, safe_next, show_error
from models import User

from .forms import LoginForm, SignupForm

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(login_secret: str) -> User | None:
    """Return the user of this log-in; an ended log-in or a deactivated user is logged out."""
    return sessions.user_of_login(login_secret)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.shared_limit(_login_limit, scope=LOG_IN_SCOPE, methods=["POST"])
def login():
    """Show the log-in form; log in."""
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.login.data, form.password.data)
        except ServiceError as error:
            show_error(form, error)
            status = error.status_code
        else:
            log_in(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 422
    return render_template(
        "auth/login.html",
        form=form,
        company_login=bool(current_app.config.get("LDAP_URL")),
        sign_up=current_app.config.get("LOCAL_PASSWORDS", True),
    ), status


@bp.route("/signup", methods=["GET", "POST"])
@limiter.shared_limit(_login_limit, scope=LOG_IN_SCOPE, methods=["POST"])
def signup():
    """Show the sign-up form; create an account and log in (closed without local passwords)."""
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    if not current_app.config.get("LOCAL_PASSWORDS", True):
        raise NotFound(_("Accounts here come from the company directory: log in with your company account."))
    form = SignupForm()
    domains = current_app.config["ALLOWED_EMAIL_DOMAINS"]
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                form.username.data,
                form.email.data,
                form.password.data,
                display_name=form.display_name.data or "",
                allowed_domains=domains,
            )
        except ServiceError as error:
            show_error(form, error)
            status = error.status_code
        else:
            log_in(user)
            flash(_("Welcome! Follow a few colleagues and #tags to fill your home feed."))
            return redirect(url_for("web.people"))
    elif request.method == "POST":
        status = 422
    return render_template(
        "auth/signup.html", form=form, domains=domains, company_login=bool(current_app.config.get("LDAP_URL"))
    ), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log out (POST, so a link elsewhere cannot log people out): this log-in's cookies die with it."""
    sessions.end_login(current_user)
    logout_user()
    flash(_("You are logged out."))
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    """Register the blueprint and Flask-Login."""
    # Without local passwords, accounts come from the directory: no page offers sign-up.
    app.context_processor(lambda: {"sign_up_open": bool(app.config.get("LOCAL_PASSWORDS", True))})
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to see that page."
    login_manager.login_message_category = "info"  # a neutral note, not the green of a success
    app.register_blueprint(bp)
