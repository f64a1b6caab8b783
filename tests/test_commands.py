"""Management commands: create_project, import_articles, bootstrap_demo."""

from __future__ import annotations

import json
import shutil
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from annotations.models import Actor, Article, Layer, Membership, Project
from annotations.queue import annotator_queue
from annotations.schema import load_default_schema
from tests.factories import ArticleFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()


def run(*args: str, **options: object) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def run_failing(*args: str, **options: object) -> tuple[str, str, str]:
    """Run a command that must fail; returns (stdout, stderr, the CommandError message)."""
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as failure:
        call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue(), str(failure.value)


MINIMAL_SCHEMA = {
    "name": "tiny",
    "entity_types": [{"code": "GPE", "name": "Country"}],
    "event_types": [{"code": "AID", "roles": [{"name": "actor", "entity_types": ["GPE"], "min": 1}]}],
    "realis": ["actual"],
    "stance_labels": [{"code": "FAVOR"}],
}


# --- create_project ---------------------------------------------------------------------------


def test_create_project_with_the_default_schema():
    out, _ = run("create_project", "--slug", "niger", "--name", "Niger coverage")

    project = Project.objects.get()
    assert (project.slug, project.name) == ("niger", "Niger coverage")
    assert project.label_schema == load_default_schema()
    assert out == "Created project 'niger' (Niger coverage): 10 entity types, 17 event types, 3 stance labels.\n"


def test_create_project_with_a_schema_file(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(MINIMAL_SCHEMA), encoding="utf-8")

    out, _ = run("create_project", "--slug", "tiny", "--name", "Tiny", "--schema", str(path))

    assert Project.objects.get(slug="tiny").label_schema == MINIMAL_SCHEMA
    assert out == "Created project 'tiny' (Tiny): 1 entity types, 1 event types, 1 stance labels.\n"


def test_create_project_with_a_bad_schema_names_every_problem_and_creates_nothing(tmp_path):
    # given a schema with an unknown key and a role naming an entity type that doesn't exist
    bad = {**MINIMAL_SCHEMA, "colour": "red"}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")

    # when a project is created with it
    _, _, message = run_failing("create_project", "--slug", "bad", "--name", "Bad", "--schema", str(path))

    # then the error lists the problems and no project exists
    assert message == f"schema file {path} is invalid; nothing created:\n  - schema: unknown key(s) 'colour'"
    assert Project.objects.count() == 0

    path.write_text(
        json.dumps(
            {**MINIMAL_SCHEMA, "event_types": [{"code": "AID", "roles": [{"name": "x", "entity_types": ["ORG"]}]}]}
        ),
        encoding="utf-8",
    )
    _, _, message = run_failing("create_project", "--slug", "bad", "--name", "Bad", "--schema", str(path))
    assert message == (
        f"schema file {path} is invalid; nothing created:\n"
        "  - schema.event_types[0].roles[0] (AID.x): unknown entity type 'ORG'"
    )
    assert Project.objects.count() == 0


def test_create_project_with_a_schema_file_that_is_not_json(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text("{not json", encoding="utf-8")

    _, _, message = run_failing("create_project", "--slug", "x", "--name", "X", "--schema", str(path))

    assert message.startswith(f"schema file {path} is invalid; nothing created:\n  - {path}: not valid UTF-8 JSON (")
    assert Project.objects.count() == 0


def test_create_project_with_a_missing_schema_file(tmp_path):
    path = tmp_path / "missing.json"

    _, _, message = run_failing("create_project", "--slug", "x", "--name", "X", "--schema", str(path))

    assert message == f"schema file {path} is invalid; nothing created:\n  - {path}: no such file"
    assert Project.objects.count() == 0


def test_create_project_with_a_duplicate_slug():
    run("create_project", "--slug", "niger", "--name", "First")

    _, _, message = run_failing("create_project", "--slug", "niger", "--name", "Second")

    assert message == "project not created:\n  - slug: a project with slug 'niger' already exists"
    assert list(Project.objects.values_list("name", flat=True)) == ["First"]


def test_create_project_with_an_invalid_slug():
    _, _, message = run_failing("create_project", "--slug", "not a slug!", "--name", "X")

    assert message.startswith("project not created:\n  - slug: Enter a valid “slug”")
    assert Project.objects.count() == 0


# --- import_articles --------------------------------------------------------------------------


def test_import_articles_prints_each_file_and_a_summary(tmp_path, project):
    # given a folder with two text files, one a duplicate of the other
    (tmp_path / "a.txt").write_text("Title A\nAs of: April 12, 2024 5:05 a.m\nSame body.\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Title A\nAs of: April 12, 2024 5:05 a.m\nSame  body.\n", encoding="utf-8")

    # when the folder is imported
    out, err = run("import_articles", "--project", project.slug, str(tmp_path))

    # then one article is stored and the duplicate is reported
    assert out == (
        f"{tmp_path / 'a.txt'}: imported 1\n"
        f"{tmp_path / 'b.txt'}: skipped duplicate 'Title A'\n"
        f"{tmp_path / 'b.txt'}: imported 0\n"
        "imported 1, duplicates 1, errors 0\n"
    )
    assert err == ""
    assert Article.objects.get().published.isoformat() == "2024-04-12"


def test_import_articles_reports_errors_keeps_going_and_exits_non_zero(tmp_path, project):
    # given a broken file between two good ones, and a path that does not exist
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"title": "Good", "text": "Good text."}) + "\n", encoding="utf-8")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"title": "Fine", "text": "Fine text."}) + '\n{"title": "x" "text": "y"}\n')
    other = tmp_path / "other.txt"
    other.write_text("Other\nOther text.\n", encoding="utf-8")
    missing = tmp_path / "missing.txt"

    # when they are imported
    out, err, message = run_failing(
        "import_articles", "--project", project.slug, str(good), str(bad), str(missing), str(other)
    )

    # then the good files are stored, the errors name file and line, and the command fails
    assert out == f"{good}: imported 1\n{other}: imported 1\nimported 2, duplicates 0, errors 2\n"
    assert err == (
        f"{bad}:2: malformed JSON (Expecting ',' delimiter at column 15)\n{missing}: no such file or directory\n"
    )
    assert message == "2 error(s); the files named above were not imported"
    assert list(Article.objects.order_by("id").values_list("title", flat=True)) == ["Good", "Other"]


def test_import_articles_into_an_unknown_project(tmp_path, project):
    path = tmp_path / "a.txt"
    path.write_text("Title\nText.\n", encoding="utf-8")

    out, _, message = run_failing("import_articles", "--project", "nope", str(path))

    assert message == f"unknown project 'nope'; nothing imported. Projects: {project.slug}"
    assert out == ""
    assert Article.objects.count() == 0


def test_import_articles_with_no_projects_at_all(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Title\nText.\n", encoding="utf-8")

    _, _, message = run_failing("import_articles", "--project", "nope", str(path))

    assert message == "unknown project 'nope'; nothing imported. Projects: none yet; see create_project"


# --- bootstrap_demo ---------------------------------------------------------------------------

# Article 004 has no headline: its first line, a whole paragraph, is the title.
SEED_004_TITLE = (
    "Russia and Nigér have agreed to strengthen their military cooperation, as the West African country faces "
    "a security and political crisis following a coup in July. A Russian delegation led by the deputy defence "
    "minister met with Niger’s military leaders in Niamey on Monday, in the first official visit by a member of "
    "the Russian government since the army ousted the civilian government of President Mohamed Bazoum¹."
)

ACTORS = [
    {
        "name": "Niger",
        "kind": "GPE",
        "aliases": ["Republic of Niger", "Nigér"],
        "country": "NER",
        "sector": "GOV",
        "wikidata_id": "Q1032",
        "description": "West African state.",
    },
    {"name": "Russia", "kind": "GPE", "aliases": ["Russian Federation"], "country": "RUS", "sector": "GOV"},
]


@pytest.fixture
def seeds_dir(tmp_path, settings):
    """A copy of the five seed articles plus an actor registry; DEBUG on, fast password hashing."""
    folder = tmp_path / "seeds"
    folder.mkdir()
    for path in sorted(Path(settings.BASE_DIR, "seeds").glob("*.txt")):
        shutil.copy(path, folder / path.name)
    (folder / "actors.jsonl").write_text("".join(json.dumps(a) + "\n" for a in ACTORS), encoding="utf-8")
    settings.SEEDS_DIR = folder
    settings.DEBUG = True
    return folder


def row_counts() -> dict[str, int]:
    return {
        "projects": Project.objects.count(),
        "articles": Article.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "tokens": Token.objects.count(),
        "actors": Actor.objects.count(),
    }


def test_bootstrap_demo_creates_project_articles_users_token_and_actors(seeds_dir):
    # when the demo is bootstrapped
    out, err = run("bootstrap_demo")

    # then the seed project holds the five seed articles
    project = Project.objects.get()
    assert (project.slug, project.name) == ("seeds", "Seed articles — Russia–Niger military cooperation")
    assert list(project.articles.values_list("title", "published")) == [
        ("Russian Deputy Defense Minister in Niger wants to strengthen military", date(2023, 4, 12)),
        ("Home » Russian Officials Visit Niger to Strengthen Military Ties", None),
        ("West Africa: Russia sends military trainers to Niger", date(2024, 4, 12)),
        ("Niger announces intensification of its military cooperation with Russia", None),
        (SEED_004_TITLE, None),
    ]
    # and every demo user can log in with the printed password, with the right role and flags
    roles = dict(Membership.objects.values_list("user__username", "role"))
    assert roles == {
        "admin": "manager",
        "annotator1": "annotator",
        "annotator2": "annotator",
        "reviewer": "reviewer",
        "ml": "consumer",
    }
    flags = {u.username: (u.is_staff, u.is_superuser) for u in User.objects.all()}
    assert flags == {
        "admin": (True, True),
        "annotator1": (True, False),
        "annotator2": (True, False),
        "reviewer": (True, False),
        "ml": (False, False),
    }
    for username in roles:
        assert get_user_model().objects.get(username=username).check_password(f"{username}-demo-pass")
    # and the ML user has a token, printed with the URLs
    token = Token.objects.get(user__username="ml")
    assert f"API token for ml: {token.key}  " in out
    assert "Admin:    http://127.0.0.1:8000/admin/\n" in out
    assert "API docs: http://127.0.0.1:8000/api/docs/\n" in out
    assert "  admin       admin-demo-pass       manager    superuser created\n" in out
    assert f"Articles from {seeds_dir}: imported 5, duplicates 0, errors 0\n" in out
    assert f"Actors from {seeds_dir / 'actors.jsonl'}: created 2, updated 0, unchanged 0\n" in out
    assert err == ""
    # and the actor registry is loaded
    assert Actor.objects.get(name="Niger").aliases == ["Republic of Niger", "Nigér"]
    assert row_counts() == {"projects": 1, "articles": 5, "users": 5, "memberships": 5, "tokens": 1, "actors": 2}


def test_bootstrap_demo_twice_changes_nothing(seeds_dir):
    # given a bootstrapped demo
    run("bootstrap_demo")
    counts = row_counts()
    token = Token.objects.get().key
    password_hashes = dict(User.objects.values_list("username", "password"))

    # when it runs again
    out, _ = run("bootstrap_demo")

    # then no rows are added, and the token and password hashes are the same
    assert row_counts() == counts
    assert Token.objects.get().key == token
    assert dict(User.objects.values_list("username", "password")) == password_hashes
    assert "Project 'seeds' (Seed articles — Russia–Niger military cooperation): already there\n" in out
    assert f"Articles from {seeds_dir}: imported 0, duplicates 5, errors 0\n" in out
    assert "  annotator1  annotator1-demo-pass  annotator  staff     unchanged\n" in out


def test_bootstrap_demo_assigns_every_seed_article_to_both_annotators(seeds_dir):
    out, _ = run("bootstrap_demo")

    # then both annotators open the demo on the five seed articles
    for username in ("annotator1", "annotator2"):
        queue = annotator_queue(user=User.objects.get(username=username))
        assert sorted(layer.article.title for layer in queue) == sorted(Article.objects.values_list("title", flat=True))
        assert {layer.status for layer in queue} == {Layer.Status.NOT_STARTED}
    assert "Assignment: 10 assignment(s) created in seeds with overlap 2; load: annotator1 5, annotator2 5\n" in out


def test_bootstrap_demo_twice_assigns_nothing_twice(seeds_dir):
    run("bootstrap_demo")

    out, _ = run("bootstrap_demo")

    assert Layer.objects.filter(kind=Layer.Kind.ANNOTATOR).count() == 10
    assert "Assignment: 0 assignment(s) created in seeds with overlap 2; 5 article(s) already had 2 annotator(s)" in out


# --- assign -----------------------------------------------------------------------------------


def test_assign_gives_each_article_k_annotators_and_reruns_add_nothing():
    project = ProjectFactory(slug="niger", overlap=1)
    for name in ("ann1", "ann2", "ann3"):
        MembershipFactory(project=project, user=UserFactory(username=name), role=Membership.Role.ANNOTATOR)
    for i in range(3):
        ArticleFactory(project=project, title=f"Report {i}")

    out, _ = run("assign", "--project", "niger", "--overlap", "2", "--annotators", "ann1,ann2")
    again, _ = run("assign", "--project", "niger", "--overlap", "2", "--annotators", "ann1,ann2")

    assert out == "6 assignment(s) created in niger with overlap 2; load: ann1 3, ann2 3\n"
    assert again.startswith("0 assignment(s) created in niger with overlap 2; 3 article(s) already had 2")
    assert set(Layer.objects.values_list("annotator__username", flat=True)) == {"ann1", "ann2"}


def test_assign_names_what_is_wrong():
    project = ProjectFactory(slug="niger")
    MembershipFactory(project=project, user=UserFactory(username="ann1"), role=Membership.Role.ANNOTATOR)

    assert run_failing("assign", "--project", "nowhere")[2] == "no project 'nowhere'"
    assert run_failing("assign", "--project", "niger", "--annotators", "ann1,ghost")[2] == "no such user(s): ghost"
    assert run_failing("assign", "--project", "niger", "--overlap", "2")[2] == (
        "nothing assigned:\n  - overlap: overlap 2 needs at least 2 annotators; niger has 1"
    )


def test_bootstrap_demo_prints_the_port_make_run_serves_on(seeds_dir, monkeypatch):
    monkeypatch.setenv("PORT", "8100")

    from_env, _ = run("bootstrap_demo")
    given, _ = run("bootstrap_demo", "--host", "0.0.0.0", "--port", "8200")

    assert "Admin:    http://127.0.0.1:8100/admin/\n" in from_env
    assert "API docs: http://127.0.0.1:8100/api/docs/\n" in from_env
    assert "Admin:    http://0.0.0.0:8200/admin/\n" in given


def test_bootstrap_demo_restores_a_demo_password_that_no_longer_works(seeds_dir):
    run("bootstrap_demo")
    reviewer = User.objects.get(username="reviewer")
    reviewer.set_password("changed")
    reviewer.save()

    out, _ = run("bootstrap_demo")

    assert "  reviewer    reviewer-demo-pass    reviewer   staff     updated password\n" in out
    assert get_user_model().objects.get(username="reviewer").check_password("reviewer-demo-pass")


def test_bootstrap_demo_without_an_actor_registry(seeds_dir):
    (seeds_dir / "actors.jsonl").unlink()

    out, _ = run("bootstrap_demo")

    assert f"Actors: no {seeds_dir / 'actors.jsonl'}; the actor registry was not loaded\n" in out
    assert Actor.objects.count() == 0
    assert Article.objects.count() == 5


def test_bootstrap_demo_with_a_bad_actor_line_reports_it_and_fails(seeds_dir):
    # given a registry whose second line has an unknown sector
    path = seeds_dir / "actors.jsonl"
    path.write_text(json.dumps(ACTORS[0]) + "\n" + json.dumps({**ACTORS[1], "sector": "XX"}) + "\n", encoding="utf-8")

    # when the demo is bootstrapped
    _, err, message = run_failing("bootstrap_demo")

    # then the line is named, no actor is stored, and the rest of the demo is in place
    assert err == f"{path}:2: sector unknown sector 'XX'; allowed: GOV, MIL, PRM, IGO, REB, PMC, MED, CVL, BUS, OTH\n"
    assert message == "1 error(s) while loading the seeds; see above"
    assert row_counts() == {"projects": 1, "articles": 5, "users": 5, "memberships": 5, "tokens": 1, "actors": 0}


def test_bootstrap_demo_refuses_to_run_with_debug_off(seeds_dir, settings):
    settings.DEBUG = False

    _, _, message = run_failing("bootstrap_demo")

    assert message == "DEBUG is off and the demo passwords are public; nothing done. Pass --force to run anyway."
    assert row_counts() == {"projects": 0, "articles": 0, "users": 0, "memberships": 0, "tokens": 0, "actors": 0}


def test_bootstrap_demo_with_debug_off_and_force(seeds_dir, settings):
    settings.DEBUG = False

    run("bootstrap_demo", "--force")

    assert row_counts() == {"projects": 1, "articles": 5, "users": 5, "memberships": 5, "tokens": 1, "actors": 2}


def test_bootstrap_demo_reads_the_real_seeds_folder(settings):
    # given the project's own seeds folder (its actor registry may or may not be there yet)
    settings.DEBUG = True

    out, _ = run("bootstrap_demo")

    assert f"Articles from {settings.SEEDS_DIR}: imported 5, duplicates 0, errors 0\n" in out
    assert Article.objects.filter(project__slug="seeds").count() == 5


# --- Members and tokens -----------------------------------------------------------------------


def test_create_project_with_members():
    User.objects.create_user("annotator1")
    User.objects.create_user("ml")

    out, _ = run("create_project", "--slug", "niger", "--name", "Niger", "--member", "annotator1:annotator",
                 "--member", "ml:consumer")  # fmt: skip

    project = Project.objects.get()
    assert sorted(project.memberships.values_list("user__username", "role")) == [
        ("annotator1", "annotator"),
        ("ml", "consumer"),
    ]
    assert out.endswith("  annotator1: annotator\n  ml: consumer\n")


def test_create_project_with_an_unknown_user_or_role_names_them_and_creates_nothing():
    User.objects.create_user("annotator1")

    _, _, message = run_failing("create_project", "--slug", "niger", "--name", "Niger", "--member", "nobody:annotator",
                                "--member", "annotator1:boss", "--member", "ml")  # fmt: skip

    assert message == (
        "project not created:\n"
        "  - member: 'ml' is not USERNAME:ROLE\n"
        "  - member: no user named 'nobody'\n"
        "  - member: unknown role 'boss' for 'annotator1'; allowed: manager, annotator, reviewer, consumer"
    )
    assert Project.objects.count() == 0 and Membership.objects.count() == 0


def test_project_members_adds_changes_removes_and_lists():
    for name in ("ann", "rev", "ml"):
        User.objects.create_user(name)
    run("create_project", "--slug", "niger", "--name", "Niger", "--member", "ann:annotator", "--member", "ml:consumer")

    out, _ = run("project_members", "--project", "niger", "--add", "rev:reviewer", "--add", "ann:reviewer",
                 "--remove", "ml", "--list")  # fmt: skip

    assert out == (
        "rev is reviewer in niger.\nann is reviewer in niger.\nml removed from niger.\n"
        "Members of niger: 2\n  ann: reviewer\n  rev: reviewer\n"
    )
    listed, _ = run("project_members", "--project", "niger")
    assert listed == "Members of niger: 2\n  ann: reviewer\n  rev: reviewer\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--project", "mali"], "unknown project 'mali'; nothing changed. Projects: niger"),
        (["--add", "ghost:annotator"], "nothing changed:\n  - no user named 'ghost'"),
        (["--add", "rev:owner"], "nothing changed:\n  - unknown role 'owner' for 'rev'; allowed: manager,"),
        (["--add", "rev:reviewer", "--remove", "ghost"], "nothing changed:\n  - no user named 'ghost'"),
        (["--remove", "rev"], "nothing changed:\n  - 'rev' is not a member of 'niger'"),
        (["--add", "ann:reviewer", "--remove", "ann"], "nothing changed:\n  - 'ann' is both added and removed"),
    ],
)
def test_project_members_rejects_bad_input_and_changes_nothing(args, message):
    User.objects.create_user("ann")
    User.objects.create_user("rev")
    run("create_project", "--slug", "niger", "--name", "Niger", "--member", "ann:annotator")
    if "--project" not in args:
        args = ["--project", "niger", *args]

    _, _, failure = run_failing("project_members", *args)

    assert failure.startswith(message)
    assert list(Membership.objects.values_list("user__username", "role")) == [("ann", "annotator")]


def test_create_token_prints_the_same_token_twice_and_it_authenticates(client):
    user = User.objects.create_user("ml")

    first, err = run("create_token", "--user", "ml")
    again, err_again = run("create_token", "--user", "ml")

    assert first == again == Token.objects.get(user=user).key + "\n"
    assert (err, err_again) == ("Created token of ml.\n", "Existing token of ml.\n")
    response = client.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Token {first.strip()}")
    assert response.status_code == 200


def test_create_token_for_an_unknown_user_fails():
    _, _, message = run_failing("create_token", "--user", "ghost")
    assert message == "no user named 'ghost'; create it first (createsuperuser, or the admin)"
    assert Token.objects.count() == 0
