"""Errors the sandbox answers with, in the shapes Spotify uses."""


class ApiError(Exception):
    """A Web API error: ``{"error": {"status": N, "message": "..."}}``."""

    def __init__(self, status, message, headers=None, reason=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.reason = reason

    def body(self):
        error = {"status": self.status, "message": self.message}
        if self.reason:
            error["reason"] = self.reason
        return {"error": error}


class OAuthError(Exception):
    """An accounts-service error: ``{"error": "...", "error_description": "..."}`` with status 400."""

    def __init__(self, error, description, status=400):
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.headers = {}

    def body(self):
        return {"error": self.error, "error_description": self.description}


class ControlError(Exception):
    """An error of the /_sandbox control endpoints: ``{"error": "..."}``."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = {}

    def body(self):
        return {"error": self.message}

