"""/api/v1/projects/<slug>/agreement/: GET reads (never writes), POST computes; figures, roles, edge cases."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from annotations.models import Job, Layer, Membership
from annotations.services import agreement as agreement_services
from annotations.services.agreement import agreement_fingerprint, agreement_run
from annotations.services.items import event_create, mention_create, stance_create
from annotations.services.layers import layer_for_annotator, layer_set_status
from tests.factories import ArticleFactory, ProjectFactory
from tests.review_fixtures import review_setup
from tests.test_api_helpers import add_mention, client_for, member, url

pytestmark = pytest.mark.django_db


def agreement_url(project, query: str = "") -> str:
    return url(project, f"agreement/{query}")


def compute(client, project, **body):
    """POST: compute the figures (or answer the current ones)."""
    return client.post(agreement_url(project), body, format="json")


def call(client, method: str, project):
    return compute(client, project) if method == "post" else client.get(agreement_url(project))


def writes_in(queries) -> list[str]:
    """The statements that change rows (or lock them for a change)."""
    words = ("INSERT", "UPDATE", "DELETE")
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(words) or "FOR UPDATE" in q["sql"]]


@pytest.fixture
def setup():
    return review_setup()


def test_figures_on_the_seeds_match_the_hand_computed_values_per_label(setup):
    """The table of tests/review_fixtures.py, annotator1 as reference (A), annotator2 compared (B).

    Mentions, exact, per label (counts summed over the five seeds):
    - GPE: A has 5 "Niger" + 5 "Russia" + "Niamey" = 11, B the same 10 without "Niamey" (LOC);
      matched 10 → P = 10/10 = 1.0, R = 10/11 = 0.9091, F1 = 2·10 / (11 + 10) = 20/21 = 0.9524.
    - LOC: A 0, B 1 ("Niamey"), matched 0 → P = 0/1 = 0.0, R = 0/0 undefined (None), F1 = 0/1 = 0.0.
    - PERSON: A {"Salifou Modi", "Yevkurov"}, B {"Modi", "Yevkurov"}, matched 1 → F1 = 2/4 = 0.5;
      overlap matches "Modi" inside "Salifou Modi" too → F1 = 4/4 = 1.0.
    - all labels: matched 11 of 13 and 13 → F1 = 22/26 = 0.8462.
    Events (seed 000): A triggers AGREE "signed" + AID "provide", B AGREE "signed":
    - trigger identification / classification: matched 1, |A| = 2, |B| = 1 → F1 = 2/3 = 0.6667;
    - arguments: A = AGREE (Salifou Modi, Yevkurov) + AID (Russia) = 3, B = AGREE (Modi, Yevkurov) = 2,
      matched 1 (Yevkurov) → P = 1/2, R = 1/3, F1 = 2/5 = 0.4, role or not;
    - AGREE alone: arguments matched 1 of 2 and 2 → F1 = 0.5; AID: B has none → F1 = 0/1 = 0.0.
    Stance (five units, author → "Russia"): A = AGAINST NONE FAVOR AGAINST FAVOR,
    B = NONE NONE FAVOR AGAINST FAVOR; they agree on 4 → p_o = 0.8.
    - Cohen: marginals A (AGAINST 2, NONE 1, FAVOR 2), B (1, 2, 2) → p_e = (2·1 + 1·2 + 2·2)/25 = 0.32,
      kappa = (0.8 - 0.32) / (1 - 0.32) = 0.48 / 0.68 = 0.7059.
    - Krippendorff: n = 10 values, n_AGAINST = 3, n_NONE = 3, n_FAVOR = 4; D_o = 2/10 (the one
      disagreeing unit gives the ordered pairs (AGAINST, NONE) and (NONE, AGAINST));
      D_e = (10² - (9 + 9 + 16)) / (10·9) = 66/90; alpha = 1 - 0.2 / (66/90) = 1 - 0.2727 = 0.7273.
    - per label: AGAINST paired 3 times, twice with AGAINST → 2/3 = 0.6667; FAVOR 4/4 = 1.0.
    """
    reviewer = setup.users["reviewer"]

    response = compute(client_for(reviewer), setup.project)

    assert response.status_code == 200, response.data
    assert response.data["fresh"] is True
    result = response.data["result"]
    assert result["status"] == "ok"
    assert result["annotators"] == ["annotator1", "annotator2"]
    assert result["articles"] == 5
    exact = result["mentions"]["exact"]
    assert exact["by_label"] == {
        "GPE": {"precision": 1.0, "recall": 0.9091, "f1": 0.9524},
        "LOC": {"precision": 0.0, "recall": None, "f1": 0.0},
        "PERSON": {"precision": 0.5, "recall": 0.5, "f1": 0.5},
    }
    assert exact["f1"] == 0.8462
    assert result["mentions"]["overlap"]["by_label"]["PERSON"]["f1"] == 1.0
    events = result["events"]
    assert [events[m]["f1"] for m in ("trigger_identification", "trigger_classification")] == [0.6667, 0.6667]
    assert [events[m]["f1"] for m in ("argument_identification", "argument_classification")] == [0.4, 0.4]
    assert (events["argument_identification"]["precision"], events["argument_identification"]["recall"]) == (
        0.5,
        0.3333,
    )
    assert events["by_type"]["AGREE"]["trigger_classification"]["f1"] == 1.0
    assert events["by_type"]["AGREE"]["argument_classification"]["f1"] == 0.5
    assert events["by_type"]["AID"]["trigger_classification"]["f1"] == 0.0
    stance = result["stance"]
    assert (stance["kappa"], stance["alpha"], stance["observed_agreement"], stance["items"]) == (0.7059, 0.7273, 0.8, 5)
    assert stance["by_label"]["AGAINST"]["agreement"] == 0.6667
    assert stance["by_label"]["FAVOR"]["agreement"] == 1.0
    assert stance["by_label"]["AGAINST"]["confused_with"] == {"NONE": 1.0}


def test_the_response_names_the_job_that_computed_the_figures(setup):
    response = compute(client_for(setup.users["manager"]), setup.project)

    job = Job.objects.get(kind=Job.Kind.AGREEMENT)
    assert job.status == Job.Status.SUCCEEDED
    assert job.counts == {"articles": 5, "annotators": 2, "gold_articles": 0}
    assert response.data["job"]["id"] == job.pk
    assert response.data["job"]["status"] == "succeeded"
    assert response.data["job"]["url"].endswith(f"/api/v1/projects/niger/jobs/{job.pk}/")
    assert response.data["fingerprint"] == job.params["fingerprint"]
    assert response.data["computed_at"] is not None
    assert response.data["result"] == job.result


def test_get_before_anything_was_computed_answers_null_and_starts_nothing(setup):
    with CaptureQueriesContext(connection) as queries:
        response = client_for(setup.users["reviewer"]).get(agreement_url(setup.project))

    assert response.status_code == 200
    assert response.data == {
        "fresh": False,
        "fingerprint": agreement_fingerprint(setup.project),
        "computed_at": None,
        "job": None,
        "result": None,
    }
    assert writes_in(queries.captured_queries) == []
    assert not Job.objects.filter(kind=Job.Kind.AGREEMENT).exists()


def test_get_reads_the_figures_post_computed(setup):
    client = client_for(setup.users["reviewer"])
    computed = compute(client, setup.project)

    response = client.get(agreement_url(setup.project))

    assert response.status_code == 200
    assert response.data == computed.data
    assert response.data["fresh"] is True
    assert Job.objects.filter(kind=Job.Kind.AGREEMENT).count() == 1


def test_get_on_stale_figures_shows_them_as_stale_and_writes_nothing(setup):
    # Given figures computed, then a layer changed
    client = client_for(setup.users["reviewer"])
    computed = compute(client, setup.project)
    add_mention(setup.layers["annotator2"][1], "Niger", "LOC")

    with CaptureQueriesContext(connection) as queries:
        response = client.get(agreement_url(setup.project))

    assert response.status_code == 200
    assert response.data["fresh"] is False
    assert response.data["fingerprint"] != computed.data["fingerprint"]
    assert response.data["result"] == computed.data["result"]
    assert response.data["job"]["id"] == computed.data["job"]["id"]
    assert writes_in(queries.captured_queries) == []
    assert Job.objects.filter(kind=Job.Kind.AGREEMENT).count() == 1


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("role", [Membership.Role.MANAGER, Membership.Role.REVIEWER, Membership.Role.CONSUMER])
def test_managers_reviewers_and_consumers_read_and_compute_it(setup, role, method):
    compute(client_for(setup.users["manager"]), setup.project)
    user = member(setup.project, role)

    response = call(client_for(user, token=True), method, setup.project)

    assert response.status_code == 200
    assert response.data["result"]["stance"]["kappa"] == 0.7059


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_annotator_is_refused_the_coaching_figures(setup, method):
    response = call(client_for(setup.users["annotator1"]), method, setup.project)

    assert response.status_code == 403
    assert "reviewer" in response.data["detail"]
    assert not Job.objects.filter(kind=Job.Kind.AGREEMENT).exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_reviewer_of_another_project_gets_404(setup, method):
    other = ProjectFactory(slug="other")
    stranger = member(other, Membership.Role.REVIEWER)

    response = call(client_for(stranger), method, setup.project)

    assert response.status_code == 404
    assert not Job.objects.filter(kind=Job.Kind.AGREEMENT).exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_401(setup, method):
    response = call(APIClient(), method, setup.project)

    assert response.status_code == 401


def test_a_second_post_answers_the_current_figures_without_a_new_job(setup):
    client = client_for(setup.users["reviewer"])
    first = compute(client, setup.project)

    second = compute(client, setup.project)

    assert second.status_code == 200
    assert second.data["job"]["id"] == first.data["job"]["id"]
    assert Job.objects.filter(kind=Job.Kind.AGREEMENT).count() == 1


def test_the_figures_cost_a_fixed_number_of_queries(setup, django_assert_max_num_queries):
    client = client_for(setup.users["reviewer"])
    with django_assert_max_num_queries(40):  # computed: the loader reads five tables in five queries
        compute(client, setup.project, force=True)

    # cached: project, role, lock, fingerprint, cached job, fingerprint again (+ savepoints)
    with django_assert_max_num_queries(10):
        compute(client, setup.project)

    # read: project, role, newest job, latest figures, fingerprint (+ the request's savepoint and its release)
    with django_assert_max_num_queries(7):
        client.get(agreement_url(setup.project))


def test_force_computes_again(setup):
    client = client_for(setup.users["reviewer"])
    first = compute(client, setup.project)

    again = compute(client, setup.project, force=True)

    assert again.status_code == 200
    assert again.data["job"]["id"] != first.data["job"]["id"]
    assert again.data["result"] == first.data["result"]
    assert Job.objects.filter(kind=Job.Kind.AGREEMENT).count() == 2


def test_force_false_answers_the_current_figures(setup):
    client = client_for(setup.users["reviewer"])
    compute(client, setup.project)

    compute(client, setup.project, force=False)

    assert Job.objects.filter(kind=Job.Kind.AGREEMENT).count() == 1


def test_a_malformed_force_is_400_naming_the_field(setup):
    response = compute(client_for(setup.users["reviewer"]), setup.project, force="perhaps")

    assert response.status_code == 400
    assert list(response.data["errors"]) == ["force"]
    assert response.data["detail"].startswith("force: ")
    assert not Job.objects.filter(kind=Job.Kind.AGREEMENT).exists()


def test_a_large_project_answers_202_with_the_job_then_the_figures_once_it_ran(
    setup, settings, django_capture_on_commit_callbacks
):
    # Given a project above the inline limit: its figures are a background job
    settings.AGREEMENT_INLINE_MAX_LAYERS = 0
    client = client_for(setup.users["reviewer"])

    with django_capture_on_commit_callbacks() as callbacks:
        response = compute(client, setup.project)

    assert response.status_code == 202
    assert response.data["fresh"] is False
    assert response.data["result"] is None
    job = Job.objects.get(kind=Job.Kind.AGREEMENT)
    assert response.data["job"]["id"] == job.pk
    assert response.data["job"]["status"] == "pending"
    assert response.data["job"]["progress"] == 0.0
    assert response.data["job"]["url"].endswith(f"/jobs/{job.pk}/")
    assert len(callbacks) == 1  # the enqueue, after commit

    # While it is pending, GET shows the job and no figures; a second POST reuses the job
    polled = client.get(agreement_url(setup.project))
    assert polled.status_code == 200
    assert (polled.data["job"]["id"], polled.data["job"]["status"], polled.data["result"]) == (job.pk, "pending", None)
    again = compute(client, setup.project)
    assert again.status_code == 202
    assert again.data["job"]["id"] == job.pk

    # Once the job ran (as the worker would), GET serves the figures
    agreement_run(job_id=job.pk)
    done = client.get(agreement_url(setup.project))
    assert done.status_code == 200
    assert done.data["fresh"] is True
    assert done.data["result"]["stance"]["alpha"] == 0.7273
    assert Job.objects.filter(kind=Job.Kind.AGREEMENT).count() == 1


def test_while_recomputing_a_large_project_the_previous_figures_are_shown_as_stale(setup, settings):
    client = client_for(setup.users["reviewer"])
    compute(client, setup.project)  # small: computed inline
    settings.AGREEMENT_INLINE_MAX_LAYERS = 0
    layer = setup.layers["annotator2"][1]
    add_mention(layer, "Niger", "LOC")

    response = compute(client, setup.project)

    assert response.status_code == 202
    assert response.data["fresh"] is False
    assert response.data["job"]["status"] == "pending"
    assert response.data["result"]["stance"]["kappa"] == 0.7059
    assert response.data["result"]["mentions"]["exact"]["by_label"]["GPE"]["f1"] == 0.9524
    polled = client.get(agreement_url(setup.project))
    assert (polled.data["fresh"], polled.data["job"]["status"]) == (False, "pending")
    assert polled.data["result"] == response.data["result"]


def test_a_failed_computation_answers_202_with_the_jobs_error(setup, monkeypatch):
    def broken(data):
        raise ValueError("no figures today")

    monkeypatch.setattr(agreement_services, "compute_agreement", broken)
    client = client_for(setup.users["reviewer"])

    response = compute(client, setup.project)

    assert response.status_code == 202
    assert response.data["job"]["status"] == "failed"
    assert response.data["job"]["error"] == "ValueError: no figures today"
    assert (response.data["fresh"], response.data["result"]) == (False, None)
    polled = client.get(agreement_url(setup.project))
    assert polled.status_code == 200
    assert (polled.data["job"]["status"], polled.data["job"]["error"]) == ("failed", "ValueError: no figures today")
    assert polled.data["result"] is None


def test_one_annotator_only_is_a_status_not_an_error():
    project = ProjectFactory(slug="solo")
    reviewer = member(project, Membership.Role.REVIEWER)
    annotator = member(project, Membership.Role.ANNOTATOR, "only-one")
    layer = layer_for_annotator(article=ArticleFactory(project=project), annotator=annotator)
    add_mention(layer, "Niger", "GPE")

    response = compute(client_for(reviewer), project)

    assert response.status_code == 200
    result = response.data["result"]
    assert result["status"] == "not_enough_annotators"
    assert result["annotators"] == ["only-one"]
    assert result["mentions"]["exact"]["f1"] is None
    assert result["stance"]["kappa"] is None


def test_a_project_without_layers_has_no_figures():
    project = ProjectFactory(slug="empty")
    ArticleFactory(project=project)
    reviewer = member(project, Membership.Role.REVIEWER)

    response = compute(client_for(reviewer), project)

    assert response.status_code == 200
    result = response.data["result"]
    assert result["status"] == "not_enough_annotators"
    assert result["annotators"] == []
    assert result["articles"] == 0
    assert result["mentions"]["exact"] == {"precision": None, "recall": None, "f1": None, "by_label": {}}
    assert result["events"]["trigger_identification"] == {"precision": None, "recall": None, "f1": None}
    assert (result["stance"]["kappa"], result["stance"]["alpha"], result["stance"]["items"]) == (None, None, 0)
    assert result["vs_gold"] == {}


def two_annotators_alike(slug: str, annotate=lambda layer: None):
    """A project with one article that two annotators labelled alike (done); its reviewer."""
    project = ProjectFactory(slug=slug)
    article = ArticleFactory(project=project)
    reviewer = member(project, Membership.Role.REVIEWER)
    for name in (f"{slug}-a", f"{slug}-b"):
        layer = layer_for_annotator(article=article, annotator=member(project, Membership.Role.ANNOTATOR, name))
        annotate(layer)
        layer.refresh_from_db()
        layer_set_status(layer=layer, status=Layer.Status.DONE)
    return project, reviewer


def test_two_empty_layers_have_no_figures_rather_than_zero():
    project, reviewer = two_annotators_alike("blank")

    response = compute(client_for(reviewer), project)

    result = response.data["result"]
    assert result["status"] == "ok"
    assert result["mentions"]["exact"]["f1"] is None
    assert result["events"]["argument_classification"]["f1"] is None
    assert result["stance"]["kappa"] is None


def test_identical_layers_score_one_everywhere():
    # Given two annotators who labelled one article the same way
    def annotate(layer):
        text = layer.article.text
        russia = add_mention(layer, "Russia", "GPE")
        niger = add_mention(layer, "Niger", "GPE")
        mention_create(layer=layer, label="PERSON", start=text.index("Salifou"), end=text.index(" and Y"))
        start = text.index("sent")
        event_create(
            layer=layer,
            event_type="AID",
            trigger_start=start,
            trigger_end=start + 4,
            arguments=[("actor", russia.pk), ("recipient", niger.pk)],
        )
        stance_create(layer=layer, label="FAVOR", target_id=niger.pk, holder_id=russia.pk)

    project, reviewer = two_annotators_alike("twins", annotate)

    response = compute(client_for(reviewer), project)

    result = response.data["result"]
    assert result["status"] == "ok"
    for match in ("exact", "overlap"):
        assert result["mentions"][match]["f1"] == 1.0
        assert {label: f["f1"] for label, f in result["mentions"][match]["by_label"].items()} == {
            "GPE": 1.0,
            "PERSON": 1.0,
        }
    for metric in ("trigger_identification", "trigger_classification"):
        assert result["events"][metric] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    for metric in ("argument_identification", "argument_classification"):
        assert result["events"][metric] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
        assert result["events"]["by_type"]["AID"][metric]["f1"] == 1.0
    for task in ("stance", "mention_labels"):
        assert (result[task]["kappa"], result[task]["alpha"], result[task]["observed_agreement"]) == (1.0, 1.0, 1.0)
