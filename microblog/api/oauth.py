"""OAuth 2 for API clients, served by Authlib: apps, consent, tokens (authorization code + PKCE, password).

POST /api/v1/apps registers a client; /oauth/authorize asks the signed-in
person to consent and hands out a code (shown on the page for the
out-of-band redirect); /oauth/token trades a code, or a username and
password, for a bearer token.  Authlib does the protocol; this module
adapts it to microblog's models and services.  The token and revocation
endpoints read a JSON body as they read a form, as Mastodon does: JavaScript
clients (masto.js, megalodon) send JSON.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload, FlaskOAuth2Request
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import (
    ClientMixin,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    grants,
)
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Blueprint, Flask, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import CombinedMultiDict, MultiDict

from microblog.database import db
from microblog.extensions import LOG_IN_SCOPE, csrf, limiter
from microblog.headers import allow_form_target
from microblog.services import accounts, tokens
from microblog.services.errors import ServiceError
from microblog.text import web_origin
from models import AuthorizationCode, OAuthApp, User

from . import current_token, params, route, signed_in, text_param

oauth_bp = Blueprint("oauth", __name__)
GRANT_TYPES = ("authorization_code", "password")
AUTH_METHODS = ["client_secret_post", "client_secret_basic"]


class Client(ClientMixin):
    """A registered OAuthApp as Authlib sees it."""

    def __init__(self, app: OAuthApp) -> None:
        self.app = app

    def get_client_id(self) -> str:
        return self.app.client_id

    def get_default_redirect_uri(self) -> str:
        return self.app.redirect_uri_list[0]

    def get_allowed_scope(self, scope: str | None) -> str:
        """Grant exactly what was asked (default: read); asking beyond the app was refused before."""
        return " ".join(requested_scopes(scope))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.app.redirect_uri_list

    def check_client_secret(self, client_secret: str) -> bool:
        return tokens.app_secret_matches(self.app, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


class Code:
    """A stored authorization code as Authlib sees it."""

    def __init__(self, row: AuthorizationCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scopes


def requested_scopes(scope: str | None) -> list[str]:
    """Return the scopes a request asks for: what it names, else Mastodon's default, read."""
    return (scope or "").split() or ["read"]


class WithinRegisteredScopes:
    """A grant may ask for the app's registered scopes or narrower ones (read:statuses of read), no more."""

    request: Any
    server: Any

    def validate_requested_scope(self) -> None:
        """Refuse unknown scopes, and scopes beyond the ones the app registered."""
        self.server.validate_requested_scope(self.request.payload.scope)
        registered = self.request.client.app.scopes.split()
        if not all(tokens.grants(registered, s) for s in requested_scopes(self.request.payload.scope)):
            raise InvalidScopeError(description=_("The app did not register all of the requested scopes."))


def _active_user(user_id: int) -> User | None:
    user = db.session.get(User, user_id)
    return user if user is not None and user.is_active else None


class AuthorizationCodeGrant(WithinRegisteredScopes, grants.AuthorizationCodeGrant):
    """The authorization-code grant; codes are kept as digests, single use, ten minutes."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        tokens.store_authorization_code(
            code,
            request.client.app,
            request.user,
            redirect_uri=request.payload.redirect_uri or request.client.get_default_redirect_uri(),
            scopes=request.scope,
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
        )

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        row = tokens.find_authorization_code(client.app, code)
        return Code(row) if row is not None else None

    def delete_authorization_code(self, authorization_code: Code) -> None:
        """Nothing left to do: authenticate_user consumed the code before any token was made."""

    def authenticate_user(self, authorization_code: Code) -> User | None:
        # Consume the code first, atomically: of two exchanges at once only one deletes it, and
        # only that one gets a token (Authlib would save the token before deleting the code).
        if not tokens.consume_authorization_code(authorization_code.row):
            raise InvalidGrantError(_("The authorization code was already used."))
        return _active_user(authorization_code.row.user_id)


class PasswordGrant(WithinRegisteredScopes, grants.ResourceOwnerPasswordCredentialsGrant):
    """The password grant: username or email, and password (what Mastodon.py and toot log in with)."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def authenticate_user(self, username: str, password: str) -> User | None:
        try:
            return accounts.authenticate(username, password)
        except ServiceError as error:  # RFC 6749 5.2: bad owner credentials are invalid_grant
            raise InvalidGrantError(error.message) from None


class S256OnlyChallenge(CodeChallenge):
    """PKCE with S256 only: `plain` protects nothing against a code stolen on the way.

    RFC 7636 reads a missing method as plain; here it is refused, as the discovery document says.
    """

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        """Refuse a challenge without its method, then check it as Authlib does."""
        data = grant.request.payload.data
        if data.get("code_challenge") and not data.get("code_challenge_method"):
            raise InvalidRequestError(_("code_challenge_method is required, and must be S256."))
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge_method(self, authorization_code: Any) -> str:
        """Return S256 for every code."""
        return "S256"  # whatever a row says: no code is ever checked the plain way


def _query_client(client_id: str) -> Client | None:
    app = tokens.find_app(client_id)
    return Client(app) if app is not None else None


def _save_token(token: dict[str, Any], request: Any) -> None:
    tokens.store_token(token["access_token"], request.user, request.client.app, token.get("scope", ""))
    token["created_at"] = int(time.time())  # Mastodon's token response carries it


def _fields() -> MultiDict[str, str]:
    """Return the request's OAuth fields: the query string, and the form or a JSON object's text fields.

    A JSON body that is not an object, or a field that is not text (a number
    is taken as its digits), is left out: the grant then misses it and says so.
    """
    if not request.is_json:
        return request.values
    body = request.get_json(silent=True)
    fields: MultiDict[str, str] = MultiDict()
    if isinstance(body, dict):
        for key, value in body.items():
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if isinstance(value, str):
                fields.add(key, value)
    return CombinedMultiDict([request.args, fields])


class _Payload(FlaskOAuth2Payload):
    @property
    def data(self) -> MultiDict[str, str]:
        return _fields()


class _Request(FlaskOAuth2Request):
    """A token request whose fields may come as JSON (client authentication reads `form`)."""

    def __init__(self, flask_request: Any) -> None:
        super().__init__(flask_request)
        self.payload = _Payload(flask_request)

    @property
    def form(self) -> MultiDict[str, str]:
        return _fields() if request.is_json else request.form


class _Server(AuthorizationServer):
    def create_oauth2_request(self, flask_request: Any) -> _Request:
        return _Request(request)


server = _Server()


@route("/api/v1/apps", methods=["POST"])
def register_app():
    """Register an OAuth application; the response holds its client id and secret."""
    data = params()
    uris = data.get("redirect_uris")
    if isinstance(uris, list) and all(isinstance(uri, str) for uri in uris):
        data["redirect_uris"] = " ".join(uris)
    app, secret = tokens.register_app(
        text_param(data, "client_name") or "",
        text_param(data, "redirect_uris") or "",
        text_param(data, "scopes") or "read",
        text_param(data, "website") or "",
    )
    return jsonify(
        _application(app)
        | {"client_id": app.client_id, "client_secret": secret, "client_secret_expires_at": 0}
    )


@route("/api/v1/apps/verify_credentials")
def verify_app():
    """Return the application the token was issued to (a personal token has none)."""
    signed_in("read")
    token = current_token()
    if token is None or token.app_id is None:
        raise ServiceError(_("This is a personal access token; it belongs to no application."))
    return jsonify(_application(db.session.get_one(OAuthApp, token.app_id)))  # tokens die with their app


def _application(app: OAuthApp) -> dict[str, Any]:
    return {
        "id": str(app.id),
        "name": app.name,
        "website": app.website or None,
        "scopes": app.scopes.split(),
        "redirect_uri": "\n".join(app.redirect_uri_list),
        "redirect_uris": app.redirect_uri_list,
        "vapid_key": "",
    }


@route("/.well-known/oauth-authorization-server")
def authorization_server_metadata():
    """Describe the OAuth server (RFC 8414): endpoints, grants, scopes and PKCE methods."""
    return jsonify(
        {
            "issuer": url_for("web.home", _external=True),
            "service_documentation": url_for("api.openapi", _external=True),
            "authorization_endpoint": url_for("oauth.authorize", _external=True),
            "token_endpoint": url_for("oauth.token", _external=True),
            "revocation_endpoint": url_for("oauth.revoke", _external=True),
            "app_registration_endpoint": url_for("api.register_app", _external=True),
            "scopes_supported": sorted(tokens.KNOWN_SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": list(GRANT_TYPES),
            "token_endpoint_auth_methods_supported": AUTH_METHODS,
            "code_challenge_methods_supported": ["S256"],
        }
    )


# RFC 6749 Appendix A: these are printable ASCII (Authlib raises ValueError wording an error about others).
_PROTOCOL_PARAMETERS = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge")


def _printable_ascii_protocol() -> bool:
    values = (v for name in _PROTOCOL_PARAMETERS for v in request.values.getlist(name))
    return all(value.isascii() and value.isprintable() for value in values)


@oauth_bp.route("/oauth/authorize", methods=["GET", "POST"])
@oauth_bp.route("/oauth/authorize/", methods=["GET", "POST"])
def authorize():
    """Ask the signed-in person to let an application use their account; hand out a code."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    if not _printable_ascii_protocol():
        message = _("The request's OAuth parameters must be printable ASCII.")
        return render_template("oauth/error.html", error=message, title=_("Authorization failed")), 400
    try:
        grant = server.get_consent_grant(end_user=current_user)
    except OAuth2Error as error:
        return render_template(
            "oauth/error.html", error=error.description or error.error, title=_("Authorization failed")
        ), 400
    if request.method == "GET":
        origin = web_origin(grant.redirect_uri)
        if origin is not None:  # the consent form leads there: the CSP must allow it
            allow_form_target(origin)
        return render_template(
            "oauth/authorize.html",
            app=grant.client.app,
            scopes=requested_scopes(grant.request.payload.scope),
            title="Authorize",
        )
    approved = request.form.get("decision") == "approve"
    response = server.create_authorization_response(
        grant_user=current_user if approved else None, grant=grant
    )
    if grant.redirect_uri == tokens.OOB_REDIRECT:
        query = parse_qs(urlsplit(response.headers.get("Location", "")).query)
        code = (query.get("code") or [None])[0]
        return render_template("oauth/code.html", app=grant.client.app, code=code, title="Authorization code")
    return response


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _password_grant() -> bool:
    # As Authlib reads it: the query string counts too.
    return _fields().get("grant_type") == "password"


@oauth_bp.route("/oauth/token", methods=["POST"])
@csrf.exempt
# Password grants count against the address, as log-ins do: passwords are not guessed here.  Every
# attempt counts, when it arrives: counting only failures, after the answer, let parallel guesses
# through.  Code exchanges are not limited here: a code is single-use and needs the app's secret.
@limiter.shared_limit(_login_limit, scope=LOG_IN_SCOPE, exempt_when=lambda: not _password_grant())
def token():
    """Issue a bearer token (authorization_code or password grant)."""
    return server.create_token_response()


@oauth_bp.route("/oauth/revoke", methods=["POST"])
@csrf.exempt
def revoke():
    """Revoke a token the calling application holds (RFC 7009: unknown tokens are no error).

    The client authenticates as at the token endpoint: in the form (or JSON body), or with HTTP Basic.
    """
    data = _fields()
    basic = request.authorization if request.authorization and request.authorization.type == "basic" else None
    client_id = basic.username if basic else data.get("client_id")
    secret = basic.password if basic else data.get("client_secret")
    app = tokens.find_app(client_id)
    if app is None or not tokens.app_secret_matches(app, secret):
        return jsonify(error="invalid_client", error_description=_("Client authentication failed.")), 401
    tokens.revoke_token_value(app, data.get("token", ""))
    return jsonify({})


def init_app(app: Flask) -> None:
    """Set up the OAuth server: codes with optional PKCE (S256), passwords; tokens never expire."""
    app.config.setdefault("OAUTH2_TOKEN_EXPIRES_IN", {grant: 0 for grant in GRANT_TYPES})
    server.init_app(app, query_client=_query_client, save_token=_save_token)
    server.scopes_supported = sorted(tokens.KNOWN_SCOPES)
    server.register_grant(AuthorizationCodeGrant, [S256OnlyChallenge(required=False)])
    server.register_grant(PasswordGrant)
    app.register_blueprint(oauth_bp)
