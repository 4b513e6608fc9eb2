"""The refusal the Open311 layer raises: an HTTP status and one or more human-readable descriptions."""

from __future__ import annotations


class Open311Error(Exception):
    """404 for a missing service, request or token; 403 for the api_key; 429 rate limit; 400 otherwise."""

    def __init__(self, status: int, *descriptions: str, retry_after: int | None = None) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = list(descriptions)
        self.retry_after = retry_after
