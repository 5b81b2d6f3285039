"""The web UI through the Flask test client: status codes, database state, error cases."""

import re

import pytest
from sqlalchemy import func, select

from config import TestingConfig
from microblog import create_app
from microblog.database import db
from microblog.services import accounts, social
from models import Follow, Like, Post, TagFollow, User

from .factories import PASSWORD, login, make_post, make_user


def _posts() -> int:
    return db.session.scalar(select(func.count()).select_from(Post))


def test_anonymous_users_are_sent_to_log_in(client):
    for path in ("/", "/public", "/people", "/tags/apollo", "/@alice", "/settings", "/admin/users"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location, path


def test_sign_up_logs_in_and_lands_on_people(client):
    response = client.post(
        "/signup",
        data={
            "username": "Kari.Nordmann",
            "display_name": "Kari",
            "email": "kari@example.com",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302 and response.location == "/people"
    assert db.session.scalar(select(User.username)) == "kari.nordmann"
    assert client.get("/").status_code == 200


def test_sign_up_errors_keep_the_input(client, alice):
    response = client.post(
        "/signup",
        data={"username": "alice", "display_name": "Other", "email": "x@example.com", "password": PASSWORD},
    )
    assert response.status_code == 409
    assert b"already registered" in response.data and b'value="x@example.com"' in response.data
    response = client.post("/signup", data={"username": "ok", "email": "ok@example.com", "password": "short"})
    assert response.status_code == 422 and b"at least 8" in response.data
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_sign_up_domain_restriction(tmp_path, database_url):
    config = TestingConfig(
        {
            "MICROBLOG_DATABASE_URL": database_url,
            "MICROBLOG_DATA_DIR": str(tmp_path),
            "MICROBLOG_ALLOWED_EMAIL_DOMAINS": "example.com, corp.example.org",
        }
    )
    app = create_app(config)
    with app.app_context():
        client = app.test_client()
        assert b"example.com, corp.example.org" in client.get("/signup").data
        data = {"username": "eve", "email": "eve@gmail.com", "password": PASSWORD}
        response = client.post("/signup", data=data)
        assert response.status_code == 422 and b"company addresses" in response.data
        response = client.post("/signup", data={**data, "email": "eve@corp.example.org"})
        assert response.status_code == 302
        db.session.remove()
        db.engine.dispose()


def test_login_logout_and_wrong_password(client, alice):
    response = client.post("/login", data={"login": "alice", "password": "wrong"})
    assert response.status_code == 422 and b"Wrong username or password" in response.data
    login(client, "alice")
    assert b"@alice" in client.get("/").data
    assert client.get("/logout").status_code == 405  # logging out takes a POST
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_login_redirects_only_to_local_pages(client, alice):
    for target, expected in [("/tags/x", "/tags/x"), ("https://evil.example/", "/"), ("//evil.example", "/")]:
        response = client.post(f"/login?next={target}", data={"login": "alice", "password": PASSWORD})
        assert response.location == expected
        client.post("/logout")


def test_remember_me_sets_a_lasting_cookie(client, alice):
    login(client, "alice", remember=True)
    assert client.get_cookie("remember_token") is not None
    client.delete_cookie("session")
    assert client.get("/").status_code == 200  # the remember cookie logs the user back in


def test_login_attempts_are_rate_limited(client, alice):
    for _ in range(10):
        client.post("/login", data={"login": "alice", "password": "wrong"})
    response = client.post("/login", data={"login": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many attempts" in response.data
    assert client.get("/login").status_code == 200  # only attempts are limited


def test_deactivation_ends_the_session_for_good(client, alice, admin):
    login(client, "alice", remember=True)
    assert client.get("/").status_code == 200
    accounts.set_active(admin, "alice", False)
    assert client.get("/").status_code == 302
    response = client.post("/login", data={"login": "alice", "password": PASSWORD})
    assert response.status_code == 403 and b"deactivated" in response.data
    accounts.set_active(admin, "alice", True)
    assert client.get("/").status_code == 302  # the old session and cookie stay dead
    login(client, "alice")
    assert client.get("/").status_code == 200


def test_password_change_ends_other_sessions_but_not_this_one(app, alice):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, "alice", remember=True)
    login(phone, "alice", remember=True)
    response = laptop.post(
        "/settings/password", data={"current_password": PASSWORD, "new_password": "a new passphrase"}
    )
    assert response.status_code == 302
    assert laptop.get("/").status_code == 200
    assert phone.get("/").status_code == 302


def test_older_posts_link_pages_through_the_feed(alice_client, alice):
    ids = [make_post(alice, f"post {i}").id for i in range(25)]
    page = alice_client.get("/").data.decode()
    assert f'href="/?max_id={ids[5]}"' in page and "post 24" in page and "post 4<" not in page
    older = alice_client.get(f"/?max_id={ids[5]}").data.decode()
    assert "post 4<" in older and "post 0<" in older and "post 5<" not in older
    assert "Older posts" not in older


def test_deleting_the_first_post_keeps_the_thread_reachable(alice_client, alice, bob):
    root = make_post(bob, "root")
    reply = make_post(alice, "reply", in_reply_to=root.id)
    deeper = make_post(bob, "deeper", in_reply_to=reply.id)
    from microblog.services import posts as post_service

    post_service.delete_post(bob, root.id)
    page = alice_client.get(f"/posts/{deeper.id}")
    assert page.status_code == 200 and b"reply" in page.data and b"deeper" in page.data
    response = alice_client.post("/posts", data={"text": "still here", "in_reply_to": str(deeper.id)})
    assert alice_client.get(response.location).status_code == 200
    assert f'href="/posts/{reply.id}#post-{reply.id}"' in alice_client.get("/").data.decode()


def test_forwarded_headers_count_only_with_configured_proxies(tmp_path, database_url):
    def client_address(hops: str) -> str:
        env = {
            "MICROBLOG_DATABASE_URL": database_url,
            "MICROBLOG_DATA_DIR": str(tmp_path),
            "MICROBLOG_PROXY_HOPS": hops,
        }
        app = create_app(TestingConfig(env))
        seen = {}

        @app.get("/_address")
        def _address():
            from flask import request

            seen["address"] = request.remote_addr
            return ""

        app.test_client().get("/_address", headers={"X-Forwarded-For": "10.1.2.3"})
        return seen["address"]

    assert client_address("0") == "127.0.0.1"
    assert client_address("1") == "10.1.2.3"


def test_posting_from_the_composer(alice_client, alice):
    response = alice_client.post("/posts", data={"text": "Shipped <b>42</b> #apollo", "next": "/public"})
    assert response.status_code == 302 and response.location == "/public"
    post = db.session.scalars(select(Post)).one()
    assert post.author_id == alice.id
    page = alice_client.get("/public").data.decode()
    assert "Shipped &lt;b&gt;42&lt;/b&gt;" in page and "<b>42</b>" not in page
    assert 'href="/tags/apollo"' in page


@pytest.mark.parametrize("text", ["x" * 141, "   ", "bell\x07"])
def test_a_refused_post_keeps_the_text_and_says_why(alice_client, text):
    response = alice_client.post("/posts", data={"text": text, "next": "/"})
    assert response.status_code == 422
    assert b'class="field-error"' in response.data
    if text.strip() and "\x07" not in text:
        assert text.encode() in response.data
    assert _posts() == 0


def test_reply_from_the_thread_page(alice_client, alice, bob):
    root = make_post(bob, "Who can review?")
    page = alice_client.get(f"/posts/{root.id}").data.decode()
    assert 'name="in_reply_to"' in page and "@bob " in page
    response = alice_client.post("/posts", data={"text": "@bob me", "in_reply_to": str(root.id)})
    reply = db.session.scalars(select(Post).where(Post.in_reply_to_id == root.id)).one()
    assert response.location == f"/posts/{reply.id}#post-{reply.id}"
    response = alice_client.post("/posts", data={"text": "x" * 200, "in_reply_to": str(root.id)})
    assert response.status_code == 422 and b"Conversation" in response.data


def test_like_unlike_and_delete_buttons(alice_client, alice, bob):
    post = make_post(bob, "like me")
    assert alice_client.post(f"/posts/{post.id}/like", data={"next": "/public"}).location == "/public"
    assert db.session.scalar(select(func.count()).select_from(Like)) == 1
    assert 'aria-pressed="true"' in alice_client.get("/public").data.decode()
    alice_client.post(f"/posts/{post.id}/unlike", data={"next": "/public"})
    assert db.session.scalar(select(func.count()).select_from(Like)) == 0
    assert alice_client.post(f"/posts/{post.id}/delete").status_code == 403
    own = make_post(alice, "mine")
    response = alice_client.post(f"/posts/{own.id}/delete", data={"next": f"/posts/{own.id}"})
    assert response.status_code == 302 and response.location == "/"
    assert _posts() == 1


def test_follow_buttons_and_tag_page(alice_client, alice, bob):
    make_post(bob, "status on #apollo")
    assert alice_client.post("/@bob/follow", data={"next": "/@bob"}).location == "/@bob"
    assert db.session.scalar(select(func.count()).select_from(Follow)) == 1
    assert alice_client.post("/tags/apollo/follow", data={"next": "/tags/apollo"}).status_code == 302
    assert db.session.scalar(select(TagFollow.user_id)) == alice.id
    page = alice_client.get("/tags/apollo").data.decode()
    assert "Unfollow #apollo" in page and "1 follower" in page and "status on" in page
    assert b"Alice" in alice_client.get("/tags/apollo/followers").data
    response = alice_client.post("/tags", data={"name": "#Gemini"})
    assert response.location == "/tags/gemini"
    assert b"#gemini" in alice_client.get("/tags").data
    alice_client.post("/@bob/unfollow")
    assert db.session.scalar(select(func.count()).select_from(Follow)) == 0


def test_profile_people_and_lists(alice_client, alice, bob):
    social.follow_user(bob, "alice")
    accounts.update_profile(alice, job_title="SRE", bio="Hei")
    page = alice_client.get("/@alice").data.decode()
    assert "SRE" in page and "Engineering" in page and "<strong>1</strong> follower<" in page
    assert "Bob Berg" in alice_client.get("/@alice/followers").data.decode()
    assert "Bob Berg" not in alice_client.get("/people?department=Engineering").data.decode()
    assert "Bob Berg" in alice_client.get("/people?department=Sales").data.decode()
    svg = alice_client.get("/avatars/alice.svg")
    assert svg.mimetype == "image/svg+xml" and b">AA<" in svg.data


def test_settings_update_profile(alice_client, alice):
    response = alice_client.post(
        "/settings",
        data={"display_name": "Alice A", "job_title": "Lead", "department": "Platform", "bio": "x"},
    )
    assert response.status_code == 302
    assert db.session.get(User, alice.id).department == "Platform"
    response = alice_client.post("/settings", data={"display_name": "x" * 61})
    assert response.status_code == 422
    response = alice_client.post(
        "/settings/password", data={"current_password": "no", "new_password": "abcdefgh1"}
    )
    assert response.status_code == 422 and b"current password is wrong" in response.data


def test_admin_pages_and_actions(client, admin, alice):
    login(client, "alice")
    assert client.get("/admin/users").status_code == 403
    assert client.post("/admin/users/root/deactivate").status_code == 403
    client.post("/logout")
    login(client, "root")
    assert b"alice@example.com" in client.get("/admin/users").data
    assert client.post("/admin/users/alice/deactivate").status_code == 302
    assert db.session.get(User, alice.id).is_active is False
    assert client.post("/admin/users/alice/grant-admin").status_code == 302
    assert db.session.get(User, alice.id).is_admin is True
    assert client.post("/admin/users/alice/explode").status_code == 404
    assert client.post("/admin/users/ghost/reactivate").status_code == 404


@pytest.mark.parametrize(
    "method, path, data",
    [
        ("get", "/?max_id=abc", None),
        ("get", "/?limit=-5", None),
        ("get", "/public?since_id=99999999999999999999999", None),
        ("get", "/posts/notanumber", None),
        ("get", "/posts/99999999", None),
        ("get", "/posts/99999999999999999999", None),
        ("post", "/posts/99999999999999999999/like", None),
        ("post", "/posts/99999999999999999999/delete", None),
        ("post", "/posts", {"text": "keep me", "in_reply_to": "99999999999999999999"}),
        ("get", "/tags/%3Cscript%3E", None),
        ("get", "/@nobody", None),
        ("get", "/avatars/nobody.svg", None),
        ("post", "/posts", {"text": "x", "in_reply_to": "nope"}),
        ("post", "/posts", {"text": "\x00"}),
        ("post", "/posts/1/like", None),
        ("post", "/tags", {"name": "!!!"}),
        ("post", "/@alice/follow", None),
        ("get", "/people?department=%00&after=x", None),
        ("get", "/@%00", None),
        ("post", "/login", {"login": "a\x00", "password": "x"}),
        ("post", "/settings", {"display_name": "nul\x00"}),
    ],
)
def test_bad_input_is_a_clear_4xx_never_a_500(alice_client, method, path, data):
    response = getattr(alice_client, method)(path, data=data)
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert b"<h1" in response.data


def test_forms_need_a_csrf_token(tmp_path, database_url):
    config = TestingConfig({"MICROBLOG_DATABASE_URL": database_url, "MICROBLOG_DATA_DIR": str(tmp_path)})
    config.WTF_CSRF_ENABLED = True
    app = create_app(config)
    with app.app_context():
        make_user("alice")
        client = app.test_client()
        response = client.post("/login", data={"login": "alice", "password": PASSWORD})
        assert response.status_code == 400  # refused without its token
        page = client.get("/login").data.decode()
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        response = client.post("/login", data={"login": "alice", "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302
        response = client.post("/posts", data={"text": "forged"})
        assert response.status_code == 400 and b"form expired" in response.data
        db.session.remove()
        db.engine.dispose()


def test_pages_cost_a_constant_number_of_queries(alice_client, alice, bob, count_queries):
    social.follow_user(alice, "bob")
    alice_client.get("/")  # the day's first page also notes that alice came today (services.activity)
    sizes = {}
    for n in (3, 30):
        while db.session.scalar(select(func.count()).select_from(Post)) < n:
            make_post(bob, "#apollo post")
        _ = alice.id
        with count_queries() as counter:
            assert alice_client.get("/").status_code == 200
        # PostgreSQL: the kept home's plan mode, set and restored, and the ids settled (kept_homes)
        sizes[n] = len([s for s in counter.statements if not _PG_HOUSEKEEPING.search(s)])
    assert sizes[3] == sizes[30] <= 7, sizes  # the 7th: where alice was reading (her home marker)


_PG_HOUSEKEEPING = re.compile(r"plan_cache_mode|settled_post_id\(\)")


@pytest.mark.parametrize("target", ["/\r\nSet-Cookie: pwn=1", "/\nx", "/\tx", "/\x7fx"])
def test_a_next_with_control_characters_goes_home(client, alice, target):
    response = client.post(
        "/login", query_string={"next": target}, data={"login": "alice", "password": PASSWORD}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_the_log_in_required_message_is_a_neutral_note_not_a_success(client):
    response = client.get("/", follow_redirects=True)
    assert b'<p class="flash flash-info">Log in to see that page.</p>' in response.data


def test_a_reply_names_whom_it_answers_and_the_reply_box_says_to_whom(alice_client, alice, bob):
    parent = make_post(bob, "Standup at ten")
    reply = make_post(alice, "@bob see you there", in_reply_to=str(parent.id))
    for path in (f"/posts/{reply.id}", "/public", "/@alice"):
        page = alice_client.get(path).get_data(as_text=True)
        link = f'<a href="/posts/{parent.id}#post-{parent.id}">'
        assert link + "↳ in reply to <span data-reply-to>@bob</span></a>" in page, path
    page = alice_client.get(f"/posts/{parent.id}").get_data(as_text=True)
    assert 'placeholder="Reply to @bob…"' in page and "Write a reply" not in page


def test_the_like_button_is_named_for_what_it_does_with_the_count(alice_client, alice, bob):
    post = make_post(bob, "like me")
    page = alice_client.get("/public").get_data(as_text=True)
    assert 'title="Like" aria-label="Like">' in page and "likes</span>" not in page
    alice_client.post(f"/posts/{post.id}/like")
    page = alice_client.get("/public").get_data(as_text=True)
    assert 'title="Unlike" aria-label="Unlike (1 like)">' in page
    assert '<span data-like-icon aria-hidden="true">♥</span>' in page


def test_like_and_unlike_answer_json_when_asked(alice_client, alice, bob):
    post = make_post(bob, "like me")
    json = {"Accept": "application/json"}
    answer = alice_client.post(f"/posts/{post.id}/like", headers=json).get_json()
    assert answer == {"id": str(post.id), "liked": True, "likes": 1, "action": f"/posts/{post.id}/unlike"}
    answer = alice_client.post(f"/posts/{post.id}/unlike", headers=json).get_json()
    assert answer == {"id": str(post.id), "liked": False, "likes": 0, "action": f"/posts/{post.id}/like"}
    assert alice_client.post(f"/posts/{post.id}/like").status_code == 302  # the form without JavaScript


def test_every_page_starts_with_a_skip_link_to_the_content(client, alice):
    pages = [client.get("/login")]
    login(client, "alice")
    pages += [client.get(path) for path in ("/", "/people", "/settings", "/@alice", "/nowhere")]
    for response in pages:
        page = response.get_data(as_text=True)
        body = page[page.index("<body") :]
        first_link = body[body.index("<a ") :]
        skip = '<a class="skip-link" href="#content">Skip to content</a>'
        assert first_link.startswith(skip), response.request.path
        assert '<main id="content" tabindex="-1"' in page


def test_people_have_follow_buttons_and_a_name_filter(alice_client, alice, bob):
    make_user("kari", display_name="Kari Nordmann")
    make_user("per_cent", display_name="100% Per")
    social.follow_user(alice, "bob")
    page = alice_client.get("/people").get_data(as_text=True)
    assert '<form method="post" action="/@bob/unfollow"' in page and 'data-follow="bob"' in page
    assert '<form method="post" action="/@kari/follow"' in page
    assert 'aria-label="Follow Kari Nordmann"' in page
    assert 'data-follow="alice"' not in page  # not oneself
    page = alice_client.get("/people?q=NORD").get_data(as_text=True)
    assert "@kari" in page and "@bob" not in page and 'value="NORD"' in page
    page = alice_client.get("/people?q=_").get_data(as_text=True)  # LIKE wildcards match only themselves
    assert "@per_cent" in page and "@kari" not in page
    page = alice_client.get("/people?q=%25").get_data(as_text=True)
    assert "@per_cent" in page and "@kari" not in page
    assert "No one’s name holds" in alice_client.get("/people?q=zzz").get_data(as_text=True)
    assert alice_client.post("/@kari/follow", data={"next": "/people?q=kari"}).location == "/people?q=kari"


def test_admins_can_search_accounts(client, admin, alice, bob):
    accounts.set_active(admin, "bob", False)
    login(client, admin.username)
    page = client.get("/admin/users?q=BO").get_data(as_text=True)
    assert "@bob" in page and "@alice" not in page  # deactivated accounts are found too
    page = client.get("/admin/users?q=alice@example").get_data(as_text=True)
    assert "@alice" in page and "@bob" not in page
    assert "No account matches" in client.get("/admin/users?q=%25zz").get_data(as_text=True)
