"""The JSON side: Mastodon-compatible entities (serializers) shared by the API and the streams."""
