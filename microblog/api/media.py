"""Media: images uploaded to attach to a post (Mastodon's /api/v1/media and /api/v2/media)."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_babel import gettext as _

from microblog import entities
from microblog.inputs import takes_uploads
from microblog.services import media
from microblog.services.errors import ValidationError

from . import params, requires, route, text_param, viewer


@route("/api/v1/media", methods=["POST"])
@route("/api/v2/media", methods=["POST"])
@takes_uploads
@requires("write:media")
def upload_media():
    """Upload an image (`file`, with `description` and `focus`); attach it with media_ids on a new status.

    Processed before the answer (200, as Mastodon answers a small image):
    re-encoded without its metadata, upright, with a preview and a blurhash.
    """
    upload = request.files.get("file")
    if upload is None:
        raise ValidationError(_("file is required: the image to attach."), field="file")
    data = params()
    stored = media.upload(
        viewer(),
        upload.read(current_app.config["MEDIA_MAX_BYTES"] + 1),
        description=text_param(data, "description"),
        focus=text_param(data, "focus"),
    )
    return jsonify(entities.media_attachment(media.view(stored)))


@route("/api/v1/media/<media_id>")
@requires("write:media")
def show_media(media_id: str):
    """Return one of one's images not yet attached to a status."""
    return jsonify(entities.media_attachment(media.view(media.own_unattached(viewer(), media_id))))


@route("/api/v1/media/<media_id>", methods=["PUT"])
@requires("write:media")
def update_media(media_id: str):
    """Change an image's description (alt text) or focal point before it is posted."""
    data = params()
    changed = media.describe(
        viewer(), media_id, description=text_param(data, "description"), focus=text_param(data, "focus")
    )
    return jsonify(entities.media_attachment(media.view(changed)))
