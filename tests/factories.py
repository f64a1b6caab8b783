"""factory_boy factories for the domain models."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from annotations.models import Actor, Article, Layer, Membership, Mention, Project
from annotations.schema import load_default_schema
from annotations.services.articles import content_hash

SAMPLE_TEXT = (
    "Russia has sent an anti-aircraft system and 100 military trainers to Niger. "
    "The documents were signed in Niamey by Salifou Modi and Yunus-Bek Yevkurov."
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests-only")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    slug = factory.Sequence(lambda n: f"project-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    label_schema = factory.LazyFunction(load_default_schema)
    guidelines = "Label every named actor."


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.ANNOTATOR


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Article {n}")
    text = factory.Sequence(lambda n: f"{SAMPLE_TEXT} (Report {n}.)")
    content_hash = factory.LazyAttribute(lambda o: content_hash(o.text))


class LayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Layer

    article = factory.SubFactory(ArticleFactory)
    kind = Layer.Kind.ANNOTATOR
    annotator = factory.SubFactory(UserFactory)


class ActorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Actor

    name = factory.Sequence(lambda n: f"Actor {n}")
    kind = "GPE"
    aliases = factory.LazyFunction(list)


class MentionFactory(factory.django.DjangoModelFactory):
    """A mention on the given span; `text` is read from the article so it always matches."""

    class Meta:
        model = Mention

    layer = factory.SubFactory(LayerFactory)
    label = "GPE"
    start = 0
    end = 6
    text = factory.LazyAttribute(lambda o: o.layer.article.text[o.start : o.end])
