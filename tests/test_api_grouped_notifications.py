"""Grouped notifications (Mastodon 4.3's /api/v2/notifications) in-process: groups, paging, filters,
one group's detail, accounts and dismissal, the unread count against the marker, privacy, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from microblog.database import db
from microblog.services import communities
from microblog.services import notifications as notification_service
from microblog.services.notification_groups import GroupFilter, grouped_notifications
from microblog.services.posts import like_post
from microblog.services.social import follow_user
from microblog.services.timelines import Cursor
from models import Notification

from .factories import make_community, make_post, make_token, make_user


@pytest.fixture
def auth(alice):
    return make_token(alice)


@pytest.fixture
def people(app):
    return [make_user(name) for name in ("carol", "dave", "erin")]


def _v2(client, auth, query: str = "", path: str = "/api/v2/notifications"):
    response = client.get(f"{path}{'?' if query else ''}{query}", headers=auth)
    assert response.status_code == 200, response.get_json()
    return response


def _ids(user_rows) -> list[str]:
    return [str(u.id) for u in user_rows]


def _notification_ids(user) -> list[int]:
    """The user's notification ids, oldest first."""
    return list(
        db.session.scalars(
            select(Notification.id).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    )


def test_likes_of_one_post_are_one_group_with_its_latest_accounts_and_count(client, alice, bob, people, auth):
    carol, dave, _erin = people
    post = make_post(alice, "Roadmap is up")
    other = make_post(alice, "Lunch?")
    for fan in (bob, carol, dave):
        like_post(fan, post.id)
    like_post(bob, other.id)
    first, second, third, elsewhere = _notification_ids(alice)

    body = _v2(client, auth).get_json()
    groups = body["notification_groups"]
    assert [g["type"] for g in groups] == ["favourite", "favourite"]
    liked = groups[1]
    hour = int(datetime.now(UTC).timestamp()) // 3600
    assert liked["group_key"] in {f"favourite-{post.id}-{h}" for h in (hour - 1, hour)}
    assert liked["notifications_count"] == 3
    assert liked["sample_account_ids"] == _ids([dave, carol, bob])  # newest first
    assert liked["status_id"] == str(post.id)
    assert liked["most_recent_notification_id"] == third  # a number, as Mastodon sends it
    assert (liked["page_min_id"], liked["page_max_id"]) == (str(first), str(third))
    assert liked["latest_page_notification_at"].endswith("Z")
    assert (
        groups[0]["sample_account_ids"] == _ids([bob])
        and groups[0]["most_recent_notification_id"] == elsewhere
    )
    # Each account and status once, apart from the groups; no partial accounts unless asked for.
    assert [a["id"] for a in body["accounts"]] == _ids([bob, dave, carol])
    assert sorted(s["id"] for s in body["statuses"]) == sorted([str(post.id), str(other.id)])
    assert "partial_accounts" not in body
    # The ungrouped API names each notification's group too (so do streamed ones: the same entity).
    v1 = client.get("/api/v1/notifications", headers=auth).get_json()
    assert [n["group_key"] for n in v1] == [groups[0]["group_key"]] + [liked["group_key"]] * 3
    assert first < second < third


def test_follows_are_grouped_and_mentions_and_replies_each_stand_alone(client, alice, bob, people, auth):
    carol, dave, _ = people
    follow_user(bob, "alice")
    follow_user(carol, "alice")
    hello = make_post(bob, "@alice hello")
    reply = make_post(dave, "Agreed", in_reply_to=make_post(alice, "Ship it?").id)
    _, _, mention, replied = _notification_ids(alice)

    groups = _v2(client, auth).get_json()["notification_groups"]
    assert [(g["type"], g["notifications_count"]) for g in groups] == [
        ("mention", 1),
        ("mention", 1),
        ("follow", 2),
    ]
    assert [g["group_key"] for g in groups[:2]] == [f"ungrouped-{replied}", f"ungrouped-{mention}"]
    assert [g["status_id"] for g in groups[:2]] == [str(reply.id), str(hello.id)]
    assert groups[2]["group_key"].startswith("follow-")
    assert groups[2]["sample_account_ids"] == _ids([carol, bob]) and "status_id" not in groups[2]


def test_a_group_takes_in_what_comes_within_twelve_hours_of_its_first_hour(
    app, alice, bob, people, monkeypatch
):
    post = make_post(alice, "Long day")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    hour = int(start.timestamp()) // 3600
    moments = {"now": start}
    monkeypatch.setattr(notification_service, "utcnow", lambda: moments["now"])
    fans = [bob, *people]
    for fan, later in zip(fans, (0, 11.9, 12, 20), strict=True):
        moments["now"] = start + timedelta(hours=later)
        like_post(fan, post.id)
    keys = db.session.scalars(
        select(Notification.group_key).where(Notification.user_id == alice.id).order_by(Notification.id)
    ).all()
    assert keys == [f"favourite-{post.id}-{hour}"] * 2 + [f"favourite-{post.id}-{hour + 12}"] * 2
    # Follows are grouped by the same rule, apart from likes.
    moments["now"] = start + timedelta(hours=21)
    follow_user(bob, "alice")
    assert db.session.scalar(select(Notification.group_key).where(Notification.kind == "follow")) == (
        f"follow-{hour + 21}"
    )


def test_grouped_types_types_exclude_types_and_account_id_filter(client, alice, bob, people, auth):
    carol = people[0]
    post = make_post(alice, "Vote here")
    like_post(bob, post.id)
    like_post(carol, post.id)
    follow_user(bob, "alice")
    make_post(carol, "@alice ping")

    def shape(query: str) -> list[tuple[str, int]]:
        groups = _v2(client, auth, query).get_json()["notification_groups"]
        return [(g["type"], g["notifications_count"]) for g in groups]

    assert shape("") == [("mention", 1), ("follow", 1), ("favourite", 2)]
    # Likes not grouped: each is a group of one, under its own key.
    ungrouped = _v2(client, auth, "grouped_types[]=follow").get_json()["notification_groups"]
    assert [(g["type"], g["group_key"].split("-")[0]) for g in ungrouped] == [
        ("mention", "ungrouped"),
        ("follow", "follow"),
        ("favourite", "ungrouped"),
        ("favourite", "ungrouped"),
    ]
    nothing_grouped = [("mention", 1), ("follow", 1), ("favourite", 1), ("favourite", 1)]
    assert shape("grouped_types[]=mention") == nothing_grouped  # no type Mastodon groups
    assert shape("types[]=favourite&types[]=reblog") == [("favourite", 2)]
    assert shape("exclude_types[]=favourite&exclude_types[]=mention") == [("follow", 1)]
    assert shape(f"account_id={carol.id}") == [("mention", 1), ("favourite", 2)]  # the group stays whole
    assert shape("types[]=poll") == []  # a Mastodon type microblog never sends
    assert shape("include_filtered=true&expand_accounts=full") == shape("")


def test_partial_avatars_give_each_groups_latest_account_in_full_and_the_others_in_short(
    client, alice, bob, people, auth
):
    carol, dave, _ = people
    post = make_post(alice, "Offsite photos")
    for fan in (bob, carol, dave):
        like_post(fan, post.id)
    follow_user(carol, "alice")
    body = _v2(client, auth, "expand_accounts=partial_avatars").get_json()
    assert [a["id"] for a in body["accounts"]] == _ids([carol, dave])
    assert [a["id"] for a in body["partial_accounts"]] == _ids([bob])
    assert set(body["partial_accounts"][0]) == {
        "id",
        "acct",
        "locked",
        "bot",
        "url",
        "avatar",
        "avatar_static",
    }


def test_pages_follow_the_link_headers_and_a_group_can_span_pages(client, alice, bob, people, auth):
    carol = people[0]
    post = make_post(alice, "Draft")
    like_post(bob, post.id)
    make_post(carol, "@alice first")
    make_post(carol, "@alice second")
    like_post(carol, post.id)
    liked_first, first, second, liked_last = _notification_ids(alice)

    page = _v2(client, auth, "limit=2&exclude_types[]=follow&exclude_types[]=status")
    groups = page.get_json()["notification_groups"]
    assert [g["group_key"] for g in groups][1] == f"ungrouped-{second}"
    assert (groups[0]["notifications_count"], groups[0]["page_min_id"]) == (2, str(liked_last))
    assert f"max_id={second}" in page.headers["Link"] and f"min_id={liked_last}" in page.headers["Link"]
    # The filter carries over, each value of it.
    assert "exclude_types%5B%5D=follow&exclude_types%5B%5D=status" in page.headers["Link"]
    older_page = client.get(page.headers["Link"].split(">")[0].lstrip("<"), headers=auth)
    older_groups = older_page.get_json()["notification_groups"]
    assert [g["group_key"] for g in older_groups] == [f"ungrouped-{first}", groups[0]["group_key"]]
    # The like group again, as far as this page reaches: its older like.
    assert older_groups[1]["notifications_count"] == 1
    assert older_groups[1]["most_recent_notification_id"] == liked_first
    last = client.get(older_page.headers["Link"].split(">")[0].lstrip("<"), headers=auth)
    assert last.get_json()["notification_groups"] == [] and "Link" not in last.headers
    # min_id: the page just above it, newest first.
    above = _v2(client, auth, f"min_id={first}&limit=1").get_json()["notification_groups"]
    assert [g["group_key"] for g in above] == [f"ungrouped-{second}"]
    newest = _v2(client, auth, f"since_id={second}").get_json()["notification_groups"]
    assert [(g["group_key"], g["notifications_count"]) for g in newest] == [(groups[0]["group_key"], 2)]
    assert newest[0]["page_min_id"] == str(liked_last)  # the page starts above since_id


def test_one_group_its_accounts_and_dismissing_it(client, alice, bob, people, auth):
    carol, dave, _ = people
    post = make_post(alice, "Poll: pizza?")
    for fan in (bob, carol, dave):
        like_post(fan, post.id)
    make_post(bob, "@alice pizza!")
    groups = _v2(client, auth).get_json()["notification_groups"]
    mention, liked = groups[0]["group_key"], groups[1]["group_key"]

    one = _v2(client, auth, path=f"/api/v2/notifications/{liked}").get_json()
    assert [g["group_key"] for g in one["notification_groups"]] == [liked]
    group = one["notification_groups"][0]
    assert group["notifications_count"] == 3 and group["sample_account_ids"] == _ids([dave, carol, bob])
    assert "page_min_id" not in group and "latest_page_notification_at" not in group  # not a page
    assert [s["id"] for s in one["statuses"]] == [str(post.id)]
    alone = _v2(client, auth, path=f"/api/v2/notifications/{mention}").get_json()
    assert alone["notification_groups"][0]["notifications_count"] == 1

    accounts = _v2(client, auth, "limit=2", path=f"/api/v2/notifications/{liked}/accounts")
    assert [a["id"] for a in accounts.get_json()] == _ids([dave, carol])
    rest = client.get(accounts.headers["Link"].split(">")[0].lstrip("<"), headers=auth).get_json()
    assert [a["id"] for a in rest] == _ids([bob])
    assert [
        a["id"] for a in _v2(client, auth, path=f"/api/v2/notifications/{mention}/accounts").get_json()
    ] == [str(bob.id)]

    dismissed = client.post(f"/api/v2/notifications/{liked}/dismiss", headers=auth)
    assert dismissed.status_code == 200 and dismissed.get_json() == {}
    assert client.get(f"/api/v2/notifications/{liked}", headers=auth).status_code == 404
    assert client.get(f"/api/v2/notifications/{liked}/accounts", headers=auth).status_code == 404
    assert [g["group_key"] for g in _v2(client, auth).get_json()["notification_groups"]] == [mention]
    assert [n["type"] for n in client.get("/api/v1/notifications", headers=auth).get_json()] == ["mention"]
    # Once more: nothing left to dismiss, and still a success (another client may have done it).
    assert client.post(f"/api/v2/notifications/{liked}/dismiss", headers=auth).status_code == 200


def test_dismissing_someone_elses_group_key_dismisses_nothing(client, alice, bob, people, auth):
    carol = people[0]
    follow_user(carol, "alice")
    follow_user(carol, "bob")  # bob's follow group has the same key as alice's: keys are per person
    bob_post = make_post(bob, "Mine")
    like_post(carol, bob_post.id)
    bob_auth = make_token(bob)
    bob_groups = _v2(client, bob_auth).get_json()["notification_groups"]
    bob_keys = [g["group_key"] for g in bob_groups]

    liked_by_carol = bob_keys[0]
    assert client.post(f"/api/v2/notifications/{liked_by_carol}/dismiss", headers=auth).status_code == 200
    follows = bob_keys[1]
    assert client.post(f"/api/v2/notifications/{follows}/dismiss", headers=auth).status_code == 200
    # Bob keeps every notification; alice's own follow group, under the same key, is what went.
    assert [g["group_key"] for g in _v2(client, bob_auth).get_json()["notification_groups"]] == bob_keys
    assert _v2(client, auth).get_json()["notification_groups"] == []
    # Nor can alice read bob's group by its key.
    assert client.get(f"/api/v2/notifications/{liked_by_carol}", headers=auth).status_code == 404
    bob_note = _notification_ids(bob)[0]
    assert client.post(f"/api/v2/notifications/ungrouped-{bob_note}/dismiss", headers=auth).status_code == 200
    assert _notification_ids(bob)[0] == bob_note


def test_unread_count_counts_groups_newer_than_the_notifications_marker(client, alice, bob, people, auth):
    carol, dave, _ = people
    post = make_post(alice, "Counting")
    make_post(bob, "@alice one")
    like_post(bob, post.id)
    like_post(carol, post.id)
    make_post(dave, "@alice two")
    mention, _liked, _liked_again, last = _notification_ids(alice)

    def count(query: str = "") -> int:
        return _v2(client, auth, query, path="/api/v2/notifications/unread_count").get_json()["count"]

    assert count() == 3  # no marker yet: everything; the two likes are one group
    assert count("grouped_types[]=follow") == count("grouped_types[]=update") == 4  # likes one by one
    assert count("limit=2") == 2
    assert count("types[]=mention") == 2 and count("exclude_types[]=mention") == 1
    assert count(f"account_id={carol.id}") == 1
    saved = client.post(
        "/api/v1/markers", json={"notifications": {"last_read_id": str(mention)}}, headers=auth
    )
    assert saved.status_code == 200
    assert count() == 2
    # The web page reading them all moves the same mark.
    client.post("/api/v1/markers", json={"notifications": {"last_read_id": str(last)}}, headers=auth)
    assert count() == 0
    make_post(carol, "@alice three")
    assert count() == 1


def test_without_a_marker_the_web_badge_mark_counts(client, alice, bob, auth):
    make_post(bob, "@alice seen on the web")
    seen = _notification_ids(alice)[0]
    notification_service.mark_notifications_seen(alice, seen)
    make_post(bob, "@alice new")
    assert _v2(client, auth, path="/api/v2/notifications/unread_count").get_json() == {"count": 1}


def test_a_like_group_on_a_private_post_its_author_no_longer_sees_is_gone_everywhere(
    client, alice, bob, people, auth, admin
):
    carol = people[0]
    secret = make_community(admin, "secret", private=True, members=(alice, bob, carol))
    inside = make_post(alice, "@secret plan B")
    outside = make_post(alice, "Public plan A")
    like_post(bob, inside.id)
    like_post(carol, inside.id)
    like_post(bob, outside.id)
    groups = _v2(client, auth).get_json()["notification_groups"]
    hidden = next(g["group_key"] for g in groups if g["status_id"] == str(inside.id))
    assert len(groups) == 2

    communities.remove_member(None, secret, alice)
    body = _v2(client, auth).get_json()
    assert [g["status_id"] for g in body["notification_groups"]] == [str(outside.id)]
    assert [s["id"] for s in body["statuses"]] == [str(outside.id)]
    assert [a["id"] for a in body["accounts"]] == [str(bob.id)]  # carol liked only the hidden post
    assert client.get(f"/api/v2/notifications/{hidden}", headers=auth).status_code == 404
    assert client.get(f"/api/v2/notifications/{hidden}/accounts", headers=auth).status_code == 404
    assert _v2(client, auth, path="/api/v2/notifications/unread_count").get_json() == {"count": 1}
    single = db.session.scalar(select(Notification.id).where(Notification.post_id == inside.id).limit(1))
    assert client.get(f"/api/v2/notifications/ungrouped-{single}", headers=auth).status_code == 404


def test_scopes_are_those_of_notifications(client, alice, bob):
    like_post(bob, make_post(alice, "Scoped").id)
    reader, writer = make_token(alice, "read:notifications"), make_token(alice, "write:notifications")
    key = _v2(client, reader).get_json()["notification_groups"][0]["group_key"]
    assert client.post(f"/api/v2/notifications/{key}/dismiss", headers=reader).status_code == 403
    for path in ("", "/unread_count", f"/{key}", f"/{key}/accounts"):
        assert client.get(f"/api/v2/notifications{path}", headers=writer).status_code == 403
        assert client.get(f"/api/v2/notifications{path}").status_code == 401
    assert client.post(f"/api/v2/notifications/{key}/dismiss", headers=writer).status_code == 200


@pytest.mark.parametrize(
    "key",
    [
        "nonsense",
        "ungrouped-",
        "ungrouped-abc",
        "ungrouped-99999999999999999999",
        "ungrouped-١٢",
        "favourite-1",
        "follow-1-2",
        "mention-1-2",
        "favourite-1-2-3",
        "follow-" + "9" * 80,
    ],
)
def test_a_group_key_that_names_no_group_is_not_found(client, alice, auth, key):
    for path in (f"/api/v2/notifications/{key}", f"/api/v2/notifications/{key}/accounts"):
        response = client.get(path, headers=auth)
        assert response.status_code == 404 and response.get_json()["error"] == "No such notification group."
    assert client.post(f"/api/v2/notifications/{key}/dismiss", headers=auth).status_code == 404


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("", "limit=0", "limit"),
        ("", "limit=81", "limit"),
        ("", "limit=-1", "limit"),
        ("", "limit=ten", "limit"),
        ("", "limit=" + "9" * 30, "limit"),
        ("/unread_count", "limit=1001", "limit"),
        ("/unread_count", "limit=0", "limit"),
        ("", "types[]=likes", "types[]"),
        ("", "exclude_types[]=FAVOURITE", "exclude_types[]"),
        ("/unread_count", "grouped_types[]=nope", "grouped_types[]"),
        ("", "account_id=bob", "account_id"),
        ("/unread_count", "account_id=-3", "account_id"),
        ("", "max_id=abc", None),
        ("", "since_id=1.5", None),
        ("", "min_id=" + "9" * 30, None),
        ("", "expand_accounts=everything", "expand_accounts"),
        ("", "include_filtered=perhaps", "include_filtered"),
        ("/follow-1/accounts", "limit=100", "limit"),
    ],
)
def test_bad_parameters_are_refused_with_a_clear_message(client, alice, auth, path, query, field):
    response = client.get(f"/api/v2/notifications{path}?{query}", headers=auth)
    assert response.status_code == 422, response.get_json()
    assert (field or query.split("=")[0]) in response.get_json()["error"]  # it names what is wrong


def test_a_page_costs_the_same_few_queries_whatever_its_size(app, alice, bob, people, count_queries):
    fans = [bob, *people]
    for i in range(12):
        post = make_post(alice, f"Update {i}")
        for fan in fans[: 1 + i % 4]:
            like_post(fan, post.id)
        make_post(fans[i % 4], f"@alice note {i}")
    for fan in fans:
        follow_user(fan, "alice")
    _ = alice.id, alice.notifications_seen_id  # load the (expired) user outside the count
    counts = []
    for limit in (3, 25):
        with count_queries() as counter:
            page = grouped_notifications(alice, Cursor(limit=limit), GroupFilter())
        assert len(page.groups) == limit
        assert {g.kind for g in page.groups} >= {"favourite", "mention"}
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 6, counts
