"""Images: upload through the Mastodon API, what is stored, who may read the files, cleanup."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import func, select, update

from microblog.database import db
from microblog.services import media, posts, social
from models import MediaAttachment, Post, utcnow

from .factories import login, make_community, make_token, make_user


def picture(size=(1200, 900), fmt="JPEG", **save) -> bytes:
    """Return an image file with some detail (a flat colour compresses to nothing)."""
    image = Image.new("RGB", size, (40, 110, 190))
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], 40):
        draw.line((x, 0, size[0] - x, size[1]), fill=(x % 255, 90, 150), width=5)
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def upload(client, auth, data: bytes, name="shot.jpg", **fields):
    return client.post(
        "/api/v2/media",
        data={"file": (io.BytesIO(data), name), **fields},
        headers=auth,
        content_type="multipart/form-data",
    )


def stored_files(app) -> list[Path]:
    folder = Path(app.config["DATA_DIR"]) / "media"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_an_uploaded_photo_is_re_encoded_upright_without_its_location(client, app, alice):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90°": the phone was held upright
    exif[0x8825] = {2: (59.0, 55.0, 0.0), 4: (10.0, 45.0, 0.0)}  # GPS: where it was taken
    answer = upload(client, make_token(alice), picture((1200, 900), exif=exif), description="Whiteboard")
    assert answer.status_code == 200, answer.data
    entity = answer.get_json()
    assert entity["type"] == "image" and entity["description"] == "Whiteboard" and entity["blurhash"]
    assert entity["meta"]["original"]["width"] == 900 and entity["meta"]["original"]["height"] == 1200
    assert entity["meta"]["small"]["width"] * entity["meta"]["small"]["height"] <= 640 * 360
    original = client.get(entity["url"], headers=make_token(alice))
    assert original.status_code == 200 and original.headers["Content-Type"] == "image/jpeg"
    kept = Image.open(io.BytesIO(original.data))
    assert kept.size == (900, 1200) and not kept.getexif() and "exif" not in kept.info
    assert client.get(entity["preview_url"], headers=make_token(alice)).status_code == 200


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"%PDF-1.4 not an image", "report.pdf"),
        (picture()[:3000], "truncated.jpg"),
        (b"", "empty.png"),
        (picture(fmt="BMP"), "old.bmp"),
    ],
    ids=["not an image", "truncated", "empty", "another format"],
)
def test_what_is_not_an_image_is_refused_and_leaves_nothing(client, app, alice, data, name):
    answer = upload(client, make_token(alice), data, name)
    assert answer.status_code == 422, answer.data
    assert "error" in answer.get_json()
    assert db.session.scalar(select(func.count()).select_from(MediaAttachment)) == 0
    assert stored_files(app) == []


def test_a_decompression_bomb_is_refused_before_it_is_decoded(client, app, alice):
    bomb = io.BytesIO()
    Image.new("1", (12000, 12000)).save(bomb, "PNG")  # 144 megapixels in a few kilobytes
    assert len(bomb.getvalue()) < 100_000
    answer = upload(client, make_token(alice), bomb.getvalue(), "bomb.png")
    assert answer.status_code == 422 and "megapixels" in answer.get_json()["error"]
    assert stored_files(app) == []


def test_a_post_attaches_images_and_its_readers_see_them(client, app, alice, bob):
    auth = make_token(alice)
    ids = [upload(client, auth, picture(), description=f"Slide {n}").get_json()["id"] for n in range(2)]
    answer = client.post(
        "/api/v1/statuses", data={"status": "Slides from today", "media_ids[]": ids}, headers=auth
    )
    assert answer.status_code == 200, answer.data
    status = answer.get_json()
    assert [m["id"] for m in status["media_attachments"]] == ids
    assert [m["description"] for m in status["media_attachments"]] == ["Slide 0", "Slide 1"]
    seen = client.get("/api/v1/timelines/public", headers=make_token(bob)).get_json()
    assert [m["id"] for m in seen[0]["media_attachments"]] == ids
    url = seen[0]["media_attachments"][0]["url"]
    assert client.get(url, headers=make_token(bob)).status_code == 200
    # An image once posted is the post's: not attached again, not re-described through the media API.
    again = client.post("/api/v1/statuses", data={"status": "Again", "media_ids[]": ids[:1]}, headers=auth)
    assert again.status_code == 422
    assert client.put(f"/api/v1/media/{ids[0]}", data={"description": "x"}, headers=auth).status_code == 404


def test_attachments_are_checked(client, alice, bob):
    auth = make_token(alice)
    ids = [upload(client, auth, picture((200, 150))).get_json()["id"] for n in range(5)]
    five = client.post("/api/v1/statuses", json={"status": "Too many", "media_ids": ids}, headers=auth)
    assert five.status_code == 422
    bobs = client.post(
        "/api/v1/statuses", json={"status": "Not mine", "media_ids": ids[:1]}, headers=make_token(bob)
    )
    assert bobs.status_code == 422
    for bad in (["abc"], [ids[0], ids[0]], "x", {"a": 1}):
        assert (
            client.post(
                "/api/v1/statuses", json={"status": "Bad", "media_ids": bad}, headers=auth
            ).status_code
            == 422
        )
    assert db.session.scalar(select(func.count()).select_from(Post)) == 0


def test_description_and_focus_are_set_before_posting(client, alice, bob):
    auth = make_token(alice)
    media_id = upload(client, auth, picture((300, 200))).get_json()["id"]
    changed = client.put(
        f"/api/v1/media/{media_id}", data={"description": "A cat", "focus": "0.5,-0.25"}, headers=auth
    )
    assert changed.status_code == 200
    assert changed.get_json()["description"] == "A cat"
    assert changed.get_json()["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    assert client.get(f"/api/v1/media/{media_id}", headers=auth).get_json()["description"] == "A cat"
    for bad in ({"focus": "2,0"}, {"focus": "nan,0"}, {"focus": "a"}, {"description": "x" * 1501}):
        assert client.put(f"/api/v1/media/{media_id}", data=bad, headers=auth).status_code == 422
    assert (
        client.put(
            f"/api/v1/media/{media_id}", data={"description": "Mine"}, headers=make_token(bob)
        ).status_code
        == 404
    )
    assert client.get(f"/api/v1/media/{media_id}", headers=make_token(bob)).status_code == 404


def test_a_private_community_s_images_are_for_its_members_only(client, app, alice, bob):
    make_community(alice, "ops", private=True, members=(bob,))
    auth = make_token(alice)
    entity = upload(client, auth, picture()).get_json()
    # Unattached: the uploader's only.
    assert client.get(entity["url"], headers=make_token(bob)).status_code == 404
    assert client.get(entity["url"]).status_code == 404
    client.post(
        "/api/v1/statuses",
        data={"status": "@ops the rack diagram", "media_ids[]": [entity["id"]]},
        headers=auth,
    )
    carol = make_user("carol")
    assert client.get(entity["url"], headers=make_token(bob)).status_code == 200
    private = client.get(entity["url"], headers=make_token(bob))
    assert "private" in private.headers["Cache-Control"]
    for reader in ({}, make_token(carol), {"Authorization": "Bearer nonsense"}):
        assert client.get(entity["url"], headers=reader).status_code == 404
        assert client.get(entity["preview_url"], headers=reader).status_code == 404
    login(client, "carol")  # a browser session, likewise
    assert client.get(entity["url"]).status_code == 404
    client.post("/logout")
    login(client, "bob")
    assert client.get(entity["url"]).status_code == 200


def test_a_public_post_s_image_loads_without_credentials(client, alice):
    # Mastodon clients load images as plain <img src>; the key in the URL is random.
    auth = make_token(alice)
    entity = upload(client, auth, picture()).get_json()
    client.post(
        "/api/v1/statuses", data={"status": "Office party", "media_ids[]": [entity["id"]]}, headers=auth
    )
    plain = client.get(entity["url"])
    assert plain.status_code == 200 and "public" in plain.headers["Cache-Control"]
    assert client.get(entity["url"].replace(entity["url"].split("/")[-2], "0" * 32)).status_code == 404


@pytest.mark.settings(MEDIA_ACCEL_REDIRECT="/_media/")
def test_behind_nginx_the_app_only_says_which_file(client, alice):
    auth = make_token(alice)
    entity = upload(client, auth, picture()).get_json()
    answer = client.get(entity["url"], headers=auth)
    assert answer.status_code == 200 and answer.data == b""
    key = entity["url"].split("/")[-2]
    assert answer.headers["X-Accel-Redirect"] == f"/_media/{key[:2]}/{key}.jpg"


def test_deleting_a_post_removes_its_files(client, app, alice):
    auth = make_token(alice)
    entity = upload(client, auth, picture()).get_json()
    status = client.post(
        "/api/v1/statuses", data={"status": "Soon gone", "media_ids[]": [entity["id"]]}, headers=auth
    )
    assert len(stored_files(app)) == 2
    client.delete(f"/api/v1/statuses/{status.get_json()['id']}", headers=auth)
    assert stored_files(app) == []
    assert client.get(entity["url"], headers=auth).status_code == 404


def test_uploads_never_posted_are_removed_after_a_day(client, app, alice):
    auth = make_token(alice)
    old = upload(client, auth, picture()).get_json()["id"]
    kept = upload(client, auth, picture()).get_json()["id"]
    db.session.execute(
        update(MediaAttachment)
        .where(MediaAttachment.id == int(old))
        .values(created_at=utcnow() - timedelta(days=2))
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["media", "sweep"])
    assert result.exit_code == 0 and "Removed 1 unattached images." in result.output
    db.session.expire_all()
    assert {m.id for m in db.session.scalars(select(MediaAttachment))} == {int(kept)}
    assert len(stored_files(app)) == 2
    assert media.sweep() == 0


def test_the_web_composer_uploads_and_posts_with_alt_text(alice_client, alice, bob):
    answer = alice_client.post(
        "/media", data={"file": (io.BytesIO(picture()), "x.jpg")}, headers={"Accept": "application/json"}
    )
    assert answer.status_code == 200, answer.data
    media_id = answer.get_json()["id"]
    alice_client.post(
        "/posts", data={"text": "Build is red", "media_ids": [media_id], f"description_{media_id}": "CI log"}
    )
    post = db.session.scalars(select(Post)).one()
    assert [(m.id, m.description) for m in db.session.scalars(select(MediaAttachment))] == [
        (int(media_id), "CI log")
    ]
    assert db.session.get(MediaAttachment, int(media_id)).post_id == post.id
    refused = alice_client.post(
        "/media", data={"file": (io.BytesIO(b"nope"), "x.jpg")}, headers={"Accept": "application/json"}
    )
    assert refused.status_code == 422 and "JPEG" in refused.get_json()["error"]


def test_a_member_who_leaves_no_longer_reads_the_community_s_images(client, alice, bob):
    make_community(alice, "ops", private=True, members=(bob,))
    auth = make_token(alice)
    entity = upload(client, auth, picture()).get_json()
    client.post("/api/v1/statuses", data={"status": "@ops rack", "media_ids[]": [entity["id"]]}, headers=auth)
    assert client.get(entity["url"], headers=make_token(bob)).status_code == 200
    social.unfollow_user(bob, "ops")
    assert client.get(entity["url"], headers=make_token(bob)).status_code == 404


def test_an_edit_keeps_the_images_and_refuses_to_change_them(client, alice):
    auth = make_token(alice)
    first, second = (upload(client, auth, picture((300, 200))).get_json()["id"] for _ in range(2))
    status = client.post(
        "/api/v1/statuses", data={"status": "Two slides", "media_ids[]": [first]}, headers=auth
    ).get_json()
    path = f"/api/v1/statuses/{status['id']}"
    same = client.put(path, json={"status": "Two slides, fixed", "media_ids": [first]}, headers=auth)
    assert same.status_code == 200 and [m["id"] for m in same.get_json()["media_attachments"]] == [first]
    changed = client.put(path, json={"status": "Other slides", "media_ids": [second]}, headers=auth)
    assert changed.status_code == 422
    text_only = client.put(path, json={"status": "Text only edit"}, headers=auth).get_json()
    assert [m["id"] for m in text_only["media_attachments"]] == [first]


def test_invalid_utf_8_in_an_upload_s_fields_is_refused(client, app, alice):
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="description"\r\n\r\n'.encode()
        + b"caf\xff\xfe\r\n"
        + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode()
        + picture((200, 100))
        + f"\r\n--{boundary}--\r\n".encode()
    )
    answer = client.post(
        "/api/v2/media",
        data=body,
        headers=make_token(alice),
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert answer.status_code == 400 and "UTF-8" in answer.get_json()["error"]
    assert stored_files(app) == []


@pytest.mark.parametrize(
    "size", [(1, 20000), (17000, 2), (6000, 200)], ids=["strip", "too long a side", "too narrow"]
)
def test_strips_and_sides_past_the_limits_are_refused_before_decoding(client, app, alice, size):
    strip = io.BytesIO()
    Image.new("L", size).save(strip, "PNG")
    answer = upload(client, make_token(alice), strip.getvalue(), "strip.png")
    assert answer.status_code == 422, answer.data
    assert stored_files(app) == []


def test_an_account_s_posts_with_images(client, alice, bob):
    auth = make_token(alice)
    with_image = []
    for n in range(3):
        image = upload(client, auth, picture((200, 150))).get_json()["id"]
        with_image.append(
            client.post(
                "/api/v1/statuses", data={"status": f"Photo {n}", "media_ids[]": [image]}, headers=auth
            ).get_json()["id"]
        )
        client.post("/api/v1/statuses", data={"status": f"Words {n}"}, headers=auth)
    path = f"/api/v1/accounts/{alice.id}/statuses"
    first = client.get(f"{path}?only_media=true&limit=2", headers=make_token(bob))
    assert [s["id"] for s in first.get_json()] == with_image[:0:-1]
    older = client.get(first.headers["Link"].split(";")[0].strip("<>"), headers=make_token(bob)).get_json()
    assert [s["id"] for s in older] == with_image[:1]
    assert client.get(f"{path}?only_media=maybe", headers=auth).status_code == 422
    assert client.get(f"{path}?pinned=maybe", headers=auth).status_code == 422


class _Elements(HTMLParser):
    """Collect a page's elements as (tag, attributes), in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {name: value or "" for name, value in attrs}))


def elements(html: str, tag: str, **having: str) -> list[dict[str, str]]:
    """Return the attributes of the page's `tag` elements whose attributes include `having` (_ for -)."""
    reader = _Elements()
    reader.feed(html)
    wanted = {name.replace("_", "-"): value for name, value in having.items()}
    return [a for t, a in reader.found if t == tag and all(a.get(k) == v for k, v in wanted.items())]


def test_a_feed_shows_a_post_s_images_with_their_descriptions_and_sizes(client, alice, bob):
    wide = media.upload(alice, picture((1600, 900)), description="Burn-down chart, sprint 14")
    plain = media.upload(alice, picture((600, 800)))
    posts.post_status(alice, "Sprint review", media_ids=[str(wide.id), str(plain.id)])
    alone = media.upload(alice, picture((1600, 900)), description="The new office")
    posts.post_status(alice, "Moved in", media_ids=[str(alone.id)])
    login(client, "bob")
    page = client.get("/public").get_data(as_text=True)

    feed = re.sub(r"<template.*?</template>", "", page, flags=re.DOTALL)  # the live and composer patterns
    assert [g["class"] for g in elements(feed, "div", data_media="")] == [
        "media-grid media-1",
        "media-grid media-2",
    ]
    links = elements(feed, "a", data_lightbox="")
    assert [link["href"] for link in links] == [
        f"/media/{m.key}/original.{m.ext}" for m in (alone, wide, plain)
    ]
    assert [(link["data-width"], link["data-height"]) for link in links] == [
        ("1600", "900"),
        ("1600", "900"),
        ("600", "800"),
    ]
    # Without a description the link says so; with one, the image's alt is it.
    assert "aria-label" not in links[1] and links[2]["aria-label"] == "Image without a description"
    shown = [img for img in elements(feed, "img") if img.get("src", "").startswith("/media/")]
    assert [img["alt"] for img in shown] == ["The new office", "Burn-down chart, sprint 14", ""]
    assert all(img["loading"] == "lazy" for img in shown)
    # Alone: whole, within 560x420 and never enlarged; in a grid: the preview's own size (cropped by CSS).
    assert (shown[0]["width"], shown[0]["height"]) == ("560", "315")
    assert (shown[1]["width"], shown[1]["height"]) == (str(wide.small_width), str(wide.small_height))
    assert shown[0]["srcset"] == (
        f"/media/{alone.key}/small.jpg {alone.small_width}w, /media/{alone.key}/original.jpg 1600w"
    )
    badges = elements(feed, "button", data_alt="")
    assert len(badges) == 2  # the described ones
    assert badges[1]["aria-describedby"] == f"alt-post-{wide.post_id}-{wide.id}"
    assert elements(feed, "p", id=f"alt-post-{wide.post_id}-{wide.id}", role="tooltip")
    # The lightbox the links open, once on the page.
    assert len(elements(page, "dialog", data_lightbox_dialog="")) == 1


def test_a_small_image_alone_is_drawn_at_its_own_size(client, alice):
    small = media.upload(alice, picture((300, 200)))
    posts.post_status(alice, "Tiny", media_ids=[str(small.id)])
    login(client, "alice")
    page = client.get("/public").get_data(as_text=True)
    (img,) = [i for i in elements(page, "img") if i.get("src") == f"/media/{small.key}/small.jpg"]
    assert (img["width"], img["height"]) == ("300", "200") and "srcset" not in img


def test_the_live_template_carries_an_image_pattern(alice_client):
    page = alice_client.get("/").get_data(as_text=True)
    template = page.split("<template data-post-template>", 1)[1].split("</template>", 1)[0]
    assert elements(template, "div", data_media="") and elements(template, "a", data_lightbox="")
    assert elements(template, "button", data_alt="") and elements(template, "p", data_alt_text="")


def test_the_composer_asks_for_images_but_the_edit_page_does_not(alice_client, alice):
    page = alice_client.get("/").get_data(as_text=True)
    assert elements(page, "input", type="file", accept="image/jpeg,image/png,image/gif,image/webp")
    assert elements(page, "div", data_attachments="", data_upload_url="/media", data_max="4")
    (button,) = elements(page, "button", data_attach_button="")
    assert "hidden" in button  # until the script shows it: without JavaScript there is nothing to press
    post = posts.post_status(alice, "Typo hree")
    edit = alice_client.get(f"/posts/{post.id}/edit").get_data(as_text=True)
    assert not elements(edit, "input", type="file") and not elements(edit, "div", data_attachments="")


def test_a_refused_post_keeps_its_images_and_their_descriptions(alice_client, alice, bob):
    mine = media.upload(alice, picture((400, 300)))
    bobs = media.upload(bob, picture((400, 300)))
    answer = alice_client.post(
        "/posts",
        data={
            "text": "x" * 141,
            "media_ids": [str(mine.id), str(bobs.id)],
            f"description_{mine.id}": "Rack B, second shelf",
        },
    )
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    kept = [i["value"] for i in elements(page, "input", name="media_ids") if i.get("value")]
    assert kept == [str(mine.id)]  # someone else's upload is not shown, nor posted again
    assert f'name="description_{mine.id}"' in page and "Rack B, second shelf</textarea>" in page
    assert db.session.scalar(select(func.count()).select_from(Post)) == 0
    assert db.session.get(MediaAttachment, mine.id).post_id is None


def test_a_multipart_part_without_a_name_is_no_server_error(client, alice):
    boundary = "b0undary"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data\r\n\r\nnameless\r\n".encode()
        + f'--{boundary}\r\nContent-Disposition: form-data; name="focus"\r\n\r\n[]\r\n'.encode()
        + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="file"\r\n\r\n\r\n'.encode()
        + f"--{boundary}--\r\n".encode()
    )
    answer = client.post(
        "/api/v2/media",
        data=body,
        headers=make_token(alice),
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert 400 <= answer.status_code < 500, answer.data
