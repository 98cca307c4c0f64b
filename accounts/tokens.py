"""API tokens: personal ones that hold a seat like a browser session, and integration
tokens (workspace API keys for machines) that act with a role and take no seat.

The secret is shown once, when the token is issued; only its SHA-256 is stored, so a
leaked database does not leak working tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import roles
from accounts.audit import audit_record
from accounts.errors import AccountsError, PermissionRefused, PlanLimitReached
from accounts.models import ApiToken, LeaseKind, ReleaseReason, Role, SeatType, TokenKind, User
from accounts.policy import has_capability, require_capability
from accounts.seats import seat_lease_acquire, seat_lease_release, seat_lease_touch
from accounts.signed_in import live_token_with_person
from config.locks import advisory_xact_lock
from tenants.selectors import tenant_current

TOKEN_PREFIX = "crm_"  # noqa: S105 - a visible marker, not a secret
PERSONAL_DEFAULT_DAYS = 30
MAX_DAYS = 365
# Bookkeeping writes (last used) happen at most this often per token, not per request.
TOUCH_EVERY = timedelta(minutes=1)


class TokenInvalid(AccountsError):
    """Unknown, revoked or expired token; or a session an administrator ended."""

    code = "not_authenticated"
    http_status = 401


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _expiry(days: int | None, *, default: int | None) -> datetime | None:
    days = default if days is None else days
    if days is None:
        return None
    if not 1 <= days <= MAX_DAYS:
        raise AccountsError(_("A token lives between 1 and %(max)d days.") % {"max": MAX_DAYS}, code="validation_error")
    return timezone.now() + timedelta(days=days)


@transaction.atomic
def api_token_issue(
    *,
    user: User,
    name: str = "",
    expires_in_days: int | None = None,
    ip_address: str | None = None,
    user_agent: str = "",
) -> IssuedToken:
    """A personal token for `user`, who has just proven their password.

    Takes a seat lease exactly like a browser sign-in, so it raises SeatNotAssigned or
    NoSeatAvailable under the same rules; nothing is stored when it does.
    """
    secret = _new_secret()
    lease_key = "api:" + secrets.token_hex(16)
    seat_lease_acquire(
        user=user, session_key=lease_key, kind=LeaseKind.API, ip_address=ip_address, user_agent=user_agent
    )
    token = ApiToken.objects.create(
        kind=TokenKind.PERSONAL,
        name=(name or _("API token"))[:100],
        user=user,
        created_by=user,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        token_hash=_hash(secret),
        lease_key=lease_key,
        expires_at=_expiry(expires_in_days, default=PERSONAL_DEFAULT_DAYS),
        last_used_at=timezone.now(),
        last_used_ip=ip_address,
    )
    return IssuedToken(token=token, secret=secret)


def api_token_authenticate(*, secret: str, ip_address: str | None = None) -> ApiToken:
    """The live token for `secret` with its user and role loaded, its seat kept.

    A personal token whose lease expired while idle takes a seat again (NoSeatAvailable
    when none is free); one whose seat an administrator freed, or whose owner lost their
    seat, is revoked and refused like a browser session is signed out.
    """
    token = live_token_with_person(_hash(secret))
    now = timezone.now()
    if token is None or (token.expires_at is not None and token.expires_at <= now):
        raise TokenInvalid(_("This token is unknown, revoked or expired. Ask for a new one."))
    if not token.user.is_active:
        raise TokenInvalid(_("Your account is switched off."))
    if token.kind == TokenKind.PERSONAL:
        _keep_seat(token, ip_address=ip_address)
    if token.last_used_at is None or token.last_used_at < now - TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=Now(), last_used_ip=ip_address)
    return token


def _keep_seat(token: ApiToken, *, ip_address: str | None) -> None:
    lease = seat_lease_touch(session_key=token.lease_key)
    if lease is not None and lease.released_at is None:
        return
    if lease is not None and lease.release_reason != ReleaseReason.EXPIRED:
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=Now())
        if lease.release_reason == ReleaseReason.FORCED:
            raise TokenInvalid(_("An administrator freed your seat. Sign in again for a new token."))
        raise TokenInvalid(_("Your session ended. Sign in again for a new token."))
    # Idle too long: like coming back to the office, take a seat again if one is free.
    with transaction.atomic():
        token.lease_key = "api:" + secrets.token_hex(16)
        seat_lease_acquire(user=token.user, session_key=token.lease_key, kind=LeaseKind.API, ip_address=ip_address)
        ApiToken.objects.filter(pk=token.pk).update(lease_key=token.lease_key)


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> None:
    """Revoke a token at once and free its seat. Its owner or a user administrator may."""
    if token.user_id != actor.pk and not has_capability(actor, roles.USERS):
        raise PermissionRefused(_("Only the token's owner or an administrator can revoke it."))
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=Now())
    if token.lease_key:
        seat_lease_release(session_key=token.lease_key)
    if revoked and token.user_id != actor.pk:
        audit_record(actor=actor, action="api_token.revoke", target=token.user, changes={"token": token.prefix})


def api_token_logout(*, token: ApiToken) -> None:
    """The token's own sign-out: revoked, seat freed at once."""
    api_token_revoke(actor=token.user, token=token)


@transaction.atomic
def integration_token_create(
    *,
    actor: User,
    name: str,
    role: Role,
    expires_in_days: int | None = None,
    requests_per_minute: int | None = None,
) -> IssuedToken:
    """A workspace API key acting with `role`, seat-free, limited in number by the plan.

    Needs the `settings` power; refuses roles with administrative powers the actor does not
    hold (no escalation through a machine), and more tokens than the plan allows (code
    plan_limit_reached).
    """
    require_capability(actor, roles.SETTINGS)
    name = (name or "").strip()
    if not name:
        raise AccountsError(_("Give the token a name, e.g. the system that will use it."), code="validation_error")
    if any(not has_capability(actor, power) for power in role.capabilities or []):
        raise PermissionRefused(_("You cannot give a token powers you don't have yourself."))
    if requests_per_minute is not None and requests_per_minute < 1:
        raise AccountsError(_("The request limit must be at least 1 per minute."), code="validation_error")
    # Two administrators creating the last allowed token at once: one waits, then counts it.
    advisory_xact_lock(f"integration-tokens:{connection.schema_name}")
    tenant = tenant_current()
    allowed = tenant.plan.max_integration_tokens if tenant is not None and tenant.plan is not None else 0
    in_use = integration_tokens_live().count()
    if in_use >= allowed:
        raise PlanLimitReached(
            _(
                "Your plan allows %(limit)d integration tokens and %(count)d are in use. "
                "Revoke one, or upgrade the plan on the Billing page."
            )
            % {"limit": allowed, "count": in_use}
        )
    secret = _new_secret()
    stand_in = User.objects.create(
        email=f"integration-{secrets.token_hex(8)}@integrations.invalid",
        full_name=_("Integration: %(name)s") % {"name": name[:80]},
        role=role,
        seat_type=SeatType.NONE,
        is_integration=True,
    )
    stand_in.set_unusable_password()
    stand_in.save(update_fields=["password"])
    token = ApiToken.objects.create(
        kind=TokenKind.INTEGRATION,
        name=name[:100],
        user=stand_in,
        created_by=actor,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        token_hash=_hash(secret),
        requests_per_minute=requests_per_minute,
        expires_at=_expiry(expires_in_days, default=None),
    )
    audit_record(actor=actor, action="integration_token.create", target=stand_in, changes={"role": role.code})
    return IssuedToken(token=token, secret=secret)


@transaction.atomic
def integration_token_revoke(*, actor: User, token: ApiToken) -> None:
    """Revoke a workspace API key; its stand-in user is switched off with it."""
    require_capability(actor, roles.SETTINGS)
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=Now())
    User.objects.filter(pk=token.user_id, is_integration=True).update(is_active=False)
    audit_record(actor=actor, action="integration_token.revoke", target=token.user, changes={"token": token.prefix})


def integration_tokens_live() -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(kind=TokenKind.INTEGRATION, revoked_at__isnull=True).exclude(expires_at__lte=Now())


def api_tokens_of(*, actor: User, user: User | None = None) -> QuerySet[ApiToken]:
    """Personal tokens the actor may see: their own; anyone's for user administrators."""
    tokens = ApiToken.objects.filter(kind=TokenKind.PERSONAL).select_related("user").order_by(F("created_at").desc())
    if has_capability(actor, roles.USERS):
        return tokens.filter(user=user) if user is not None else tokens
    return tokens.filter(user=actor)


def integration_tokens(*, actor: User) -> QuerySet[ApiToken]:
    require_capability(actor, roles.SETTINGS)
    return ApiToken.objects.filter(kind=TokenKind.INTEGRATION).select_related("user__role")
