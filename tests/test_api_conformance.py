"""The API against its own OpenAPI schema: schemathesis drives a live server with generated requests.

Every operation of /api/schema/ is called as each role (manager, reviewer, annotator, consumer, with
their tokens) on a project holding articles, annotator, gold and machine layers. A response must not
be a server error, and its status code, content type, headers and body must be what the schema says.
Bounded: SCHEMATHESIS_EXAMPLES generated cases per operation and role (default 8: a few hundred per
kind of operation, the whole run about two minutes on two cores).
"""

from __future__ import annotations

import os
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from annotations.services.layers import layer_for_annotator
from tests.factories import ArticleFactory, ProjectFactory
from tests.test_api_helpers import ROLES, add_mention, annotate_gold, machine_layer, member

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def tokens(transactional_db, settings, tmp_path) -> dict[str, str]:
    settings.MEDIA_ROOT = tmp_path / "media"
    project = ProjectFactory(slug="conformance")
    articles = ArticleFactory.create_batch(3, project=project)
    annotator = member(project, ROLES.ANNOTATOR, "annotator")
    for article in articles:
        annotate_gold(article)
        machine_layer(article)
        add_mention(layer_for_annotator(article=article, annotator=annotator), "Russia", "GPE")
    users = {
        "manager": member(project, ROLES.MANAGER, "manager"),
        "reviewer": member(project, ROLES.REVIEWER, "reviewer"),
        "annotator": annotator,
        "consumer": member(project, ROLES.CONSUMER, "consumer"),
    }
    return {role: Token.objects.create(user=user).key for role, user in users.items()}


def failures_of(operation: Any, token: str, base_url: str) -> list[str]:
    """Run the operation's generated cases; the first failure of each (hypothesis stops there)."""
    found: list[str] = []

    @hypothesis.given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        headers = {"Authorization": f"Token {token}"}
        response = case.call(base_url=base_url, headers=headers, timeout=60)
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:  # hypothesis re-raises what the checks found
        found.append(f"{operation.method.upper()} {operation.path}: {exc}"[:3000])
    return found


@pytest.mark.timeout(600)
def test_every_operation_conforms_to_the_schema_for_every_role(live_server, tokens):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30

    failures = [
        f"as {role}: {failure}"
        for operation in operations
        for role, token in tokens.items()
        for failure in failures_of(operation, token, live_server.url)
    ]

    assert failures == [], "\n\n".join(failures)
