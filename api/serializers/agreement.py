"""Inter-annotator agreement: the figures, the job that computes them."""

from __future__ import annotations

from rest_framework import serializers

from annotations.agreement import STATUS_NOT_ENOUGH_ANNOTATORS, STATUS_OK
from annotations.models import Job


class AgreementStartInput(serializers.Serializer):
    force = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: compute again even if the figures are current (a running job is still reused).",
    )


class CategoricalOutput(serializers.Serializer):
    kappa = serializers.FloatField(allow_null=True, help_text="Cohen's kappa, mean over annotator pairs.")
    alpha = serializers.FloatField(allow_null=True, help_text="Krippendorff's alpha (nominal).")
    observed_agreement = serializers.FloatField(allow_null=True)
    items = serializers.IntegerField(help_text="Units coded by at least two annotators.")
    pairs = serializers.ListField(
        child=serializers.JSONField(), help_text="{annotators, kappa, observed_agreement, items}"
    )
    by_label = serializers.DictField(
        child=serializers.JSONField(), help_text="label → {agreement, values, confused_with: {label: count}}"
    )


class AgreementResultOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=[STATUS_OK, STATUS_NOT_ENOUGH_ANNOTATORS])
    annotators = serializers.ListField(child=serializers.CharField())
    articles = serializers.IntegerField(help_text="Articles with at least two annotator layers.")
    gold_articles = serializers.IntegerField(help_text="Articles with an adjudicated gold layer.")
    mentions = serializers.JSONField(
        help_text="exact / overlap: {precision, recall, f1, by_label: {label: {precision, recall, f1}}}; "
        "pairs: [{annotators, articles, exact, overlap}] with counts."
    )
    events = serializers.JSONField(
        help_text="trigger_identification, trigger_classification, argument_identification, "
        "argument_classification: {precision, recall, f1}; by_type: {type: {the last three}}; pairs."
    )
    stance = CategoricalOutput()
    mention_labels = CategoricalOutput(help_text="The labels of mentions on the same span.")
    vs_gold = serializers.DictField(
        child=serializers.JSONField(),
        help_text="username → {articles, mentions: {exact, overlap}, events, stance: {accuracy, items, precision, "
        "recall, f1}}: each annotator against the gold layer.",
    )


class AgreementJobOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Job.Status.choices)
    progress = serializers.FloatField(help_text="From 0 to 1.")
    error = serializers.CharField(allow_blank=True)
    url = serializers.URLField(help_text="The job in the API (poll it while it runs).")


class AgreementOutput(serializers.Serializer):
    fresh = serializers.BooleanField(help_text="The figures are those of the project as it is now.")
    fingerprint = serializers.CharField(help_text="Of the project's annotator and gold layers now.")
    computed_at = serializers.DateTimeField(allow_null=True, help_text="When `result` was computed.")
    job = AgreementJobOutput(
        allow_null=True,
        help_text="The job computing new figures (pending, running), the last attempt (failed), or the one that "
        "computed `result`; null when none was ever started.",
    )
    result = AgreementResultOutput(allow_null=True, help_text="The latest figures; null until some were computed.")
