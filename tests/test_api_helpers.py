"""Helpers shared by the API tests (no tests of their own): members, clients, annotated layers."""

from __future__ import annotations

from typing import Any

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.models import Article, Event, EventArgument, Layer, Membership, Mention, Project, Stance
from annotations.services.items import event_create, mention_create
from annotations.services.layers import layer_gold, layer_set_status
from tests.factories import MembershipFactory, UserFactory

API = "/api/v1"


def member(project: Project, role: str, username: str | None = None) -> Any:
    """A user with `role` in `project`."""
    user = UserFactory(username=username) if username else UserFactory()
    MembershipFactory(project=project, user=user, role=role)
    return user


def client_for(user: Any, *, token: bool = False) -> APIClient:
    """An API client authenticated as `user`: with a real token, or forced (session-like)."""
    client = APIClient()
    if token:
        key, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key.key}")
    else:
        client.force_authenticate(user)
    return client


def url(project: Project, rest: str = "") -> str:
    return f"{API}/projects/{project.slug}/{rest}"


def span(article: Article, needle: str) -> tuple[int, int]:
    start = article.text.index(needle)
    return start, start + len(needle)


def add_mention(layer: Layer, needle: str, label: str) -> Mention:
    start, end = span(layer.article, needle)
    return mention_create(layer=layer, label=label, start=start, end=end)


def annotate_gold(article: Article, *, mentions: int = 3, adjudicate: bool = True) -> Layer:
    """A gold layer with `mentions` GPE/PERSON mentions and one AID event (Russia → Niger).

    Adjudicated unless `adjudicate` is False: what a gold export takes by default.
    """
    gold = layer_gold(article=article)
    russia = add_mention(gold, "Russia", "GPE")
    niger = add_mention(gold, "Niger", "GPE")
    start, end = span(article, "sent")
    event_create(
        layer=gold,
        event_type="AID",
        trigger_start=start,
        trigger_end=end,
        arguments=[("actor", russia.pk), ("recipient", niger.pk)],
    )
    for offset in range(mentions - 2):
        # Distinct overlapping three-character spans from "Salifou Modi" on.
        first = article.text.index("Salifou Modi")
        mention_create(layer=gold, label="PERSON", start=first + offset, end=first + offset + 3)
    if adjudicate:
        layer_set_status(layer=gold, status=Layer.Status.ADJUDICATED)
    gold.refresh_from_db()
    return gold


def machine_layer(article: Article, model_version: str = "spacy-test-1") -> Layer:
    """Suggestions as pre-annotation stores them: GPE Russia, Niger, Niamey; PERSON Salifou Modi;
    an AID event (actor Russia, recipient Niger); an AGAINST stance toward Russia."""
    layer = Layer.objects.create(
        article=article, kind=Layer.Kind.MACHINE, model_version=model_version, status=Layer.Status.DONE
    )
    found: dict[str, Mention] = {}
    for needle, label in (("Russia", "GPE"), ("Niger", "GPE"), ("Niamey", "GPE"), ("Salifou Modi", "PERSON")):
        start, end = span(article, needle)
        found[needle] = Mention.objects.create(layer=layer, label=label, start=start, end=end, text=needle, score=0.9)
    start, end = span(article, "sent")
    event = Event.objects.create(
        layer=layer, event_type="AID", trigger_start=start, trigger_end=end, trigger_text="sent", score=0.8
    )
    EventArgument.objects.create(event=event, role="actor", mention=found["Russia"])
    EventArgument.objects.create(event=event, role="recipient", mention=found["Niger"])
    sentence_end = article.text.index(".") + 1
    Stance.objects.create(
        layer=layer,
        target=found["Russia"],
        label="AGAINST",
        evidence_start=0,
        evidence_end=sentence_end,
        evidence_text=article.text[:sentence_end],
        score=0.6,
    )
    return layer


ROLES = Membership.Role
