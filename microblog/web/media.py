"""Images in the web: the files (for who may see them) and the composer's uploads."""

from __future__ import annotations

from flask import Response, abort, current_app, request, send_from_directory
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog import entities
from microblog.inputs import takes_uploads
from microblog.services import media, tokens
from microblog.services.errors import ServiceError, ValidationError
from models import User

from . import bp

_VARIANTS = {"original", "small"}


def _reader() -> User | None:
    """Return who asks for a file: the signed-in person, or an API client's bearer token's user."""
    if current_user.is_authenticated:
        return current_user
    header = request.headers.get("Authorization", "")
    scheme, _space, value = header.partition(" ")
    token = tokens.authenticate_token(value.strip()) if scheme.lower() == "bearer" else None
    return token.user if token is not None else None


@bp.route("/media/<key>/<name>")
def media_file(key: str, name: str):
    """Send an image's file to whoever may see its post (nginx sends it, behind X-Accel-Redirect).

    Not found, to everyone else, as the post is: the answer says nothing of what exists.
    """
    variant, _dot, ext = name.partition(".")
    if variant not in _VARIANTS:
        abort(404)
    served = media.file_for(_reader(), key, variant)
    if not served.name.endswith(f".{ext}"):
        abort(404)
    # Keys never name another image: a file never changes.  A private post's image stays out of shared
    # caches, and a browser asks again each time (a 304 if it may still see it): one who left the
    # community no longer sees it from the cache either.
    cache = "public, max-age=31536000, immutable" if served.shared else "private, no-cache"
    accel = current_app.config["MEDIA_ACCEL_REDIRECT"]
    if accel:
        response = Response(status=200, content_type=served.content_type)
        response.headers["X-Accel-Redirect"] = accel.rstrip("/") + "/" + served.name
    else:
        response = send_from_directory(media.media_dir(), served.name, mimetype=served.content_type)
    response.headers["Cache-Control"] = cache
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.vary.add("Cookie")
    response.vary.add("Authorization")
    return response


@bp.route("/media", methods=["POST"])
@takes_uploads
@login_required
def upload_media():
    """Upload an image from the composer (attach button, drop, paste); answer it as a MediaAttachment."""
    upload = request.files.get("file")
    try:
        if upload is None:
            raise ValidationError(_("file is required: the image to attach."), field="file")
        stored = media.upload(
            current_user,
            upload.read(current_app.config["MEDIA_MAX_BYTES"] + 1),
            description=request.form.get("description"),
        )
    except ServiceError as error:  # the composer's script shows the reason beside the image
        return {"error": error.message}, error.status_code
    return entities.media_attachment(media.view(stored))
