"""The JSON API: Mastodon's client API, so that existing clients and libraries work unchanged.

Endpoints parse input, make one service call and serialize the result with
`microblog.entities` (one function per entity).  They authenticate with bearer
tokens (OAuth or personal); errors come out as {"error": ...} through the
app's one error handler.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Flask, Response, current_app, jsonify, request, url_for
from flask_babel import gettext as _
from limits import RateLimitItem, parse_many
from werkzeug.exceptions import TooManyRequests

from microblog.database import db
from microblog.extensions import csrf, limiter
from microblog.services import activity, grants, tokens
from microblog.services.accounts import access_user_id
from microblog.services.errors import ServiceError, ValidationError
from microblog.services.grants import Grant
from models import User

bp = Blueprint("api", __name__)

F = TypeVar("F", bound=Callable[..., Any])


class Unauthorized(ServiceError):
    """No valid access token (HTTP 401)."""

    status_code = 401


class TooManyBadTokens(ServiceError):
    """This address sent too many invalid tokens lately (HTTP 429)."""

    status_code = 429


class OutsideScopes(ServiceError):
    """The token lacks the scope this endpoint needs (HTTP 403)."""

    status_code = 403


def route(rule: str, **options: Any) -> Callable[[F], F]:
    """Register an API route, answering with and without a trailing slash (clients send both)."""

    def register(view: F) -> F:
        bp.add_url_rule(rule, view_func=view, **options)
        bp.add_url_rule(rule + "/", view_func=view, **options)
        return view

    return register


def _bearer() -> str | None:
    if found := tokens.bearer_value(request.headers.get("Authorization", "")):
        return found
    # Browsers' EventSource cannot set headers: Mastodon's streaming API takes the token here too.
    if found := request.args.get("access_token"):
        return found
    # Nor can browsers' WebSocket: Mastodon's clients offer the token as the subprotocol.
    if request.headers.get("Upgrade", "").strip().lower() == "websocket":
        return next(iter(websocket_subprotocols()), None)
    return None


def websocket_subprotocols() -> list[str]:
    """Return the subprotocols a WebSocket handshake offers (Sec-WebSocket-Protocol), in its order."""
    offered = ",".join(request.headers.getlist("Sec-WebSocket-Protocol"))
    return [part.strip() for part in offered.split(",") if part.strip()]


_TOKEN = "microblog.api_token"  # per request: (grant or None, whether a value was refused)
_USER = "microblog.api_user"  # per request: the grant's user, loaded when an endpoint asks


def _resolve_token() -> tuple[Grant | None, bool]:
    """Look the request's bearer token up once; return (what it grants, refused)."""
    found = request.environ.get(_TOKEN)
    if found is None:
        value = _bearer()
        grant = look_up_token(value) if value else None
        found = (grant, bool(value) and grant is None)
        request.environ[_TOKEN] = found
    return found


def look_up_token(value: str) -> Grant | None:
    """Return what the valid token with this value grants, or None; an address sending invalid ones waits.

    Invalid tokens count per address (MICROBLOG_API_RATE_LIMIT).  Past the limit every token
    from that address is refused unseen, valid or not, so the answer tells a guesser nothing.
    """
    limit = _parsed_limits(current_app.config["API_RATE_LIMIT"])[0]
    address = request.remote_addr or ""
    if limiter.enabled and not limiter.limiter.test(limit, "bad-token", address):
        raise TooManyBadTokens(_("Too many invalid access tokens from this address. Wait, then try again."))
    grant = grants.grant_for(value)
    if grant is None and limiter.enabled:
        limiter.limiter.hit(limit, "bad-token", address)
    return grant


def current_token() -> Grant | None:
    """Return what the request's access token grants, or None without one; an invalid one is refused."""
    grant, refused = _resolve_token()
    if refused:
        raise Unauthorized(_("The access token is invalid"))
    return grant


def current_account() -> User | None:
    """Return the user the token acts for, or None for an anonymous request."""
    grant = current_token()
    if grant is None:
        return None
    user = request.environ.get(_USER)
    if user is None:
        # The user is kept apart from the session's objects: a commit expires it, and it never lazy-loads.
        user = db.session.get(User, grant.user_id)
        if user is None or not user.is_active:  # deactivated a moment ago: the grant is being forgotten
            raise Unauthorized(_("The access token is invalid"))
        request.environ[_USER] = user
    return user


def _granted(scope: str) -> Grant:
    """Return what the request's token grants, requiring a token that holds `scope`."""
    grant = current_token()
    if grant is None:
        raise Unauthorized(_("This API requires an access token: Authorization: Bearer <token>"))
    if not tokens.grants(grant.scopes, scope):
        raise OutsideScopes(_("This action is outside the authorized scopes"))
    return grant


def signed_in(scope: str) -> User:
    """Return the token's user, requiring a token that holds `scope`."""
    _granted(scope)
    user = current_account()
    assert user is not None, "a valid token has a user"
    return user


def requires(scope: str, *, loads_user: bool = True) -> Callable[[F], F]:
    """Refuse the endpoint to requests whose token does not hold `scope`.

    The token's user is loaded before the endpoint runs.  An endpoint that needs
    only their id (viewer_id) says `loads_user=False` and spares a query: a
    token is granted only while its user is active, and a deactivation ends
    the grants every process keeps (services.grants) as a revocation does,
    with the same bound should the announcement be lost (grants.KEEP).
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if loads_user:
                signed_in(scope)
            else:
                _granted(scope)
            return view(*args, **kwargs)

        return cast(F, checked)

    return decorate


def viewer() -> User:
    """Return the user of a request that passed @requires."""
    user = current_account()
    assert user is not None, "use inside an endpoint decorated with @requires"
    return user


def viewer_id() -> int:
    """Return the id of the user of a request that passed @requires, without loading them."""
    grant = current_token()
    assert grant is not None, "use inside an endpoint decorated with @requires"
    return grant.user_id


_ACTOR = "microblog.api_actor"  # per request: the person acting (a team token's member)


def actor() -> User:
    """Return who acts in a request that passed @requires: the token's user, or a team token's member.

    A team token's member is the one it was issued on behalf of: who posts as the team, works its
    inbox and accepts answers.  Read before any commit, so a token revoked meanwhile cannot break it.
    """
    found = request.environ.get(_ACTOR)
    if found is None:
        user = viewer()
        grant = current_token()
        member_id = grant.on_behalf_of_id if grant is not None and user.is_team else None
        found = access_user_id(member_id) if member_id else user
        request.environ[_ACTOR] = found
    return found


def team_token_team() -> User | None:
    """Return the team account of a request made with a team token, or None for a person's token."""
    user = viewer()
    return user if user.is_team else None


def params() -> dict[str, Any]:
    """Return the request's parameters: query string, form or JSON body, merged (as Mastodon does)."""
    merged: dict[str, Any] = dict(request.args)
    if request.method in ("POST", "PUT", "PATCH"):
        if request.is_json:
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                raise ServiceError(_("The JSON body must be an object."))
            merged.update(body)
        else:
            merged.update(request.form.to_dict())
    return merged


def text_param(data: dict[str, Any], name: str) -> str | None:
    """Return a parameter that is text (a JSON integer as its digits) or None; refuse objects and lists."""
    value = data.get(name)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValidationError(_("%(name)s must be a string.", name=name), field=name)


_TRUE = frozenset({"true", "1", "on", "yes"})
_FALSE = frozenset({"false", "0", "off", "no", ""})


def bool_param(data: dict[str, Any], name: str) -> bool:
    """Return a boolean parameter (JSON true/false, or true/false/1/0 in a form); absent is false."""
    value = data.get(name)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValidationError(_("%(name)s must be true or false.", name=name), field=name)


def id_list(name: str) -> list[str]:
    """Return a repeated parameter, sent as `id[]=1&id[]=2` or `id=1&id=2`."""
    values = request.args.getlist(f"{name}[]") + request.args.getlist(name)
    return [v for v in values if v][:40]


def paged(
    items: list[dict[str, Any]] | dict[str, Any], *, next_max: str | None, prev_min: str | None
) -> Response:
    """Return a JSON page (list or object) with Mastodon's Link header: rel="next" (older, max_id), "prev"."""
    response = jsonify(items)
    # The query's own parameters carry over, each with all its values (types[]=a&types[]=b), except
    # the cursor and names url_for takes for itself (the endpoint, `_external` ..., the route's own
    # arguments): those would be a TypeError, a 500.
    taken = {"max_id", "min_id", "since_id", "endpoint", *(request.view_args or {})}
    args: dict[str, Any] = {
        k: request.args.getlist(k) for k in request.args if k not in taken and not k.startswith("_")
    }
    endpoint = cast(str, request.endpoint)

    def link(rel: str, **cursor: str) -> str:
        url = url_for(endpoint, **(request.view_args or {}), **args, **cursor, _external=True)
        return f'<{url}>; rel="{rel}"'

    links = []
    if next_max is not None:
        links.append(link("next", max_id=next_max))
    if prev_min is not None:
        links.append(link("prev", min_id=prev_min))
    if links:
        response.headers["Link"] = ", ".join(links)
    return response


def _rate_key() -> str:
    """Limit each valid token (each bot or client) on its own, across the whole API.

    Anonymous requests and requests with a token that is not valid count against the address:
    a made-up token must not open a fresh allowance (nor can guessing tokens go on unlimited).
    A token is named by its digest, not its id: SQLite may give a new token a revoked one's id.
    """
    grant = _resolve_token()[0]
    return f"token:{grant.token_hash}" if grant is not None else "ip:" + (request.remote_addr or "")


# Counted here, not through Flask-Limiter's per-request resolution of which limits apply (a sixth
# of a kept home page's time): the API's limits, in the limiter's storage, under the keys its
# shared limit used, with its headers.  Flask-Limiter guards the log-ins; it skips the API's
# requests (_counted_by_the_api), so a limiter.limit on an API view would have no effect.
_COUNTED = "microblog.api_counted"  # per request: the limit its headers tell of, and the key


@lru_cache(maxsize=8)
def _parsed_limits(value: str) -> tuple[RateLimitItem, ...]:
    """Return the limits MICROBLOG_API_RATE_LIMIT sets, shortest window first (Flask-Limiter's order)."""
    try:
        limits = parse_many(value)
    except ValueError:
        limits = []
    if not limits:
        raise ValueError(f"MICROBLOG_API_RATE_LIMIT={value!r} is no rate limit, such as '300 per 5 minutes'")
    return tuple(sorted(limits, key=lambda limit: limit.GRANULARITY.seconds))


@limiter.request_filter
def _counted_by_the_api() -> bool:
    return request.blueprint == bp.name


@bp.before_request
def _count_request() -> None:
    """Count the request against its token's (or address's) allowance; past it, answer 429."""
    if not limiter.enabled:
        return
    limits = _parsed_limits(current_app.config["API_RATE_LIMIT"])
    key = _rate_key()
    request.environ[_COUNTED] = (limits[0], key)
    for limit in limits:
        if not limiter.limiter.hit(limit, key, "api"):
            request.environ[_COUNTED] = (limit, key)
            reset, _remaining = limiter.limiter.get_window_stats(limit, key, "api")
            raise TooManyRequests(retry_after=max(1, math.ceil(reset - time.time())))


@bp.after_request
def _allowance_headers(response: Response) -> Response:
    """Say the allowance in every answer: X-RateLimit-Limit, -Remaining and -Reset (when it renews, Unix)."""
    counted = request.environ.get(_COUNTED)
    if counted is not None and current_app.config.get("RATELIMIT_HEADERS_ENABLED"):
        limit, key = counted
        reset, remaining = limiter.limiter.get_window_stats(limit, key, "api")
        response.headers["X-RateLimit-Limit"] = str(limit.amount)
        response.headers["X-RateLimit-Remaining"] = str(remaining)
        response.headers["X-RateLimit-Reset"] = str(int(reset + 1))
    return response


@bp.before_request
def _record_activity() -> None:
    """Note that the person behind the request's token used microblog today, once the request is over."""
    if (person_id := _visitor()) is not None:
        activity.record_after_request(person_id)


def record_visit() -> None:
    """Record now that the request's person used microblog today: for a request that runs for hours.

    Call it holding no database connection (the visit is written on one of its own).
    """
    if (person_id := _visitor()) is not None:
        activity.record_visit(person_id)


def _visitor() -> int | None:
    """Return the person behind the request's token (services.activity), or None.

    A team token counts for the member it was issued on behalf of; an invalid
    token counts for no one (the endpoint refuses it as before).  The token
    is the one the rate limit already looked up: no query of its own.
    """
    try:
        grant, refused = _resolve_token()
    except ServiceError:  # too many bad tokens: the endpoint says so
        return None
    if grant is None or refused or grant.is_community:
        return None
    return grant.on_behalf_of_id if grant.is_team else grant.user_id


def init_app(app: Flask) -> None:
    """Register the API blueprint: bearer tokens instead of CSRF, one rate limit per token."""
    from . import (  # noqa: F401  (routes)
        accounts,
        follow_requests,
        grouped_notifications,
        instance,
        lists,
        markers,
        media,
        notifications,
        oauth,
        openapi,
        search,
        statuses,
        streaming,
        tags,
        teams,
        timelines,
    )

    csrf.exempt(bp)
    # One allowance per token for all endpoints together (a per-endpoint limit multiplies it by ~40),
    # counted by _count_request; a value that is no limit stops the start, not every request.
    _parsed_limits(app.config["API_RATE_LIMIT"])
    app.register_blueprint(bp)
    oauth.init_app(app)


def socket_user(value: str) -> tuple[User, int] | None:
    """Return the user and token id of a Socket.IO connection that authenticates with an access token.

    The connection gets the home timeline and the notifications, so the token must read both.
    Invalid tokens count against the address as on the API.
    """
    try:
        grant = look_up_token(value)
    except TooManyBadTokens:
        return None
    if grant is None or not all(tokens.grants(grant.scopes, s) for s in SOCKET_SCOPES):
        return None
    user = db.session.get(User, grant.user_id)
    return (user, grant.id) if user is not None and user.is_active else None


SOCKET_SCOPES = ("read:statuses", "read:notifications")
