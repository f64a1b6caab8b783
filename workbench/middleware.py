"""Which front door a request came through, for the change log (`annotations.services.changes`)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from annotations.models import Change
from annotations.services.changes import changes_via


class ChangePathMiddleware:
    """Writes during a request to `/api/` are logged with the path `api`, to `/admin/` with `admin`;
    the user is read from the request when a change is recorded (after DRF authenticated it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            path = Change.Path.API
        elif request.path.startswith("/admin/"):
            path = Change.Path.ADMIN
        else:
            return self.get_response(request)
        with changes_via(path, request=request):
            return self.get_response(request)
