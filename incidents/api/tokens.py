"""Per-user API tokens: made once, stored as a digest, sent as `Authorization: Bearer …`."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from rest_framework import authentication, exceptions, throttling

from audit.addresses import client_address
from incidents.models import ApiToken, TokenScope, Workspace

TOKEN_PREFIX = "trg_"


def digest(raw: str) -> str:
    # Tokens are long and random, so a fast hash is as good as a slow one here.
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(
    user: AbstractBaseUser,
    *,
    workspace: Workspace | None = None,
    name: str = "",
    scope: str = TokenScope.ALL,
) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the secret, which is not stored."""
    if scope == TokenScope.INGEST and workspace is None:
        raise ValueError("An ingestion token works in one workspace: give it.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        workspace=workspace,
        name=name,
        scope=scope,
        prefix=raw[:12],
        digest=digest(raw),
    )
    return token, raw


class FailedTokenThrottle(throttling.SimpleRateThrottle):
    """Failed token attempts per client address (rate `failed_token`): over it, the address
    is refused with 429 until the window has passed, whatever token it sends."""

    scope = "failed_token"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}

    def refuses(self, request) -> bool:
        self.key = self.get_cache_key(request, None)
        self.now = self.timer()
        self.history = [t for t in self.cache.get(self.key, []) if t > self.now - self.duration]
        return len(self.history) >= self.num_requests

    def count_failure(self, request) -> None:
        self.refuses(request)
        self.throttle_success()


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != self.keyword.lower():
            return None
        # DRF checks throttles after authentication: failures are counted here instead.
        throttle = FailedTokenThrottle()
        if throttle.refuses(request):
            raise exceptions.Throttled(throttle.wait())
        if len(header) != 2:
            throttle.count_failure(request)
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Bearer <token>'."
            )
        token = (
            ApiToken.objects.select_related("user", "workspace")
            .filter(digest=digest(header[1]))
            .first()
        )
        if token is None or not token.is_active or not token.user.is_active:
            throttle.count_failure(request)
            raise exceptions.AuthenticationFailed("The token is invalid or has been revoked.")
        now = timezone.now()
        # Written at most once a minute, so reads don't each cost a write.
        if token.last_used is None or (now - token.last_used).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="triage"'
