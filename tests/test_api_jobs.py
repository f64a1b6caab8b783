"""Pre-annotation jobs over the API: started by managers, queued on commit, progress readable."""

from __future__ import annotations

import pytest

from annotations.models import Job
from tests.factories import ArticleFactory, ProjectFactory
from tests.test_api_helpers import ROLES, client_for, member, url

pytestmark = pytest.mark.django_db


def test_manager_starts_a_preannotation_job_queued_on_commit(project, django_capture_on_commit_callbacks):
    articles = ArticleFactory.create_batch(3, project=project)
    manager = member(project, ROLES.MANAGER)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(manager).post(url(project, "jobs/"), {"kind": "preannotate"}, format="json")

    assert response.status_code == 201
    job = Job.objects.get()
    assert (job.kind, job.status, job.total, job.done, job.project, job.created_by) == (
        "preannotate",
        "pending",
        3,
        0,
        project,
        manager,
    )
    assert job.params["article_ids"] == [a.pk for a in articles]
    assert len(callbacks) == 1  # the enqueue, after the request's transaction commits
    assert (response.data["id"], response.data["status"], response.data["progress"]) == (job.pk, "pending", 0.0)


def test_job_for_some_articles(project, django_capture_on_commit_callbacks):
    first, _ = ArticleFactory.create_batch(2, project=project)
    client = client_for(member(project, ROLES.MANAGER))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url(project, "jobs/"), {"kind": "preannotate", "articles": [first.pk]}, format="json")

    assert response.status_code == 201
    assert (response.data["total"], Job.objects.get().params["article_ids"]) == (1, [first.pk])
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"kind": "train"}, "kind", '"train" is not a valid choice.'),
        ({}, "kind", "This field is required."),
        ({"kind": "preannotate", "articles": []}, "articles", "This list may not be empty."),
        ({"kind": "preannotate", "articles": ["one"]}, "articles[0]", "A valid integer is required."),
    ],
)
def test_malformed_job_is_400_naming_the_field(project, body, field, message, django_capture_on_commit_callbacks):
    client = client_for(member(project, ROLES.MANAGER))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url(project, "jobs/"), body, format="json")

    assert response.status_code == 400
    assert response.data["errors"] == {field: [message]}
    assert Job.objects.count() == 0
    assert callbacks == []


def test_articles_of_another_project_are_400_and_queue_nothing(project, django_capture_on_commit_callbacks):
    foreign = ArticleFactory(project=ProjectFactory())
    client = client_for(member(project, ROLES.MANAGER))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url(project, "jobs/"), {"kind": "preannotate", "articles": [foreign.pk]}, format="json")

    assert response.status_code == 400
    assert response.data["errors"] == {"articles": [f"not in project {project.slug!r}: {foreign.pk}"]}
    assert Job.objects.count() == 0
    assert callbacks == []


def test_only_managers_start_jobs(project, django_capture_on_commit_callbacks):
    for role in (ROLES.REVIEWER, ROLES.ANNOTATOR, ROLES.CONSUMER):
        client = client_for(member(project, role))
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = client.post(url(project, "jobs/"), {"kind": "preannotate"}, format="json")
        assert response.status_code == 403, role
        assert callbacks == []
    assert Job.objects.count() == 0


def test_job_list_and_detail_show_progress_counts_and_error(project):
    job = Job.objects.create(
        project=project,
        kind=Job.Kind.PREANNOTATE,
        status=Job.Status.RUNNING,
        done=1,
        total=4,
        counts={"mentions": 12, "events": 2},
        log="12:00:00 1 article(s) in 1 chunk(s)\n",
    )
    failed = Job.objects.create(project=project, kind=Job.Kind.PREANNOTATE, status=Job.Status.FAILED, error="boom")
    Job.objects.create(project=ProjectFactory(), kind=Job.Kind.PREANNOTATE)  # another project's
    client = client_for(member(project, ROLES.ANNOTATOR))

    listed = client.get(url(project, "jobs/"))
    detail = client.get(url(project, f"jobs/{job.pk}/"))

    assert [j["id"] for j in listed.data["results"]] == [failed.pk, job.pk]
    assert listed.data["results"][0]["error"] == "boom"
    assert {k: detail.data[k] for k in ("status", "done", "total", "progress", "counts")} == {
        "status": "running",
        "done": 1,
        "total": 4,
        "progress": 0.25,
        "counts": {"mentions": 12, "events": 2},
    }
    assert detail.data["log"].endswith("1 article(s) in 1 chunk(s)\n")


def test_another_projects_job_is_404(project):
    foreign = Job.objects.create(project=ProjectFactory(), kind=Job.Kind.PREANNOTATE)
    client = client_for(member(project, ROLES.MANAGER))

    assert client.get(url(project, f"jobs/{foreign.pk}/")).status_code == 404
