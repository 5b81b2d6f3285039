"""Sign-up and log-in forms (CSRF through Flask-WTF)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    """Username or email, password, remember me."""

    login = StringField("Username or email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField("Remember me")


class SignupForm(FlaskForm):
    """A new account; the services check the rules."""

    username = StringField("Username", validators=[DataRequired(), Length(max=30)])
    display_name = StringField("Full name", validators=[Length(max=60)])
    email = EmailField("Work email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
