"""One function per user action: load and authorize, validate, write in one transaction.

Import the modules (`from microblog.services import posts`); this package
imports nothing itself so that low-level helpers can use `services.errors`.
"""
