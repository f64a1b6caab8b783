"""Domain errors raised by services; the API maps them to HTTP responses in one place."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class InvalidAnnotation(ValidationError):
    """An annotation write broke the label schema or the article text. Maps to 400.

    Built from {field: message} so every message names the field it concerns.
    """

    def __init__(self, field: str, message: str):
        super().__init__({field: [message]})
        self.field = field


class VersionConflict(Exception):
    """The layer changed since the client read it (optimistic concurrency). Maps to 409."""

    def __init__(self, *, layer_id: int, expected: int, current: int):
        self.layer_id = layer_id
        self.expected = expected
        self.current = current
        super().__init__(
            f"Layer {layer_id} is at version {current}, not {expected}: it was changed by someone else. "
            "Reload it and apply your change again."
        )


class ImportFailed(Exception):
    """An import file could not be imported; nothing of it was written. `errors` name file and line."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


def with_article(noun: str) -> str:
    """'an event', 'an annotator layer', 'a mention', 'a gold layer': for messages and API docs."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"
