"""The Django admin: where project leads inspect projects, articles, layers, annotations and jobs.

Article text, titles, mention quotes, schema values and job logs are untrusted: every value is
rendered through `format_html` / `format_html_join` (or Django's autoescaping), never `mark_safe`.
Changelists annotate their counts and select their related rows, so a page costs a fixed number
of queries however many rows it shows. Writes go through `annotations.services`; annotations
(mentions, events, stances) and jobs are mostly read-only here, because the annotate view, the
API and the workers own them.

Who sees and changes what. A superuser sees and changes everything. For everyone else Django's
model permissions (usually granted through a group) stay the outer gate: they say which pages a
staff account has at all. Within them, the project role narrows every page to the rows of the
user's projects, with the rules of `annotations.access`:

| rows                               | manager                | reviewer         | annotator           | consumer |
|------------------------------------|------------------------|------------------|---------------------|----------|
| projects, their member list        | view, change, delete   | view             | view                | view     |
| memberships                        | view, add, change, del.| view             | view                | view     |
| articles (+ pre-annotate, assign)  | view, add, change, del.| view             | view                | view     |
| layers                             | view, delete           | view             | own and machine     | view     |
| mentions, events, arguments,       | view; change / delete  | view; change /   | own and machine;    | view     |
| stances (only mentions change)     | in annotator and gold  | delete in gold   | change / delete own |          |
| suggestion decisions               | view, delete           | view             | own layers'         | view     |
| jobs, job chunks                   | view, delete finished  | view             | view                | view     |
| dataset versions                   | view, delete           | view             | —                   | view     |
| change log (every write to a layer)| view                   | —                | —                   | —        |

- Someone who is not a member of a project sees none of its rows: its pages redirect to the
  index with Django's "doesn't exist" message, searches, filters, autocompletes and actions skip
  them, and a project filter lists only the user's projects. Jobs without a project (worker
  checks) are the superusers'.
- The pre-annotate and assign actions are offered to every member; they run for the projects
  the user manages, and name the others as skipped.
- Machine layers are written by pre-annotation only: nobody but a superuser edits or deletes
  their items one by one. Deleting a row the user may delete (a project, an article, a layer)
  takes everything hanging off it (all of the same project) with it, given the model permissions.
- Forms list only projects the user manages (a membership's or a new article's project), and a
  project the user doesn't manage is refused with a form error, nothing saved. Someone with the
  "add project" permission may create a project and becomes its manager.
- Actors are one registry shared by every project: anyone with the model permissions views,
  adds and changes them (the mention counts count only mentions the user may read). Only
  superusers delete an actor: that unlinks mentions in projects the user may not see.
- Picking the user of a membership searches Django's user admin: managers need its "view user"
  permission for that.

The package, by what each module shows: `base` (the per-request `Access` and the scoped
ModelAdmin bases), `forms`, `filters`, `display` (HTML helpers), `projects` (projects, members,
actors), `articles`, `layers` (layers and their items), `changes` (the change log), `jobs` (jobs,
dataset versions, tokens), `registry` (trained models and the gate's decisions), `workspace` (My
queue, the annotate and review pages, the assign action) and `agreement` (the Agreement page).
Importing this package registers every ModelAdmin (Django's autodiscovery imports
`annotations.admin`) and adds the workspace's URLs to the admin site.
"""

from __future__ import annotations

from django.contrib import admin

from annotations.admin import articles, changes, jobs, layers, projects, registry  # noqa: F401 (they register the ModelAdmins)
from annotations.admin.agreement import urls as agreement_urls
from annotations.admin.events import urls as event_urls
from annotations.admin.workspace import urls as workspace_urls

# --- The annotator workspace (My queue, the annotate page): admin URLs, admin login and look ---

_admin_get_urls = admin.site.get_urls
admin.site.get_urls = lambda: (  # type: ignore[method-assign]
    workspace_urls(admin.site) + agreement_urls(admin.site) + event_urls(admin.site) + _admin_get_urls()
)
