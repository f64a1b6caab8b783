"""What the serializer modules share: the layer `version` field, quoted text, the error bodies.

Inputs only parse a request body (types, required fields); every rule about the article text or
the label schema is checked by the services, whose errors name the field too. Outputs are
read-only and expect their related rows to be loaded already (select/prefetch in the view).
"""

from __future__ import annotations

from rest_framework import serializers

VERSION_HELP = "The layer version you read (from the layer or the last write). A stale version answers 409."


def version_field(required: bool = True) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, required=required, help_text=VERSION_HELP)


def quoted_text_field(help_text: str) -> serializers.CharField:
    # No trimming: the quote is compared with the article text character for character.
    return serializers.CharField(required=False, trim_whitespace=False, help_text=help_text)


# --- Error bodies (the shapes api.exception_handler answers) ---------------------------------


class ErrorOutput(serializers.Serializer):
    detail = serializers.CharField()


class ValidationErrorOutput(ErrorOutput):
    # SerializerMetaclass takes declared fields off the class, so the property stays; the stubs can't say so.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages by the field they concern (nested fields as items[0].id).",
    )


class ConflictOutput(ValidationErrorOutput):
    layer = serializers.IntegerField()
    expected_version = serializers.IntegerField()
    current_version = serializers.IntegerField(
        help_text="Reload the layer at this version and apply your change again."
    )
