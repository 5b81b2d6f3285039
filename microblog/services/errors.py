"""Domain errors raised by services; one handler maps each to a 4xx response."""


class ServiceError(Exception):
    """Base of the errors a user or client can cause."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(ServiceError):
    """The input breaks a rule (HTTP 422)."""

    status_code = 422


class PermissionDenied(ServiceError):
    """The actor may not do this (HTTP 403)."""

    status_code = 403


class NotFound(ServiceError):
    """The thing asked for does not exist or is not visible (HTTP 404)."""

    status_code = 404


class Conflict(ServiceError):
    """The action clashes with existing state, e.g. a taken username (HTTP 409)."""

    status_code = 409


class Unavailable(ServiceError):
    """A service microblog depends on (the company directory) cannot answer now (HTTP 503)."""

    status_code = 503
