"""Publication date decisions, source reliability, event linking jobs and the clusters they propose."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from annotations.models import ArticleCheck, EventCluster


class ArticleCheckOutput(serializers.ModelSerializer):
    class Meta:
        model = ArticleCheck
        fields = [
            "published_suspect",
            "published_suspect_reason",
            "published_checked_at",
            "published_version",
            "reliability",
            "reliability_note",
        ]
        read_only_fields = fields


class PublishedInput(serializers.Serializer):
    published = serializers.DateField(allow_null=True, help_text="The publication date (the same to confirm it).")
    version = serializers.IntegerField(
        min_value=1, help_text="The `published_version` you read (1 before any decision): a stale one is a 409."
    )


class ReliabilityInput(serializers.Serializer):
    reliability = serializers.ChoiceField(
        choices=[c for c in ArticleCheck.Reliability.values], allow_blank=True, help_text="Empty clears the flag."
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class MentionDateInput(serializers.Serializer):
    value = serializers.CharField(
        allow_blank=True, help_text="YYYY, YYYY-MM, YYYY-MM-DD or START/END; empty: back to the resolved value."
    )


class MentionDateOutput(serializers.Serializer):
    mention = serializers.IntegerField(source="mention_id")
    value = serializers.CharField()
    granularity = serializers.CharField()
    flag = serializers.CharField()
    note = serializers.CharField()
    manual = serializers.BooleanField()


class LinkEventsInput(serializers.Serializer):
    layer = serializers.CharField(required=False, default="gold", help_text="Layer selector, as in exports.")
    status = serializers.CharField(required=False, allow_null=True, default=None, help_text="As in exports.")


class ClusterMemberOutput(serializers.Serializer):
    event = serializers.IntegerField(source="event_id")
    article = serializers.IntegerField(source="event.layer.article_id")
    article_title = serializers.CharField(source="event.layer.article.title")
    outlet = serializers.CharField(source="event.layer.article.source")
    event_type = serializers.CharField(source="event.event_type")
    trigger = serializers.CharField(source="event.trigger_text")
    date = serializers.SerializerMethodField()
    date_source = serializers.SerializerMethodField()
    place = serializers.SerializerMethodField()
    evidence = serializers.SerializerMethodField(help_text="The sentence of the trigger.")

    def _resolution(self, member: Any) -> Any:
        return getattr(member.event, "resolution", None)

    def get_date(self, member: Any) -> str | None:
        found = self._resolution(member)
        return found.date_value or None if found else None

    def get_date_source(self, member: Any) -> str | None:
        found = self._resolution(member)
        return found.date_source if found else None

    def get_place(self, member: Any) -> str | None:
        found = self._resolution(member)
        return found.place_text or None if found else None

    def get_evidence(self, member: Any) -> str:
        found = self._resolution(member)
        if found is None:
            return ""
        return " ".join(member.event.layer.article.text[found.sentence_start : found.sentence_end].split())


class EventClusterOutput(serializers.ModelSerializer):
    members = ClusterMemberOutput(many=True, read_only=True)

    class Meta:
        model = EventCluster
        fields = [
            "id",
            "layer",
            "status",
            "reviewed",
            "confidence",
            "event_type",
            "date_value",
            "granularity",
            "place_text",
            "version",
            "confirmed_at",
            "members",
        ]
        read_only_fields = fields


class ClusterDecisionInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=["confirm", "split", "detach", "merge"])
    version = serializers.IntegerField(min_value=1, help_text="The cluster's version you read: a stale one is a 409.")
    events = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, help_text="split / detach: the events."
    )
    clusters = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, help_text="merge: the other clusters."
    )
    versions = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, help_text="merge: their versions."
    )
