"""Post services: posting, tags, mentions, replies, likes, deletes."""

import pytest
from sqlalchemy import func, select

from microblog.database import db
from microblog.services import posts
from microblog.services.errors import NotFound, PermissionDenied, ValidationError
from models import Like, Notification, Post, Tag, mentions, post_tags

from .factories import make_post, make_user


def _count(table) -> int:
    return db.session.scalar(select(func.count()).select_from(table))


def test_post_status_stores_text_html_tags_and_mentions(app, alice, bob):
    post = posts.post_status(alice, "Release of #Apollo is out, @bob please check #apollo #Økonomi")
    stored = db.session.get(Post, post.id)
    assert stored.author_id == alice.id
    assert stored.text == "Release of #Apollo is out, @bob please check #apollo #Økonomi"
    assert '<a href="/@bob" class="mention">@bob</a>' in stored.html
    names = db.session.scalars(select(Tag.name).join(post_tags).where(post_tags.c.post_id == post.id))
    assert sorted(names) == ["apollo", "økonomi"]
    assert list(db.session.execute(select(mentions.c.user_id))) == [(bob.id,)]


def test_tags_are_shared_between_posts(app, alice):
    make_post(alice, "#apollo one")
    make_post(alice, "#APOLLO two")
    assert _count(Tag) == 1
    assert _count(post_tags) == 2


@pytest.mark.parametrize("text", ["", "   ", "x" * 141, "a\x00b"])
def test_invalid_posts_are_refused_and_nothing_is_stored(app, alice, text):
    with pytest.raises(ValidationError):
        posts.post_status(alice, text)
    assert _count(Post) == 0


def test_reply_joins_the_thread_and_addresses_the_parent_author(app, alice, bob):
    root = make_post(alice, "Who reviews the deploy?")
    reply = make_post(bob, "Me!", in_reply_to=root.id)
    reply2 = make_post(alice, "Thanks", in_reply_to=str(reply.id))
    assert (reply.conversation_id, reply2.conversation_id) == (root.id, root.id)
    assert reply2.thread_id == root.id and root.thread_id == root.id
    db.session.refresh(root)
    assert root.reply_count == 1
    addressed = set(db.session.execute(select(mentions.c.post_id, mentions.c.user_id)))
    assert addressed == {(reply.id, alice.id), (reply2.id, bob.id)}


@pytest.mark.parametrize("parent", [999999, "abc", "-1"])
def test_reply_to_missing_post_is_not_found(app, alice, parent):
    with pytest.raises(NotFound):
        posts.post_status(alice, "hello", in_reply_to=parent)
    assert _count(Post) == 0


def test_likes_are_idempotent_and_counted(app, alice, bob):
    post = make_post(alice, "Like me")
    assert posts.like_post(bob, post.id).like_count == 1
    assert posts.like_post(bob, post.id).like_count == 1
    assert posts.like_post(alice, post.id).like_count == 2
    assert _count(Like) == 2
    assert posts.unlike_post(bob, post.id).like_count == 1
    assert posts.unlike_post(bob, post.id).like_count == 1
    assert _count(Like) == 1


def test_liking_again_after_taking_a_like_back_notifies_once(app, alice, bob):
    post = make_post(alice, "Like me")
    liked = select(func.count()).select_from(Notification).where(Notification.kind == "favourite")
    posts.like_post(bob, post.id)
    posts.unlike_post(bob, post.id)
    assert db.session.scalar(liked) == 0  # taken back with the like, as Mastodon does
    posts.like_post(bob, post.id)
    posts.like_post(bob, post.id)
    assert db.session.scalar(liked) == 1


def test_delete_by_author_or_admin_only(app, alice, bob, admin):
    post = make_post(alice, "mine #apollo @bob")
    posts.like_post(bob, post.id)
    with pytest.raises(PermissionDenied):
        posts.delete_post(bob, post.id)
    assert posts.delete_post(alice, post.id) == post.id
    assert _count(Post) == _count(Like) == _count(post_tags) == _count(mentions) == 0
    other = make_post(bob, "bob's")
    posts.delete_post(admin, other.id)
    assert _count(Post) == 0
    with pytest.raises(NotFound):
        posts.delete_post(admin, other.id)


def test_deleting_a_reply_updates_the_count_and_keeps_the_thread(app, alice, bob):
    root = make_post(alice, "root")
    reply = make_post(bob, "reply", in_reply_to=root.id)
    child = make_post(alice, "child", in_reply_to=reply.id)
    posts.delete_post(bob, reply.id)
    db.session.refresh(root)
    db.session.refresh(child)
    assert root.reply_count == 0
    assert child.in_reply_to_id is None and child.conversation_id == root.id


def test_rerender_rebuilds_cached_html(app, alice):
    make_user("kari")
    post = make_post(alice, "hi @kari see #apollo")
    db.session.execute(Post.__table__.update().values(html="stale"))
    db.session.commit()
    assert posts.rerender_all(batch_size=1) == 1
    db.session.refresh(post)
    assert 'href="/@kari"' in post.html and 'href="/tags/apollo"' in post.html
