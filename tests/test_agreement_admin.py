"""The admin's Agreement page: per-label tables and charts, access, Recompute, escaping."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from annotations.models import Job, Layer, Membership
from annotations.services.layers import layer_for_annotator
from tests.factories import ArticleFactory, MembershipFactory, MentionFactory, ProjectFactory, UserFactory
from tests.review_fixtures import review_setup

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    return review_setup()


def page_url(project) -> str:
    return reverse("admin:workspace_agreement", args=[project.slug])


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def computed(client: Client, project):
    """What the page does when its figures are out of date: POST "Compute", follow back to the page."""
    response = client.post(page_url(project), {"compute": "stale"}, follow=True)
    assert response.redirect_chain == [(page_url(project), 302)]
    return response


def staff_member(project, role: str, username: str):
    user = UserFactory(username=username, is_staff=True)
    MembershipFactory(project=project, user=user, role=role)
    return user


def row_cells(html: str, table_id: str, label: str) -> list[str]:
    """The text of the cells of a table's row for one label (tags stripped)."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert table is not None, f"no table {table_id}"
    row = re.search(rf'<tr data-label="{re.escape(label)}">(.*?)</tr>', table.group(0), re.S)
    assert row is not None, f"no row {label} in {table_id}"
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]


def test_the_reviewer_sees_the_hand_computed_figures_per_label(setup):
    # Hand-computed in tests/test_api_agreement.py (test_figures_on_the_seeds_match_…)
    response = computed(browser(setup.users["reviewer"]), setup.project)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Figures are current" in html
    # label, name, exact P, exact R, exact F1, overlap F1
    assert row_cells(html, "wb-mentions", "GPE") == [
        "GPE",
        "Geo-political entity",
        "1.0000",
        "0.9091",
        "0.9524",
        "0.9524",
    ]
    assert row_cells(html, "wb-mentions", "LOC")[2:] == ["0.0000", "—", "0.0000", "0.0000"]
    assert row_cells(html, "wb-mentions", "PERSON")[2:] == ["0.5000", "0.5000", "0.5000", "1.0000"]
    assert row_cells(html, "wb-events", "AGREE") == ["AGREE", "1.0000", "0.5000", "0.5000"]
    assert row_cells(html, "wb-events", "AID") == ["AID", "0.0000", "0.0000", "0.0000"]
    assert row_cells(html, "wb-stance", "AGAINST")[:4] == ["AGAINST", "", "0.6667", "3"]
    assert row_cells(html, "wb-stance", "FAVOR")[2] == "1.0000"
    assert "Cohen's kappa (mean over annotator pairs) <strong>0.7059</strong>" in html
    assert "Krippendorff's alpha <strong>0.7273</strong>" in html


def test_the_page_has_the_overall_event_figures_pairs_and_annotators_against_gold(setup):
    html = computed(browser(setup.users["reviewer"]), setup.project).content.decode()

    events = re.search(r'<table[^>]*id="wb-events-overall".*?</table>', html, re.S).group(0)
    assert re.search(r"Trigger identification</td><td[^>]*>1.0000</td><td[^>]*>0.5000</td><td[^>]*>0.6667", events)
    assert re.search(r"Argument classification</td><td[^>]*>0.5000</td><td[^>]*>0.3333</td><td[^>]*>0.4000", events)
    pairs = re.search(r'<table[^>]*id="wb-pairs".*?</table>', html, re.S).group(0)
    assert "annotator1 · annotator2" in pairs
    assert ">0.8462<" in pairs and ">0.7059<" in pairs
    gold = re.search(r'<table[^>]*id="wb-gold".*?</table>', html, re.S).group(0)
    # Nobody has gold yet: every figure is a dash that says why
    assert gold.count('title="no gold layer on this annotator&#x27;s articles">—') == 2 * 7


def test_a_figure_without_items_is_a_dash_that_says_why(setup):
    html = computed(browser(setup.users["reviewer"]), setup.project).content.decode()

    assert '<span class="wb-none" title="the reference layers have no LOC mention">—</span>' in html
    # A label of the schema nobody used
    assert row_cells(html, "wb-mentions", "WEAPON")[2:] == ["—"] * 4
    assert 'title="no WEAPON mention in any layer compared"' in html


def test_the_charts_are_inline_svg_with_titles_and_printed_values(setup):
    html = computed(browser(setup.users["reviewer"]), setup.project).content.decode()

    assert html.count('<figure class="wb-chart">') == 4  # mentions, events, stance, mention labels
    assert "<title>Mentions: F1 per entity label</title>" in html
    assert "<title>GPE, exact F1: 0.9524</title>" in html
    assert "<title>AGREE, argument classification: 0.5000</title>" in html
    assert "<title>AGAINST, agreement: 0.6667</title>" in html
    # The bar is as long as the figure: 0.9524 of 320 px
    assert re.search(r'<title>GPE, exact F1: 0.9524</title>\s*<rect class="wb-bar-0" x="150" y="\d+" width="305"', html)
    assert "<script" not in html.split('id="content-main"')[1]


def test_a_manager_and_a_superuser_see_it(setup):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    for user in (setup.users["manager"], root):
        assert browser(user).get(page_url(setup.project)).status_code == 200


def test_an_annotator_is_forbidden(setup):
    response = browser(setup.users["annotator1"]).get(page_url(setup.project))

    assert response.status_code == 403
    assert not Job.objects.filter(kind=Job.Kind.AGREEMENT).exists()


def test_a_consumer_is_forbidden_here(setup):
    consumer = staff_member(setup.project, Membership.Role.CONSUMER, "ml-team")

    assert browser(consumer).get(page_url(setup.project)).status_code == 403


def test_a_reviewer_of_another_project_gets_404(setup):
    other = ProjectFactory(slug="other")
    stranger = staff_member(other, Membership.Role.REVIEWER, "other-reviewer")

    assert browser(stranger).get(page_url(setup.project)).status_code == 404


def test_the_page_needs_a_staff_login(setup):
    response = Client().get(page_url(setup.project))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_get_shows_out_of_date_figures_and_starts_no_job(setup):
    client = browser(setup.users["reviewer"])

    response = client.get(page_url(setup.project))

    assert not Job.objects.filter(kind=Job.Kind.AGREEMENT).exists()
    html = response.content.decode()
    assert "The figures have not been computed yet." in html
    assert '<form method="post" id="wb-agreement-compute"' in html
    assert '<input type="hidden" name="compute" value="stale">' in html
    assert "workspace/agreement.js" in html  # submits the form itself


def test_a_get_after_computing_shows_current_figures_and_starts_no_job(setup):
    client = browser(setup.users["reviewer"])
    computed(client, setup.project)

    html = client.get(page_url(setup.project)).content.decode()

    assert Job.objects.filter(kind=Job.Kind.AGREEMENT).count() == 1
    assert "Figures are current" in html
    assert "wb-agreement-compute" not in html and "workspace/agreement.js" not in html


def test_a_get_after_a_layer_changed_says_the_figures_are_out_of_date(setup):
    client = browser(setup.users["reviewer"])
    computed(client, setup.project)
    Layer.objects.filter(article=setup.first, annotator__username="annotator1").update(version=99)

    html = client.get(page_url(setup.project)).content.decode()

    assert Job.objects.filter(kind=Job.Kind.AGREEMENT).count() == 1
    assert "The figures below are out of date" in html
    assert 'id="wb-mentions"' in html  # the previous figures stay on the page
    assert '<form method="post" id="wb-agreement-compute"' in html


def test_computing_twice_computes_once(setup):
    client = browser(setup.users["reviewer"])
    computed(client, setup.project)

    computed(client, setup.project)

    assert Job.objects.filter(kind=Job.Kind.AGREEMENT).count() == 1


def test_recompute_starts_a_new_job(setup):
    client = browser(setup.users["reviewer"])
    computed(client, setup.project)

    response = client.post(page_url(setup.project), follow=True)

    assert response.redirect_chain == [(page_url(setup.project), 302)]
    jobs = Job.objects.filter(kind=Job.Kind.AGREEMENT).order_by("id")
    assert jobs.count() == 2
    assert f"Agreement figures recomputed (job #{jobs.last().pk})." in response.content.decode()
    assert f"job #{jobs.last().pk}" in response.content.decode()


def test_recompute_needs_the_csrf_token(setup):
    client = Client(enforce_csrf_checks=True)
    client.force_login(setup.users["reviewer"])

    refused = client.post(page_url(setup.project))

    assert refused.status_code == 403
    assert not Job.objects.filter(kind=Job.Kind.AGREEMENT).exists()
    token = re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(page_url(setup.project)).content.decode()
    )
    accepted = client.post(page_url(setup.project), {"csrfmiddlewaretoken": token.group(1)})
    assert accepted.status_code == 302
    assert Job.objects.filter(kind=Job.Kind.AGREEMENT).count() == 1


def test_an_annotator_cannot_recompute(setup):
    response = browser(setup.users["annotator2"]).post(page_url(setup.project))

    assert response.status_code == 403
    assert not Job.objects.filter(kind=Job.Kind.AGREEMENT).exists()


def test_a_large_project_shows_the_job_progress_and_reloads(setup, settings, django_capture_on_commit_callbacks):
    settings.AGREEMENT_INLINE_MAX_LAYERS = 0

    with django_capture_on_commit_callbacks():  # the enqueue is not run: the job stays pending
        response = computed(browser(setup.users["reviewer"]), setup.project)

    html = response.content.decode()
    job = Job.objects.get(kind=Job.Kind.AGREEMENT)
    job_link = f'<a href="/api/v1/projects/niger/jobs/{job.pk}/">job #{job.pk}</a>'
    assert f"Computing the figures: {job_link}" in html
    assert '<progress value="0" max="2">0%</progress>' in html
    assert '<meta http-equiv="refresh" content="3">' in html
    assert "No figures yet" not in html


def test_a_project_with_one_annotator_says_not_enough_annotators():
    project = ProjectFactory(slug="solo")
    reviewer = staff_member(project, Membership.Role.REVIEWER, "solo-reviewer")
    annotator = staff_member(project, Membership.Role.ANNOTATOR, "solo-annotator")
    layer = layer_for_annotator(article=ArticleFactory(project=project), annotator=annotator)
    Layer.objects.filter(pk=layer.pk).update(status=Layer.Status.DONE)

    response = computed(browser(reviewer), project)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Not enough annotators" in html
    assert "Annotators so far: solo-annotator." in html
    assert 'id="wb-mentions"' not in html  # no pairwise table without a pair
    assert 'id="wb-gold"' in html


def test_labels_names_and_usernames_are_escaped():
    # Given a schema entity named with markup, a stored label with markup, and such a username
    project = ProjectFactory(slug="markup")
    schema = project.label_schema
    schema["entity_types"][0]["name"] = "<b>X</b>"
    project.label_schema = schema
    project.save()
    reviewer = staff_member(project, Membership.Role.REVIEWER, "markup-reviewer")
    article = ArticleFactory(project=project)
    for name in ("<i>ann</i>", "ann-2"):
        layer = layer_for_annotator(article=article, annotator=staff_member(project, Membership.Role.ANNOTATOR, name))
        MentionFactory(layer=layer, label="<b>Y</b>", start=0, end=6)
        Layer.objects.filter(pk=layer.pk).update(status=Layer.Status.DONE)

    response = computed(browser(reviewer), project)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<b>X</b>" not in html and "&lt;b&gt;X&lt;/b&gt;" in html
    assert "<b>Y</b>" not in html and "&lt;b&gt;Y&lt;/b&gt;" in html
    assert "<i>ann</i>" not in html and "&lt;i&gt;ann&lt;/i&gt;" in html
    assert "<title>&lt;b&gt;Y&lt;/b&gt;, exact F1: 1.0000</title>" in html


def test_the_project_list_links_to_each_agreement_page(setup):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)

    response = browser(root).get(reverse("admin:annotations_project_changelist"))

    assert f'<a href="{page_url(setup.project)}">Agreement</a>' in response.content.decode()


def test_event_types_with_no_data_are_hidden_behind_show_all(setup):
    response = computed(browser(setup.users["reviewer"]), setup.project)

    html = response.content.decode()
    table = re.search(r'<table[^>]*id="wb-events".*?</table>', html, re.S).group(0)
    hidden = re.findall(r'<tr data-label="([A-Z_]+)" class="wb-no-data" hidden>', table)
    shown = re.findall(r'<tr data-label="([A-Z_]+)">', table)
    assert {"AGREE", "AID"} <= set(shown)
    assert "ASSAULT" in hidden and not set(hidden) & set(shown)
    assert f"Show all event types ({len(hidden)} with no event in any layer compared are hidden)" in html
    assert 'id="wb-events-show-all"' in html
