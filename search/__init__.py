"""Full-text search over posts, people and tags.

Built so far: the query parser (search.query, shared by both backends and the
API) and the Whoosh backend with English and Norwegian analysis
(search.whoosh_backend, search.analysis).  Still to come: the PostgreSQL
backend, indexing after commit through an outbox, the search page and
`flask --app wsgi search reindex`.
"""
