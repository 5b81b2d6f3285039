"""SQLAlchemy models of microblog: schema, indexes and small invariants only."""

from .access_token import AccessToken
from .authorization_code import AuthorizationCode
from .base import Base, utcnow
from .bookmark import Bookmark
from .community import Community, CommunityAdmin
from .daily_activity import DailyActivity
from .follow import Follow
from .follow_request import FollowRequest
from .idempotency_key import IdempotencyKey
from .inbox_item import InboxItem
from .like import Like
from .login import Login
from .marker import Marker
from .media_attachment import MediaAttachment
from .mention import mentions
from .notification import Notification
from .oauth_app import OAuthApp
from .percolation_outbox import PercolationOutbox
from .pin import Pin
from .post import Post
from .post_edit import PostEdit
from .post_search import PostSearch
from .rollups import FirstReply, PostDay, TagDay, TalkDay
from .search_outbox import SearchOutbox
from .search_worker import SearchWorker
from .tag import Tag, post_tags
from .tag_follow import TagFollow
from .team import TeamMember
from .timeline_list import ListAccount, ListHit, TimelineList
from .user import User

__all__ = [
    "AccessToken",
    "AuthorizationCode",
    "Base",
    "Bookmark",
    "Community",
    "CommunityAdmin",
    "DailyActivity",
    "FirstReply",
    "Follow",
    "FollowRequest",
    "IdempotencyKey",
    "InboxItem",
    "Like",
    "ListAccount",
    "ListHit",
    "Login",
    "Marker",
    "MediaAttachment",
    "Notification",
    "OAuthApp",
    "PercolationOutbox",
    "Pin",
    "Post",
    "PostEdit",
    "PostDay",
    "PostSearch",
    "SearchOutbox",
    "SearchWorker",
    "Tag",
    "TagDay",
    "TagFollow",
    "TalkDay",
    "TeamMember",
    "TimelineList",
    "User",
    "mentions",
    "post_tags",
    "utcnow",
]
