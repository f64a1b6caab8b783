"""URL configuration: the admin (annotators' home) and the REST API."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Workbench — geopolitical event annotation"
admin.site.site_title = "Workbench"
admin.site.index_title = "Projects, articles and annotations"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    # Browsers ask for /favicon.ico on pages that name no icon (the API docs, a JSON response).
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
]

# A path under /api/ that matches no route (a slug with a space) answers JSON like every API error.
handler404 = "api.views.errors.not_found"
