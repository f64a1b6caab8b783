"""API throttles: per token (the authenticated user) and per anonymous client address.

DRF checks throttles after authentication and permissions, so a request with a wrong token (401)
would never reach the anonymous throttle: `ThrottledTokenAuthentication` counts each failed token
against its address's anonymous budget and answers 429 once it is spent, so tokens can't be
guessed at full speed. The rates are REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (API_THROTTLE_USER,
API_THROTTLE_ANON); the counts live in the default cache.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle


class RatesFromSettings(SimpleRateThrottle):
    """The rate looked up when a throttle is made, not when DRF's classes were imported (so a changed
    setting, e.g. in a test, takes effect)."""

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return None if rate is None else str(rate)


class TokenRateThrottle(RatesFromSettings, UserRateThrottle):
    """Requests per authenticated user (one token per user), scope `user`."""


class AnonymousRateThrottle(RatesFromSettings, AnonRateThrottle):
    """Requests per client address without credentials, scope `anon`."""


class FailedTokenThrottle(RatesFromSettings):
    """The `anon` budget of the client's address, counted while authentication runs (when
    `request.user` can't be asked yet); the same cache key as AnonymousRateThrottle's."""

    scope = "anon"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ThrottledTokenAuthentication(TokenAuthentication):
    """Token authentication whose failures spend the address's anonymous budget (429 when spent)."""

    def authenticate(self, request: Request) -> Any:
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle = FailedTokenThrottle()
            if not throttle.allow_request(request, None):  # type: ignore[arg-type]  # no view yet: the key needs none
                raise exceptions.Throttled(throttle.wait()) from None
            raise
