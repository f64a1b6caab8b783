"""The five seeds annotated by `annotator1` and `annotator2`: the review and agreement fixture.

Small on purpose, so every figure can be worked out by hand from this table. Both annotators
label, in every seed, the first whole-word "Niger" and the first "Russia" as GPE, and a
document-level stance of the author toward that "Russia". In seed 000 they also differ:

| item                                   | annotator1               | annotator2               |
|----------------------------------------|--------------------------|--------------------------|
| first "Niamey"                         | GPE                      | LOC (label differs)      |
| "Salifou Modi" / "Modi"                | PERSON "Salifou Modi"    | PERSON "Modi" (boundary) |
| first "Yevkurov"                       | PERSON                   | PERSON (same)            |
| AGREE on "signed"                      | actors Salifou Modi, Yevkurov | actors Modi, Yevkurov |
| AID on "provide"                       | actor Russia             | —                        |

Stance of the author toward "Russia", by seed:

| seed | 000     | 001  | 002   | 003     | 004   |
|------|---------|------|-------|---------|-------|
| a1   | AGAINST | NONE | FAVOR | AGAINST | FAVOR |
| a2   | NONE    | NONE | FAVOR | AGAINST | FAVOR |

Every annotator layer is marked done. `reviewer` reviews, `manager` manages; nobody has gold yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from annotations.models import Article, Layer, Membership, Mention, Project
from annotations.services.imports import import_paths
from annotations.services.items import event_create, mention_create, stance_create
from annotations.services.layers import layer_for_annotator, layer_set_status
from annotations.services.projects import project_create
from tests.factories import MembershipFactory, UserFactory

SEEDS = Path(settings.BASE_DIR) / "seeds"
PASSWORD = "review-test-pass"
STANCES = {
    "annotator1": ["AGAINST", "NONE", "FAVOR", "AGAINST", "FAVOR"],
    "annotator2": ["NONE", "NONE", "FAVOR", "AGAINST", "FAVOR"],
}


@dataclass
class ReviewSetup:
    project: Project
    users: dict[str, Any]
    articles: list[Article]  # the seeds, in file order (000 … 004)
    layers: dict[str, list[Layer]] = field(default_factory=dict)  # username → layer per article

    @property
    def first(self) -> Article:
        return self.articles[0]


def first_span(text: str, phrase: str) -> tuple[int, int]:
    match = re.search(rf"\b{re.escape(phrase)}\b", text)
    assert match is not None, f"{phrase!r} is not in the text"
    return match.start(), match.end()


def _mention(layer: Layer, phrase: str, label: str, within: tuple[int, int] | None = None) -> Mention:
    text = layer.article.text
    if within is None:
        start, end = first_span(text, phrase)
    else:
        offset = text.index(phrase, within[0], within[1])
        start, end = offset, offset + len(phrase)
    return mention_create(layer=layer, label=label, start=start, end=end)


def _annotate(layer: Layer, username: str, index: int) -> None:
    text = layer.article.text
    _mention(layer, "Niger", "GPE")
    russia = _mention(layer, "Russia", "GPE")
    stance_create(layer=layer, label=STANCES[username][index], target_id=russia.pk, scope="document")
    if index != 0:
        return
    first_annotator = username == "annotator1"
    _mention(layer, "Niamey", "GPE" if first_annotator else "LOC")
    modi_span = first_span(text, "Salifou Modi")
    modi = _mention(layer, "Salifou Modi" if first_annotator else "Modi", "PERSON", within=modi_span)
    yevkurov = _mention(layer, "Yevkurov", "PERSON")
    start, end = first_span(text, "signed")
    event_create(
        layer=layer,
        event_type="AGREE",
        trigger_start=start,
        trigger_end=end,
        arguments=[("actor", modi.pk), ("actor", yevkurov.pk)],
    )
    if first_annotator:
        start, end = first_span(text, "provide")
        event_create(
            layer=layer, event_type="AID", trigger_start=start, trigger_end=end, arguments=[("actor", russia.pk)]
        )


def review_setup(slug: str = "niger") -> ReviewSetup:
    """The seeds in a project, annotated by annotator1 and annotator2 (see the module docstring)."""
    project = project_create(slug=slug, name="Niger coverage")
    report = import_paths(project=project, paths=sorted(SEEDS.glob("*.txt")))
    assert report.errors == [] and report.imported == 5
    roles = {
        "annotator1": Membership.Role.ANNOTATOR,
        "annotator2": Membership.Role.ANNOTATOR,
        "reviewer": Membership.Role.REVIEWER,
        "manager": Membership.Role.MANAGER,
    }
    users = {}
    for username, role in roles.items():
        user = UserFactory(username=f"{username}" if slug == "niger" else f"{slug}-{username}", is_staff=True)
        user.set_password(PASSWORD)
        user.save()
        MembershipFactory(project=project, user=user, role=role)
        users[username] = user
    articles = list(project.articles.order_by("imported_from"))
    setup = ReviewSetup(project=project, users=users, articles=articles)
    for username in ("annotator1", "annotator2"):
        setup.layers[username] = []
        for index, article in enumerate(articles):
            layer = layer_for_annotator(article=article, annotator=users[username])
            _annotate(layer, username, index)
            layer.refresh_from_db()
            layer_set_status(layer=layer, status=Layer.Status.DONE)
            setup.layers[username].append(layer)
    return setup
