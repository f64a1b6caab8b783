"""Actor registry services: add or update an actor, load a registry file."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from annotations.errors import ImportFailed
from annotations.importers.actors import read_actors
from annotations.importers.base import validation_messages
from annotations.models import (
    Actor,
)
from annotations.schema import CODE_PATTERN


def check_actor(*, name: str, kind: str, country: str = "", sector: str = "") -> None:
    """An actor the registry may hold (ValidationError naming the field)."""
    if not name.strip():
        raise ValidationError({"name": ["is empty"]})
    if len(name.strip()) > 200:
        raise ValidationError({"name": [f"has {len(name.strip())} characters, over the limit of 200"]})
    if not isinstance(kind, str) or not re.fullmatch(CODE_PATTERN, kind):
        raise ValidationError({"kind": [f"{kind!r} is not an entity type code (such as GPE, ORG, PERSON)"]})
    # ASCII only: str.isupper() would let "ÄÖÜ" through.
    if country and not re.fullmatch(r"[A-Z]{3}", country):
        raise ValidationError({"country": [f"{country!r} is not an ISO 3166-1 alpha-3 code"]})
    if sector and sector not in Actor.Sector.values:
        raise ValidationError({"sector": [f"unknown sector {sector!r}; allowed: {', '.join(Actor.Sector.values)}"]})


@transaction.atomic
def actor_save(
    *,
    actor: Actor | None,
    name: str,
    kind: str,
    aliases: Sequence[str] = (),
    country: str = "",
    sector: str = "",
    wikidata_id: str = "",
    description: str = "",
) -> Actor:
    """Add an actor (`actor` None) or change one, its name included (the admin's form)."""
    check_actor(name=name, kind=kind, country=country, sector=sector)
    others = Actor.objects.filter(name=name.strip())
    if actor is not None:
        others = others.exclude(pk=actor.pk)
    if others.exists():
        raise ValidationError({"name": [f"an actor named {name.strip()!r} already exists"]})
    saved = actor if actor is not None else Actor()
    saved.name, saved.kind, saved.aliases = name.strip(), kind, list(aliases)
    saved.country, saved.sector, saved.wikidata_id, saved.description = country, sector, wikidata_id, description
    saved.save()
    return saved


@transaction.atomic
def actor_delete(*, actor: Actor) -> None:
    """Take an actor out of the registry; mentions linked to it (in every project) lose the link."""
    actor.delete()


@transaction.atomic
def actor_upsert(
    *,
    name: str,
    kind: str,
    aliases: Sequence[str] = (),
    country: str = "",
    sector: str = "",
    wikidata_id: str = "",
    description: str = "",
) -> tuple[Actor, str]:
    """Create or update an actor by canonical name. Returns (actor, "created" | "updated" | "unchanged")."""
    check_actor(name=name, kind=kind, country=country, sector=sector)
    fields = {
        "kind": kind,
        "aliases": list(aliases),
        "country": country,
        "sector": sector,
        "wikidata_id": wikidata_id,
        "description": description,
    }
    actor = Actor.objects.select_for_update().filter(name=name.strip()).first()
    if actor is None:
        return Actor.objects.create(name=name.strip(), **fields), "created"
    if all(getattr(actor, key) == value for key, value in fields.items()):
        return actor, "unchanged"  # re-loading the same registry writes nothing
    for key, value in fields.items():
        setattr(actor, key, value)
    actor.save()
    return actor, "updated"


@dataclass(frozen=True)
class ActorLoad:
    created: int
    updated: int
    unchanged: int = 0


def actors_load_default() -> ActorLoad | None:
    """An empty registry gets the default one (`DEFAULT_ACTORS_PATH`), as a new project gets the
    default schema; a registry that holds actors is a team's own and is left alone (None)."""
    path = Path(settings.DEFAULT_ACTORS_PATH)
    if Actor.objects.exists() or not path.exists():
        return None
    return actors_load_file(path=path)


@transaction.atomic
def actors_load_file(*, path: Path) -> ActorLoad:
    """Create or update the actors of a JSON Lines or CSV file, all or none; errors name file and line."""
    outcomes: Counter[str] = Counter()
    errors: list[str] = []
    for actor in read_actors(path):
        try:
            with transaction.atomic():
                _, outcome = actor_upsert(**actor.upsert_kwargs())
        except ValidationError as exc:
            errors += [f"{path}:{actor.line}: {message}" for message in validation_messages(exc)]
            continue
        outcomes[outcome] += 1
    if errors:
        raise ImportFailed(errors)  # rolls back the lines that did load
    return ActorLoad(created=outcomes["created"], updated=outcomes["updated"], unchanged=outcomes["unchanged"])


def actor_entries() -> tuple[Any, ...]:
    """The actor registry as gazetteer entries (what the pipeline is built from)."""
    from annotations.nlp import ActorEntry

    rows = Actor.objects.order_by("name").values_list("name", "kind", "aliases")
    return tuple(ActorEntry(name=name, kind=kind, aliases=tuple(aliases or ())) for name, kind, aliases in rows)
