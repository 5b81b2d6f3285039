"""SQLAlchemy models of microblog: schema, indexes and small invariants only."""

from .base import Base, utcnow
from .follow import Follow
from .like import Like
from .mention import mentions
from .notification import Notification
from .post import Post
from .post_search import PostSearch
from .search_outbox import SearchOutbox
from .tag import Tag, post_tags
from .tag_follow import TagFollow
from .user import User

__all__ = [
    "Base",
    "Follow",
    "Like",
    "Notification",
    "Post",
    "PostSearch",
    "SearchOutbox",
    "Tag",
    "TagFollow",
    "User",
    "mentions",
    "post_tags",
    "utcnow",
]
