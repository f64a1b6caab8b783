"""The annotation domain.

Models guard integrity (offset order, uniqueness, layer shape); rules that look at other rows
or at the project's label schema live in `annotations.services` and `annotations.validation`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class Project(models.Model):
    """A corpus with its label schema, guidelines and annotation overlap."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    label_schema = models.JSONField(help_text="Label schema (validated JSON; see seeds/schema.json).")
    schema_version = models.PositiveIntegerField(default=1, help_text="Bumped on every schema change.")
    guidelines = models.TextField(blank=True, help_text="Annotation guidelines in Markdown.")
    overlap = models.PositiveSmallIntegerField(default=2, help_text="How many annotators see each article (overlap k).")

    class MergeStrategy(models.TextChoices):
        UNANIMOUS = "unanimous", "Unanimous items"
        MAJORITY = "majority", "Majority vote"
        NONE = "none", "None (manual)"

    merge_strategy = models.CharField(
        max_length=16,
        choices=MergeStrategy.choices,
        default=MergeStrategy.UNANIMOUS,
        help_text="What pre-fills an article's gold layer when a reviewer first opens it.",
    )

    class QueueOrder(models.TextChoices):
        ARTICLE = "article", "Article order"
        UNCERTAIN = "uncertain", "Most uncertain first"

    queue_order = models.CharField(
        max_length=16,
        choices=QueueOrder.choices,
        default=QueueOrder.ARTICLE,
        help_text="The order of each annotator's queue: by article, or the active model's least sure articles "
        "first (smallest decision margin of its suggestions).",
    )
    retrain_after = models.PositiveIntegerField(
        default=0,
        help_text="Queue a training job after this many newly adjudicated articles (0: only when asked).",
    )
    train_min_articles = models.PositiveIntegerField(
        null=True, blank=True, help_text="Adjudicated articles needed to train (empty: the site default)."
    )
    train_min_events = models.PositiveIntegerField(
        null=True, blank=True, help_text="…or adjudicated events needed to train (empty: the site default)."
    )
    # Annotated: the stubs cannot infer a many-to-many to AUTH_USER_MODEL through a model named by string.
    members: models.ManyToManyField[User, Membership] = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="workbench_projects", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        constraints = [models.CheckConstraint(condition=Q(overlap__gte=1), name="project_overlap_positive")]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in one project."""

    class Role(models.TextChoices):
        MANAGER = "manager", "Manager"
        ANNOTATOR = "annotator", "Annotator"
        REVIEWER = "reviewer", "Reviewer"
        CONSUMER = "consumer", "Consumer (read-only, export)"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user")]
        indexes = [models.Index(fields=["user", "role"])]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} in {self.project.slug}"


class Actor(models.Model):
    """Canonical actor registry, used by the gazetteer and to link mentions across articles."""

    class Sector(models.TextChoices):
        GOV = "GOV", "Government"
        MIL = "MIL", "Military"
        PRM = "PRM", "Head of state / government"
        IGO = "IGO", "Intergovernmental organisation"
        REB = "REB", "Rebels / armed group"
        PMC = "PMC", "Private military company"
        MED = "MED", "Media"
        CVL = "CVL", "Civilians"
        BUS = "BUS", "Business"
        OTH = "OTH", "Other"

    name = models.CharField(max_length=200, unique=True)
    aliases = models.JSONField(default=list, blank=True, help_text="Spelling variants and short forms.")
    kind = models.CharField(max_length=32, help_text="Entity type code (PERSON, ORG, GPE, …).")
    country = models.CharField(max_length=3, blank=True, help_text="ISO 3166-1 alpha-3 code.")
    sector = models.CharField(max_length=8, choices=Sector.choices, blank=True)
    wikidata_id = models.CharField(max_length=32, blank=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["kind"]), models.Index(fields=["country"])]

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    """A news article. Its text is immutable once imported: annotation offsets point into it."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="articles")
    title = models.CharField(max_length=1000)
    text = models.TextField()
    source = models.CharField(max_length=500, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    published = models.DateField(null=True, blank=True)
    language = models.CharField(max_length=16, default="en")
    content_hash = models.CharField(max_length=64, help_text="sha256 of the normalised text.")
    # Set at import (annotations.stories): reports of the same story share it, and so their split.
    story_key = models.CharField(
        max_length=64,
        blank=True,
        help_text="Content hash of the first article of its story; empty: not grouped (its own story).",
    )
    # What a later report is compared with: the text's content-word bigrams, hashed (sorted uint32).
    story_bigrams = models.BinaryField(blank=True, default=b"", editable=False)
    metadata = models.JSONField(default=dict, blank=True)
    imported_from = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "content_hash"], name="article_unique_text_per_project")
        ]
        indexes = [
            models.Index(fields=["project", "published"]),
            models.Index(fields=["project", "language"]),
            models.Index(fields=["project", "story_key"]),
        ]

    def __str__(self) -> str:
        return self.title


class ArticleCheck(models.Model):
    """What reviewers and the date check say about an article's source: a publication date that
    disagrees with the dated events it reports (`services.dates`), and a reliability flag. No row:
    not checked, not flagged. Kept apart from Article, whose rows the import writes in bulk."""

    article = models.OneToOneField(Article, on_delete=models.CASCADE, primary_key=True, related_name="source_check")
    # The publication date checked against the dates the article reports (services.dates).
    published_suspect = models.BooleanField(
        default=False, help_text="The publication date disagrees with the dated events the article reports."
    )
    published_suspect_reason = models.TextField(blank=True)
    # A reviewer confirmed or corrected the date: the check leaves it alone from then on.
    published_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_checked_at = models.DateTimeField(null=True, blank=True)
    # Optimistic concurrency for the reviewer's confirmation: a write names the version it read.
    published_version = models.PositiveIntegerField(default=1)

    class Reliability(models.TextChoices):
        RELIABLE = "", "Reliable (not flagged)"
        MACHINE_SPUN = "machine_spun", "Machine-spun / rewritten content"
        UNRELIABLE = "unreliable", "Unreliable source"
        TRANSLATION = "translation", "Translation of another report"

    reliability = models.CharField(max_length=16, choices=Reliability.choices, default="", blank=True)
    reliability_note = models.TextField(blank=True)

    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["published_suspect"]), models.Index(fields=["reliability"])]

    def __str__(self) -> str:
        return f"article {self.article_id}: {'suspect date' if self.published_suspect else 'date ok'}"


class ArticleAnchor(models.Model):
    """One of the content-word bigrams an article is found by when a report of its story arrives.

    A sample (the smallest hashes) of the article's bigrams; see `annotations.stories`. A derived
    look-up index with dozens of rows per article, kept lean: the primary key is the look-up
    (project, hash), and nothing else is indexed or constrained — a constraint checked per row
    doubled an import's time, an index on the article added half as much again. The rows go with
    their project; a deleted article's rows stay behind and are skipped by the look-up.
    """

    pk = models.CompositePrimaryKey("project", "hash", "article")
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    hash = models.BigIntegerField()
    article = models.ForeignKey(
        Article, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )

    def __str__(self) -> str:
        return f"anchor {self.hash:x} of article {self.article_id}"


class Layer(models.Model):
    """All annotations on one article by one author: an annotator, the gold standard, or a model."""

    class Kind(models.TextChoices):
        ANNOTATOR = "annotator", "Annotator"
        GOLD = "gold", "Gold"
        MACHINE = "machine", "Machine"

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        ADJUDICATED = "adjudicated", "Adjudicated"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="layers")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="layers"
    )
    model_version = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NOT_STARTED)
    # Optimistic concurrency: every write to the layer names the version it read.
    version = models.PositiveIntegerField(default=1)
    # Gold layers: who marked the layer adjudicated, and when (cleared when it is reopened).
    adjudicated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="adjudicated_layers"
    )
    adjudicated_at = models.DateTimeField(null=True, blank=True)
    # Machine layers run with trained components: the smallest decision margin of their suggestions
    # (0 = a coin toss), what "most uncertain first" orders the queue by.
    margin = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["article_id", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "annotator"],
                condition=Q(kind="annotator"),
                name="layer_one_per_annotator",
            ),
            models.UniqueConstraint(fields=["article"], condition=Q(kind="gold"), name="layer_one_gold"),
            models.UniqueConstraint(
                fields=["article", "model_version"],
                condition=Q(kind="machine"),
                name="layer_one_per_model_version",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="annotator", annotator__isnull=False, model_version="")
                    | Q(kind="gold", model_version="")
                    | (Q(kind="machine", annotator__isnull=True) & ~Q(model_version=""))
                ),
                name="layer_kind_shape",
            ),
        ]
        indexes = [
            models.Index(fields=["annotator", "status"]),
            models.Index(fields=["kind", "status"]),
            # An export's `since`: the layers of a kind changed after a time.
            models.Index(fields=["kind", "updated_at"]),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.ANNOTATOR:
            who = str(self.annotator)
        elif self.kind == self.Kind.MACHINE:
            who = self.model_version
        else:
            who = "gold"
        return f"{who} on article {self.article_id}"


class Mention(models.Model):
    """An entity mention: a label on the character span [start, end) of the article text."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="mentions")
    label = models.CharField(max_length=32)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField(help_text="The quoted text, article.text[start:end].")
    actor = models.ForeignKey(Actor, null=True, blank=True, on_delete=models.SET_NULL, related_name="mentions")
    score = models.FloatField(null=True, blank=True, help_text="Machine confidence; empty for people.")
    # Where a gold item came from (merge strategy, annotators who had it, reviewer, when); {} elsewhere.
    provenance = models.JSONField(
        default=dict, blank=True, help_text="Gold items: strategy, annotators, reviewer, time."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["layer_id", "start", "end", "label"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="mention_start_before_end"),
            models.UniqueConstraint(fields=["layer", "start", "end", "label"], name="mention_unique_span_label"),
        ]
        indexes = [models.Index(fields=["layer", "start"]), models.Index(fields=["label"])]

    def __str__(self) -> str:
        return f"{self.label} [{self.start}, {self.end}) {self.text[:40]!r}"


class Event(models.Model):
    """An event: a typed trigger span with argument roles filled by mentions of the same layer."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="events")
    event_type = models.CharField(max_length=32)
    trigger_start = models.PositiveIntegerField()
    trigger_end = models.PositiveIntegerField()
    trigger_text = models.TextField()
    mode = models.CharField(max_length=32, blank=True)
    realis = models.CharField(max_length=16, default="actual")
    contexts = models.JSONField(default=list, blank=True)
    # Required roles the text leaves implicit ("since the coup": no actor); such a role counts as filled.
    not_stated = models.JSONField(
        default=list, blank=True, help_text="Roles of the event type that the text does not state."
    )
    score = models.FloatField(null=True, blank=True)
    # Where a gold item came from (merge strategy, annotators who had it, reviewer, when); {} elsewhere.
    provenance = models.JSONField(
        default=dict, blank=True, help_text="Gold items: strategy, annotators, reviewer, time."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["layer_id", "trigger_start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(trigger_start__lt=models.F("trigger_end")), name="event_trigger_start_before_end"
            ),
        ]
        indexes = [models.Index(fields=["layer", "trigger_start"]), models.Index(fields=["event_type"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.trigger_text!r}"


class EventArgument(models.Model):
    """One argument of an event: the mention that fills a role."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="arguments")
    role = models.CharField(max_length=32)
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="arguments")

    class Meta:
        ordering = ["event_id", "role", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "role", "mention"], name="argument_unique_role_mention")
        ]

    def __str__(self) -> str:
        return f"{self.role} = {self.mention.text!r}"


class Stance(models.Model):
    """A stance: holder → target with FAVOR / AGAINST / NONE, backed by an evidence span."""

    class Scope(models.TextChoices):
        SENTENCE = "sentence", "Sentence"
        DOCUMENT = "document", "Document"

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="stances")
    # No holder mention means the article's author / outlet holds the stance.
    holder = models.ForeignKey(Mention, null=True, blank=True, on_delete=models.CASCADE, related_name="held_stances")
    target = models.ForeignKey(
        Mention, null=True, blank=True, on_delete=models.CASCADE, related_name="targeted_stances"
    )
    # PROTECT: an actor that is a stance's only target can't vanish from under it.
    target_actor = models.ForeignKey(
        Actor, null=True, blank=True, on_delete=models.PROTECT, related_name="targeted_stances"
    )
    label = models.CharField(max_length=32)
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.SENTENCE)
    evidence_start = models.PositiveIntegerField(null=True, blank=True)
    evidence_end = models.PositiveIntegerField(null=True, blank=True)
    evidence_text = models.TextField(blank=True)
    score = models.FloatField(null=True, blank=True)
    # Where a gold item came from (merge strategy, annotators who had it, reviewer, when); {} elsewhere.
    provenance = models.JSONField(
        default=dict, blank=True, help_text="Gold items: strategy, annotators, reviewer, time."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["layer_id", "evidence_start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(evidence_start__isnull=True, evidence_end__isnull=True)
                | Q(
                    evidence_start__isnull=False,
                    evidence_end__isnull=False,
                    evidence_start__lt=models.F("evidence_end"),
                ),
                name="stance_evidence_start_before_end",
            ),
            models.CheckConstraint(
                condition=Q(target__isnull=False) | Q(target_actor__isnull=False),
                name="stance_has_target",
            ),
        ]
        indexes = [models.Index(fields=["layer", "label"])]

    def __str__(self) -> str:
        holder = self.holder.text if self.holder_id and self.holder else "author"
        target = self.target.text if self.target_id and self.target else str(self.target_actor)
        return f"{holder} {self.label} {target}"

    @property
    def holder_is_author(self) -> bool:
        return self.holder_id is None


class Job(models.Model):
    """A background run (pre-annotation, export, training, worker check) with its progress."""

    class Kind(models.TextChoices):
        PREANNOTATE = "preannotate", "Pre-annotation"
        EXPORT = "export", "Export"
        TRAIN = "train", "Training"
        AGREEMENT = "agreement", "Agreement"
        HEALTHCHECK = "healthcheck", "Worker check"
        LINK = "link", "Event linking"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    params = models.JSONField(default=dict, blank=True)
    model_version = models.CharField(max_length=200, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True, help_text="What the job computed (agreement figures).")
    log = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The sweep (services/jobs.py `jobs_sweep`): re-publishes in a row without progress, and the last.
    resumes = models.PositiveSmallIntegerField(default=0, help_text="Times the sweep re-published its work.")
    resumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "kind", "status"]), models.Index(fields=["status", "kind"])]
        constraints = [models.CheckConstraint(condition=Q(done__lte=models.F("total")), name="job_done_le_total")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def progress(self) -> float:
        return self.done / self.total if self.total else (1.0 if self.status == self.Status.SUCCEEDED else 0.0)


class JobChunk(models.Model):
    """One slice of a job's articles. Progress counts a chunk once, however often it is delivered."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    article_ids = models.JSONField()
    done = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    # When its latest delivery began: a chunk started long ago and not done lost its worker.
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job_id", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="jobchunk_unique_index")]

    def __str__(self) -> str:
        return f"chunk {self.index} of job {self.job_id}"


class SuggestionDecision(models.Model):
    """An annotator's accept / reject / correct of a machine suggestion: a learning record.

    The suggestion itself may be replaced by a later pre-annotation run, so what it was is kept
    as a snapshot next to its model version.
    """

    class Decision(models.TextChoices):
        ACCEPT = "accept", "Accepted"
        REJECT = "reject", "Rejected"
        CORRECT = "correct", "Corrected"

    class ItemKind(models.TextChoices):
        MENTION = "mention", "Mention"
        EVENT = "event", "Event"
        STANCE = "stance", "Stance"

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="decisions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="decisions")
    item_kind = models.CharField(max_length=16, choices=ItemKind.choices)
    decision = models.CharField(max_length=16, choices=Decision.choices)
    model_version = models.CharField(max_length=200)
    suggestion_id = models.BigIntegerField(help_text="Id of the machine item when the decision was made.")
    label = models.CharField(max_length=32)
    suggestion = models.JSONField(help_text="The suggestion as it was (offsets, label, score, arguments).")
    result_id = models.BigIntegerField(null=True, blank=True, help_text="Id of the item created in the layer.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["layer", "item_kind", "suggestion_id"]),
            models.Index(fields=["model_version", "decision"]),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.decision} {self.item_kind} {self.label}"


class Deletion(models.Model):
    """A layer that left the project (deleted with it or with its article): append-only, so an
    incremental export (`since=`) can tell a consumer to drop the article it exported before.

    `key` is what the export calls the article (its content hash); the layer is described by
    kind, annotator and model version, as an export's layer selector picks it.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="deletions")
    key = models.CharField(max_length=64, help_text="The article's content hash (the export's `id`).")
    article_id_was = models.PositiveBigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=16, choices=Layer.Kind.choices)
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    model_version = models.CharField(max_length=200, blank=True)
    # "article" (the article was deleted with its layers) or "layer" (only this layer).
    what = models.CharField(max_length=16)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["project", "at"])]

    def __str__(self) -> str:
        return f"{self.project_id} {self.key[:12]} {self.kind} deleted at {self.at:%Y-%m-%d %H:%M}"


class Change(models.Model):
    """One write to a layer, kept for ever (append-only): who, when, through which door, and the
    item as it was before and after. A layer's items can be rebuilt from its changes alone, and a
    change can be undone while nothing newer touched the same item."""

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        DELETE = "delete", "Deleted"
        STATUS = "status", "Status changed"

    class ItemKind(models.TextChoices):
        MENTION = "mention", "Mention"
        EVENT = "event", "Event"
        STANCE = "stance", "Stance"
        LAYER = "layer", "Layer"

    class Path(models.TextChoices):
        API = "api", "API"
        ADMIN = "admin", "Admin"
        IMPORT = "import", "Import"
        JOB = "job", "Background job"
        REVIEW = "review", "Review (pick, merge)"
        OTHER = "other", "Other (command, shell)"

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="changes")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="changes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    item_kind = models.CharField(max_length=16, choices=ItemKind.choices)
    item_id = models.BigIntegerField(null=True, blank=True, help_text="The item's id (none for a layer's status).")
    action = models.CharField(max_length=16, choices=Action.choices)
    before = models.JSONField(null=True, blank=True, help_text="The item before the change (none for a create).")
    after = models.JSONField(null=True, blank=True, help_text="The item after the change (none for a delete).")
    layer_version = models.PositiveIntegerField(help_text="The layer's version after the change.")
    path = models.CharField(max_length=16, choices=Path.choices)
    undoes = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="undone_by",
        help_text="The change this one undid.",
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["layer", "-id"]),
            models.Index(fields=["layer", "item_kind", "item_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.item_kind} {self.item_id or ''} in layer {self.layer_id}"


class DatasetVersion(models.Model):
    """An immutable stored export: what was selected, how many, and the sha256 of the bytes."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="dataset_versions")
    name = models.CharField(max_length=100)
    format = models.CharField(max_length=16)
    params = models.JSONField(default=dict, blank=True, help_text="Layer, split, ratios, since.")
    counts = models.JSONField(default=dict, blank=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(default=0)
    file = models.FileField(upload_to="datasets/", max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="dataset_versions"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="dataset_version_unique_name")]

    def __str__(self) -> str:
        return f"{self.project.slug} {self.name} ({self.format})"


class TrainedModel(models.Model):
    """One training run's result in the model registry: its stored file, data, dev scores and state.

    Its components (`ModelComponent`) are activated one by one by the gate; the model is `active`
    while one of them is, `candidate` when none ever won, `retired` once every active one is gone.
    """

    class Status(models.TextChoices):
        CANDIDATE = "candidate", "Candidate"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="trained_models")
    version = models.CharField(max_length=64, help_text="Registry name, e.g. m3: names the parts of a pipeline.")
    language = models.CharField(max_length=16, default="en")
    base_model = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CANDIDATE)
    dataset = models.ForeignKey(
        DatasetVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="trained_models"
    )
    dataset_sha256 = models.CharField(max_length=64, help_text="sha256 of the training data (a dataset version).")
    schema_version = models.PositiveIntegerField()
    file = models.CharField(max_length=500, help_text="Storage name of the model archive.")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(default=0)
    train_articles = models.PositiveIntegerField(default=0)
    dev_articles = models.PositiveIntegerField(default=0)
    dev_keys = models.JSONField(default=list, blank=True, help_text="The dev articles' keys (content hashes).")
    seconds = models.FloatField(default=0.0, help_text="Training time.")
    peak_memory_mb = models.FloatField(default=0.0)
    job = models.ForeignKey("Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="trained_models")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="trained_models"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["project", "version"], name="trained_model_unique_version")]

    def __str__(self) -> str:
        return f"{self.project.slug} {self.version} ({self.status})"


class ModelComponent(models.Model):
    """One trained component of a model and the gate's record of it: its dev scores, what it was
    compared with on the same dev articles, and whether it runs."""

    class Name(models.TextChoices):
        MENTIONS = "mentions", "Entity mentions"
        TRIGGERS = "triggers", "Event triggers"
        ARGUMENTS = "arguments", "Event arguments"
        STANCE = "stance", "Stance"

    class Status(models.TextChoices):
        SKIPPED = "skipped", "Not trained"
        LOST = "lost", "Lost to the active pipeline"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    model = models.ForeignKey(TrainedModel, on_delete=models.CASCADE, related_name="components")
    name = models.CharField(max_length=16, choices=Name.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    path = models.CharField(max_length=200, blank=True, help_text="Inside the model archive.")
    labels = models.JSONField(default=list, blank=True)
    retired_labels = models.JSONField(default=list, blank=True, help_text="Labels the schema no longer has.")
    examples = models.PositiveIntegerField(default=0)
    dev = models.JSONField(default=dict, blank=True, help_text="Dev P/R/F1 of the pipeline with this component.")
    baseline = models.JSONField(default=dict, blank=True, help_text="Dev P/R/F1 of the pipeline it was compared with.")
    compared_with = models.CharField(max_length=200, blank=True, help_text="rules, or the model it was compared with.")
    details = models.JSONField(default=dict, blank=True)
    decision = models.TextField(blank=True, help_text="Why it is (not) active.")
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["model_id", "name"]
        constraints = [models.UniqueConstraint(fields=["model", "name"], name="model_component_unique_name")]

    def __str__(self) -> str:
        return f"{self.model.version} {self.name} ({self.status})"


class MentionDate(models.Model):
    """The normalised value of a DATE mention (`annotations.dates`): resolved against its article's
    publication date, or set by hand (`manual`, then kept when the article's dates are resolved again)."""

    mention = models.OneToOneField(Mention, on_delete=models.CASCADE, primary_key=True, related_name="date")
    value = models.CharField(max_length=32, blank=True, help_text="YYYY-MM-DD, YYYY-MM, YYYY or START/END.")
    granularity = models.CharField(max_length=8, blank=True, help_text="day, month, year or range.")
    flag = models.CharField(max_length=20, blank=True, help_text="impossible, unparsed, no_anchor, weekday_conflict…")
    absolute = models.BooleanField(default=False, help_text="Stands on its own (explicit year, weekday + date).")
    note = models.TextField(blank=True)
    manual = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.mention_id}: {self.value or self.flag}"


class EventResolution(models.Model):
    """When and where one event happened: its date (with where the date came from) and place."""

    class Source(models.TextChoices):
        TIME_ARGUMENT = "time_argument", "The event's time argument"
        SENTENCE = "sentence", "The nearest date of its sentence"
        PUBLISHED = "published", "The article's publication date"
        NONE = "none", "None"

    event = models.OneToOneField(Event, on_delete=models.CASCADE, primary_key=True, related_name="resolution")
    date_value = models.CharField(max_length=32, blank=True)
    granularity = models.CharField(max_length=8, blank=True)
    date_source = models.CharField(max_length=16, choices=Source.choices, default=Source.NONE)
    place_text = models.CharField(max_length=500, blank=True)
    place_actor = models.ForeignKey(Actor, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sentence_start = models.PositiveIntegerField(default=0)
    sentence_end = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"event {self.event_id}: {self.date_value or '?'} {self.place_text}"


class EventCluster(models.Model):
    """A real-world event: the events of several articles (one layer selector) that report it."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        CONFIRMED = "confirmed", "Confirmed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="event_clusters")
    layer = models.CharField(max_length=200, help_text="The layer selector the events were read from.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    confidence = models.FloatField(default=0.0)
    event_type = models.CharField(max_length=32, blank=True)
    date_value = models.CharField(max_length=32, blank=True)
    granularity = models.CharField(max_length=8, blank=True)
    place_text = models.CharField(max_length=500, blank=True)
    place_actor = models.ForeignKey(Actor, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    evidence = models.JSONField(default=dict, blank=True, help_text="Why the events were linked (pair scores).")
    # A reviewer split, merged or detached it: a re-run keeps it as it is, like a confirmed one.
    reviewed = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project_id", "-confidence", "id"]
        indexes = [models.Index(fields=["project", "layer", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(confidence__gte=0) & Q(confidence__lte=1), name="event_cluster_confidence_0_1"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.date_value} {self.place_text} ({self.status})"


class ClusterMember(models.Model):
    """An event in a cluster: one cluster per event."""

    cluster = models.ForeignKey(EventCluster, on_delete=models.CASCADE, related_name="members")
    event = models.OneToOneField(Event, on_delete=models.CASCADE, related_name="cluster_member")
    score = models.FloatField(default=0.0)

    class Meta:
        ordering = ["cluster_id", "event_id"]

    def __str__(self) -> str:
        return f"event {self.event_id} in cluster {self.cluster_id}"
