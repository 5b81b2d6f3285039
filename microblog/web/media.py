"""Images in the web: the files (for who may see them), the composer's uploads, how feeds size them."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response, abort, current_app, request, send_from_directory
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog import entities
from microblog.entities import MediaView
from microblog.inputs import takes_uploads
from microblog.services import media, tokens
from microblog.services.errors import NotFound, ServiceError, ValidationError
from models import User
from models.media_attachment import MAX_ATTACHMENTS

from . import bp

_VARIANTS = {"original", "small"}

# A post's only image is shown whole, at most this large (CSS px: a feed's text column, and 3:4 of it);
# live.js sizes the images of live posts by the same rule (imageBox).
SINGLE_IMAGE_BOX = (560, 420)
# Two to four share a 16:9 frame, two columns: each is about this wide (the srcset's `sizes`).
GRID_CELL_WIDTH = 280


@dataclass(frozen=True)
class ImageBox:
    """The size an image is drawn at in a feed (its width and height attributes) and its srcset's `sizes`."""

    width: int
    height: int
    sizes: str


def image_box(image: MediaView, count: int) -> ImageBox:
    """Return how large a feed draws one of a post's `count` images: whole and never enlarged when alone."""
    if count != 1:  # cropped to its cell by the grid (object-fit): the attributes give the ratio only
        return ImageBox(image.small_width, image.small_height, f"{GRID_CELL_WIDTH}px")
    most_wide, most_high = SINGLE_IMAGE_BOX
    scale = min(1.0, most_wide / image.width, most_high / image.height)
    width, height = max(1, int(image.width * scale)), max(1, int(image.height * scale))
    return ImageBox(width, height, f"{width}px")


def composer_attachments() -> list[tuple[MediaView, str]]:
    """Return the images a composer sent back with an error still holds, with the descriptions written.

    Only on the page that answers the composer's own POST, and only the writer's
    uploads still unattached (an image posted meanwhile, or someone else's, is left out).
    """
    if request.endpoint != "web.create_post" or not current_user.is_authenticated:
        return []
    kept = []
    for value in request.form.getlist("media_ids")[:MAX_ATTACHMENTS]:
        try:
            image = media.own_unattached(current_user, value)
        except NotFound:
            continue
        kept.append((media.view(image), request.form.get(f"description_{value}", "")))
    return kept


def _reader() -> User | None:
    """Return who asks for a file: the signed-in person, or an API client's bearer token's user."""
    if current_user.is_authenticated:
        return current_user
    token = tokens.authenticate_token(tokens.bearer_value(request.headers.get("Authorization", "")))
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
