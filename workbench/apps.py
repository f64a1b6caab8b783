from django.apps import AppConfig

from workbench import checks  # noqa: F401  (registers the system checks)


class WorkbenchConfig(AppConfig):
    """The project itself as an app, for its system checks (`workbench/checks.py`)."""

    name = "workbench"
    verbose_name = "Workbench"
