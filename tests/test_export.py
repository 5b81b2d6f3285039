"""`flask --app wsgi users export NAME`: one person's data as JSON, for a data-protection request."""

from __future__ import annotations

import json
import zipfile

import pytest

from microblog.database import db
from microblog.services import accounts, communities, export, media, posts, social, team_desk

from .factories import make_community, make_post, make_team, make_user
from .test_media import picture


@pytest.fixture
def kari(app):
    """A person with posts, a reply, follows both ways, a followed tag and likes both ways."""
    kari = make_user(
        "kari",
        display_name="Kari Ærø Ås",
        department="Økonomi",
        job_title="Controller",
        bio="Blåbær og vafler.",
    )
    ola = make_user("ola", display_name="Ola Hansen")
    per = make_user("per")
    first = make_post(kari, "Kvartalsrapporten er klar, på tide med blåbærsyltetøy #kantine")
    theirs = make_post(ola, "Who has the billing export?")
    reply = make_post(kari, "@ola I do, ærlig talt", in_reply_to=theirs.id)
    posts.like_post(ola, first.id)
    posts.like_post(per, first.id)
    posts.like_post(kari, theirs.id)
    social.follow_user(kari, "ola")
    social.follow_user(per, "kari")
    social.follow_user(ola, "kari")
    social.follow_tag(kari, "kantine")
    return {"first": first.id, "theirs": theirs.id, "reply": reply.id}


def test_export_holds_profile_posts_follows_and_likes(app, kari):
    result = app.test_cli_runner().invoke(args=["users", "export", "KARI"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["profile"] == {
        "username": "kari",
        "display_name": "Kari Ærø Ås",
        "email": "kari@example.com",
        "job_title": "Controller",
        "department": "Økonomi",
        "bio": "Blåbær og vafler.",
        "created_at": data["profile"]["created_at"],
        "admin": False,
        "active": True,
        "directory_entry": None,
    }
    assert data["profile"]["created_at"].endswith("+00:00")
    assert [(p["id"], p["text"], p["in_reply_to_id"], p["likes"], p["posted_as"]) for p in data["posts"]] == [
        (kari["first"], "Kvartalsrapporten er klar, på tide med blåbærsyltetøy #kantine", None, 2, None),
        (kari["reply"], "@ola I do, ærlig talt", kari["theirs"], 0, None),
    ]
    assert all(p["created_at"].endswith("+00:00") for p in data["posts"])
    assert data["following"] == ["ola"]
    assert data["followers"] == ["ola", "per"]
    assert data["followed_tags"] == ["kantine"]
    assert data["liked_post_ids"] == [kari["theirs"]]


def test_export_keeps_non_ascii_text_and_writes_a_file(app, kari, tmp_path):
    runner = app.test_cli_runner()
    printed = runner.invoke(args=["users", "export", "kari"])
    assert "Kari Ærø Ås" in printed.stdout and "\\u00c6" not in printed.stdout  # not escaped
    target = tmp_path / "kari.json"
    written = runner.invoke(args=["users", "export", "kari", "--output", str(target)])
    assert written.exit_code == 0, written.output
    assert written.stdout == "" and "2 posts" in written.stderr
    raw = target.read_bytes()
    assert "blåbærsyltetøy".encode() in raw
    from_file, from_stdout = json.loads(raw.decode("utf-8")), json.loads(printed.stdout)
    from_file.pop("exported_at"), from_stdout.pop("exported_at")
    assert from_file == from_stdout


def test_export_reads_posts_in_batches(app, kari, monkeypatch, count_queries):
    monkeypatch.setattr(export, "BATCH", 2)
    author = accounts.access_user("kari")
    made = [make_post(author, f"Status {n}").id for n in range(3)]
    db.session.refresh(author)
    with count_queries() as counter:
        listed = [p["id"] for p in export.posts_of(author)]
    assert listed == [kari["first"], kari["reply"], *made]
    # 5 posts, 2 a query: one query per batch, the last one short, and one for each batch's images;
    # and one (empty) for team posts.
    assert counter.count == 7


def test_export_of_an_unknown_user_is_a_clear_error(app):
    result = app.test_cli_runner().invoke(args=["users", "export", "nobody"])
    assert result.exit_code == 1
    assert "There is no one called @nobody here." in result.output
    assert result.stdout == ""


def test_export_holds_the_posts_written_as_a_team_that_the_person_may_still_see(app, kari, monkeypatch):
    author, ola = accounts.access_user("kari"), accounts.access_user("ola")
    support = make_team("it-support", members=(author, ola))
    board = make_community(ola, "board", private=True)
    communities.add_member(None, board, support)
    fixed = make_post(support, "The printer on 3 is fixed", posted_by=author)
    liked = make_post(support, "@ola thanks for the report", in_reply_to=fixed.id, posted_by=author)
    posts.like_post(ola, liked.id)
    make_post(support, "Not hers: ola wrote this one", posted_by=ola)
    make_post(support, "@board the projector is fixed", posted_by=author)  # in @board: kari is not in it
    own = make_post(author, "Written as herself, after")
    team_desk.remove_member(None, support, author)  # leaving the team: she wrote them all the same

    result = app.test_cli_runner().invoke(args=["users", "export", "kari"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(p["id"], p["text"], p["in_reply_to_id"], p["likes"], p["posted_as"]) for p in data["posts"]] == [
        (kari["first"], "Kvartalsrapporten er klar, på tide med blåbærsyltetøy #kantine", None, 2, None),
        (kari["reply"], "@ola I do, ærlig talt", kari["theirs"], 0, None),
        (fixed.id, "The printer on 3 is fixed", None, 0, "it-support"),
        (liked.id, "@ola thanks for the report", fixed.id, 1, "it-support"),
        (own.id, "Written as herself, after", None, 0, None),
    ]
    assert "projector" not in result.stdout and "Not hers" not in result.stdout
    monkeypatch.setattr(export, "BATCH", 1)  # both walks, a post a query, still merged in order
    assert list(export.posts_of(author)) == data["posts"]

    communities.add_member(None, board, author)  # she may see it now: it is hers to have
    texts = [p["text"] for p in export.posts_of(author)]
    assert texts[-2:] == ["@board the projector is fixed", "Written as herself, after"]


def test_export_to_a_zip_holds_the_person_s_images(app, kari, tmp_path):
    owner = accounts.access_user("kari")
    image = media.upload(owner, picture((640, 480)), description="Our stand at the fair")
    posted = posts.post_status(owner, "At the fair", media_ids=[image.id])
    target = tmp_path / "kari.zip"
    written = app.test_cli_runner().invoke(args=["users", "export", "kari", "--output", str(target)])
    assert written.exit_code == 0, written.output
    with zipfile.ZipFile(target) as archive:
        data = json.loads(archive.read("data.json"))
        listed = next(p for p in data["posts"] if p["id"] == posted.id)["images"]
        assert [(i["file"], i["description"]) for i in listed] == [
            (f"images/{image.id}.jpg", "Our stand at the fair")
        ]
        stored = media.media_dir() / media.file_names(image)["original"]
        assert archive.read(listed[0]["file"]) == stored.read_bytes()
    assert all(p["images"] == [] for p in data["posts"] if p["id"] != posted.id)
