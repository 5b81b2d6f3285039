"""Images attached to posts: upload, describe, attach, serve to who may see them, clean up.

An upload is decoded and re-encoded (microblog.images) before anything is
stored; its files are written, then its row committed, so that a refused or
failed upload leaves nothing behind.  Unattached, an image is its owner's only
and is removed after a day (sweep: on every upload, and `flask media sweep`).
Attached, whoever may see its post may see it, decided by the one visibility
predicate at every request for the file: a private community's images stay
its members', on every path.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select

from microblog import images
from microblog.database import db, on_commit
from microblog.entities import MediaView
from microblog.text import parse_id
from models import MediaAttachment, Post, User, utcnow
from models.media_attachment import MAX_ATTACHMENTS, MAX_DESCRIPTION

from .errors import NotFound, ValidationError
from .visibility import post_is_visible

UNATTACHED_FOR = timedelta(days=1)
SWEEP_BATCH = 50


def media_dir() -> Path:
    """Return the folder the images live in (MICROBLOG_DATA_DIR/media)."""
    return Path(current_app.config["DATA_DIR"]) / "media"


def file_names(media: MediaAttachment) -> dict[str, str]:
    """Return the stored file name (under media_dir) of each variant: original and small."""
    folder = media.key[:2]
    return {
        "original": f"{folder}/{media.key}.{media.ext}",
        "small": f"{folder}/{media.key}.small.{media.ext}",
    }


def _refusal(reason: str) -> ValidationError:
    if reason == "too_large":
        megapixels = current_app.config["MEDIA_MAX_PIXELS"] // 1_000_000
        return ValidationError(
            _(
                "The image is too large: at most %(megapixels)s megapixels, %(side)s pixels on a side.",
                megapixels=megapixels,
                side=images.MAX_SIDE,
            ),
            field="file",
        )
    if reason == "too_narrow":
        return ValidationError(
            _(
                "The image is too narrow: its longer side may be at most %(times)s times its shorter.",
                times=images.MAX_ASPECT,
            ),
            field="file",
        )
    return ValidationError(
        _("That is not an image microblog can read: attach a JPEG, PNG, GIF or WebP file."), field="file"
    )


def check_description(description: str | None) -> str:
    """Return alt text as stored, or raise ValidationError: at most 1500 characters, no control characters."""
    text = (description or "").strip()
    if len(text) > MAX_DESCRIPTION:
        raise ValidationError(
            _("A description is at most %(max)s characters.", max=MAX_DESCRIPTION), field="description"
        )
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise ValidationError(_("A description cannot hold control characters."), field="description")
    return text


def _focus_rule() -> str:
    return _("focus must be two numbers, x,y, each from -1.0 to 1.0.")


def check_focus(focus: str | None) -> tuple[float, float]:
    """Return a focal point "x,y" (each from -1.0 to 1.0), or (0, 0) for none; refuse anything else."""
    if focus in (None, ""):
        return 0.0, 0.0
    try:
        x, y = (float(part) for part in str(focus).split(","))
    except ValueError:
        raise ValidationError(
            _("focus must be two numbers, x,y, each from -1.0 to 1.0."), field="focus"
        ) from None
    if not (-1.0 <= x <= 1.0 and -1.0 <= y <= 1.0):  # also refuses NaN
        raise ValidationError(_("focus must be two numbers, x,y, each from -1.0 to 1.0."), field="focus")
    return x, y


def upload(
    owner: User, data: bytes, *, description: str | None = None, focus: str | None = None
) -> MediaAttachment:
    """Store an uploaded image for its owner to attach to a post; ValidationError for what is not one."""
    text = check_description(description)
    point = check_focus(focus)
    if len(data) > current_app.config["MEDIA_MAX_BYTES"]:
        megabytes = current_app.config["MEDIA_MAX_BYTES"] // (1024 * 1024)
        raise ValidationError(
            _("The file is too large: at most %(megabytes)s MB.", megabytes=megabytes), field="file"
        )
    if not data:
        raise ValidationError(_("file is required: the image to attach."), field="file")
    max_pixels = current_app.config["MEDIA_MAX_PIXELS"]
    try:
        made = images.bounded(lambda: images.process(data, max_pixels=max_pixels))
    except images.ImageRefused as refused:
        raise _refusal(refused.reason) from None
    media = MediaAttachment(
        owner_id=owner.id,
        key=secrets.token_hex(16),
        content_type=made.content_type,
        ext=made.ext,
        width=made.original.width,
        height=made.original.height,
        small_width=made.small.width,
        small_height=made.small.height,
        size=len(made.original.data),
        description=text,
        focus_x=point[0],
        focus_y=point[1],
        blurhash=made.blurhash,
        created_at=utcnow(),
    )
    names = file_names(media)
    written = [_write(names["original"], made.original.data), _write(names["small"], made.small.data)]
    try:
        db.session.add(media)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        _remove(written)
        raise
    sweep(limit=SWEEP_BATCH)
    return media


def _write(name: str, data: bytes) -> Path:
    """Write a file whole or not at all (a reader never sees half of one)."""
    path = media_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    partial.write_bytes(data)
    os.replace(partial, path)
    return path


def _remove(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def own_unattached(owner: User, media_id: int | str) -> MediaAttachment:
    """Return one of the owner's images not yet attached to a post, or raise NotFound."""
    found = parse_id(media_id)
    media = db.session.get(MediaAttachment, found) if found else None
    if media is None or media.owner_id != owner.id or media.post_id is not None:
        raise NotFound(_("No such image."))
    return media


def describe(
    owner: User, media_id: int | str, *, description: str | None, focus: str | None
) -> MediaAttachment:
    """Change the alt text (and focal point) of one of the owner's images before it is posted."""
    media = own_unattached(owner, media_id)
    if description is not None:
        media.description = check_description(description)
    if focus is not None:
        media.focus_x, media.focus_y = check_focus(focus)
    db.session.commit()
    return media


def check_attachments(
    uploaders: Sequence[User], media_ids: Sequence[object], descriptions: dict[str, str] | None = None
) -> list[MediaAttachment]:
    """Return the images a new post attaches, in order, or raise ValidationError.

    At most four; each one unattached and uploaded by one of `uploaders` (the
    author, or the member who writes a team's post).  `descriptions` (by id)
    set their alt text as they are attached.
    """
    if not media_ids:
        return []
    if len(media_ids) > MAX_ATTACHMENTS:
        raise ValidationError(_("A post has at most %(max)s images.", max=MAX_ATTACHMENTS), field="media_ids")
    ids = []
    for value in media_ids:
        found = parse_id(value)
        if found is None or found in ids:
            raise ValidationError(_("media_ids must name each image once, by its id."), field="media_ids")
        ids.append(found)
    owners = {u.id for u in uploaders}
    found_media = {
        m.id: m
        for m in db.session.scalars(
            select(MediaAttachment).where(MediaAttachment.id.in_(ids)).with_for_update()
        )
    }
    chosen = []
    for media_id in ids:
        media = found_media.get(media_id)
        if media is None or media.owner_id not in owners or media.post_id is not None:
            raise ValidationError(_("No such image to attach: upload it first."), field="media_ids")
        text = (descriptions or {}).get(str(media_id))
        if text is not None:
            media.description = check_description(text)
        chosen.append(media)
    return chosen


def attach(post: Post, chosen: Sequence[MediaAttachment]) -> None:
    """Attach checked images (check_attachments) to a new post, in the post's transaction."""
    for position, media in enumerate(chosen):
        media.post_id = post.id
        media.position = position


def forget(post_id: int) -> None:
    """Remove the files of a post's images once its deletion is committed (their rows go with it)."""
    rows = db.session.scalars(select(MediaAttachment).where(MediaAttachment.post_id == post_id)).all()
    if not rows:
        return
    paths = [media_dir() / name for m in rows for name in file_names(m).values()]
    on_commit(lambda: _remove(paths))


def sweep(*, limit: int | None = None) -> int:
    """Remove uploads never attached for a day, rows and files; return how many."""
    stale = select(MediaAttachment).where(
        MediaAttachment.post_id.is_(None), MediaAttachment.created_at < utcnow() - UNATTACHED_FOR
    )
    rows = db.session.scalars(stale.order_by(MediaAttachment.created_at).limit(limit)).all()
    if not rows:
        return 0
    paths = [media_dir() / name for m in rows for name in file_names(m).values()]
    ids = [m.id for m in rows]
    # Only those still unattached: an upload attached meanwhile stays.
    gone = db.session.execute(
        delete(MediaAttachment).where(MediaAttachment.id.in_(ids), MediaAttachment.post_id.is_(None))
    )
    db.session.commit()
    if gone.rowcount == len(ids):  # type: ignore[attr-defined]
        _remove(paths)
    return len(ids)


@dataclass(frozen=True)
class ServedFile:
    """A variant's file as the web serves it, and whether caches shared by several people may keep it."""

    name: str
    content_type: str
    shared: bool


def file_for(viewer: User | None, key: str, variant: str) -> ServedFile:
    """Return the file of an image the viewer may see, or raise NotFound (also for who may not see it).

    An image of a public post: anyone signed in, and anyone holding its URL
    (its key is random: Mastodon clients load images without credentials).  Of
    a private community's post: its members only.  Unattached: its owner only.
    """
    if variant not in ("original", "small") or len(key) != 32 or not key.isalnum():
        raise NotFound(_("No such image."))
    viewer_id = viewer.id if viewer is not None else 0
    row = db.session.execute(
        select(MediaAttachment, Post.visibility, post_is_visible(viewer_id))
        .outerjoin(Post, Post.id == MediaAttachment.post_id)
        .where(MediaAttachment.key == key)
    ).one_or_none()
    if row is None:
        raise NotFound(_("No such image."))
    media, visibility, visible = row
    if media.post_id is None:
        allowed = viewer is not None and media.owner_id == viewer.id
    else:
        allowed = bool(visible) and visibility is not None  # the post may be gone since the image was read
    if not allowed:
        raise NotFound(_("No such image."))
    return ServedFile(file_names(media)[variant], media.content_type, shared=visibility == "public")


def view(media: MediaAttachment) -> MediaView:
    """Return an image as a Status shows it."""
    return MediaView(
        media.id,
        media.key,
        media.ext,
        media.width,
        media.height,
        media.small_width,
        media.small_height,
        media.description,
        media.focus_x,
        media.focus_y,
        media.blurhash,
    )


def media_of(post_ids: Iterable[int]) -> dict[int, tuple[MediaView, ...]]:
    """Return the images of these posts, in order, by post id: one query."""
    ids = sorted(set(post_ids))
    found: dict[int, list[MediaView]] = {}
    if ids:
        rows = db.session.scalars(
            select(MediaAttachment)
            .where(MediaAttachment.post_id.in_(ids))
            .order_by(MediaAttachment.post_id, MediaAttachment.position)
        )
        for media in rows:
            found.setdefault(media.post_id or 0, []).append(view(media))
    return {post_id: tuple(views) for post_id, views in found.items()}
