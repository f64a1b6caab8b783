"""The demo accounts `bootstrap_demo` creates, with their public passwords.

Plain data (no model imports), so the system check that stops a production deployment still using
these passwords (`workbench/checks.py`) can be registered while the apps load.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoUser:
    password: str
    role: str  # a Membership.Role value
    is_staff: bool = True
    is_superuser: bool = False
    api_token: bool = False


# Public on purpose: this is a demo. The command refuses to run with DEBUG off unless --force, and
# with DEBUG off the system check workbench.E001 fails while any of these passwords still works.
DEMO_USERS: dict[str, DemoUser] = {
    "admin": DemoUser("admin-demo-pass", "manager", is_superuser=True),
    "annotator1": DemoUser("annotator1-demo-pass", "annotator"),
    "annotator2": DemoUser("annotator2-demo-pass", "annotator"),
    "reviewer": DemoUser("reviewer-demo-pass", "reviewer"),
    "ml": DemoUser("ml-demo-pass", "consumer", is_staff=False, api_token=True),
}
