"""Sign-up and log-in forms (CSRF through Flask-WTF)."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from microblog.web.forms import Form


class LoginForm(Form):
    """Username or email, password, remember me (lengths bounded: scrypt hashes what it gets)."""

    login = StringField(
        _l("Username or email"),
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Remember me"))


class SignupForm(Form):
    """A new account; the services check the rules."""

    username = StringField(_l("Username"), validators=[DataRequired()])
    display_name = StringField(_l("Full name"))
    email = EmailField(_l("Work email"), validators=[DataRequired()])
    password = PasswordField(
        _l("Password"), validators=[DataRequired()], render_kw={"autocomplete": "new-password"}
    )
