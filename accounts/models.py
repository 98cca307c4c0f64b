"""People who sign in. Tenant users live in their tenant's schema; platform staff in public.

A person working for two companies has two separate accounts (ARCHITECTURE.md, decision 2).
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower, Now
from django.utils.translation import gettext_lazy as _


class Role(models.Model):
    """A named bundle of rights: scopes per record type and action, plus capabilities
    (see accounts/roles.py). Built-in roles can't be deleted; admins add custom ones."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=255, blank=True)
    is_system = models.BooleanField(_("built in"), default=False)
    permissions = models.JSONField(_("permissions"), default=dict, blank=True)
    capabilities = models.JSONField(_("administrative powers"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str) -> User:
        # Emails are matched case-insensitively everywhere.
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("Users need an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class SeatType(models.TextChoices):
    NONE = "none", _("No seat")
    NAMED = "named", _("Named seat")
    CONCURRENT = "concurrent", _("Shared (concurrent) seat")


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email"), max_length=254)
    full_name = models.CharField(_("full name"), max_length=150)
    language = models.CharField(_("language"), max_length=8, blank=True)
    # Blank: the workspace's time zone (a person working from elsewhere picks their own).
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    role = models.ForeignKey(Role, verbose_name=_("role"), on_delete=models.PROTECT, null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("platform staff"), default=False)
    # A named seat is this person's alone; concurrent users share the pool while signed in.
    seat_type = models.CharField(_("seat"), max_length=10, choices=SeatType.choices, default=SeatType.NONE)
    # The stand-in of an integration token: acts with its token's role, never signs in,
    # holds no seat and is left out of people lists.
    is_integration = models.BooleanField(_("integration"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Team(models.Model):
    """A manager and the people they lead; record visibility can follow teams."""

    name = models.CharField(_("name"), max_length=100)
    manager = models.ForeignKey(
        User, verbose_name=_("manager"), on_delete=models.SET_NULL, null=True, blank=True, related_name="managed_teams"
    )
    members = models.ManyToManyField(User, verbose_name=_("members"), related_name="teams", blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class AccessSettings(models.Model):
    """One row per tenant (pk=1): how seats behave in this workspace."""

    idle_timeout_minutes = models.PositiveIntegerField(
        _("free a shared seat after (minutes idle)"), default=15, validators=[MinValueValidator(1)]
    )
    allow_parallel_sessions = models.BooleanField(
        _("allow signing in from several browsers at once"),
        default=True,
        help_text=_("When off, a new sign-in ends the person's other sessions."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("access settings")
        verbose_name_plural = _("access settings")
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="access_settings_singleton")]

    def __str__(self) -> str:
        return str(_("Access settings"))


class LeaseKind(models.TextChoices):
    WEB = "web", _("Browser")
    API = "api", _("API token")


class ReleaseReason(models.TextChoices):
    LOGOUT = "logout", _("Signed out")
    EXPIRED = "expired", _("Idle too long")
    FORCED = "forced", _("Freed by an administrator")
    REPLACED = "replaced", _("Signed in elsewhere")
    SEAT_REMOVED = "seat_removed", _("Seat taken away")


class SeatLease(models.Model):
    """A signed-in session holding a seat. Times come from the database clock."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="seat_leases")
    session_key = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=4, choices=LeaseKind.choices, default=LeaseKind.WEB)
    seat_type = models.CharField(max_length=10, choices=SeatType.choices)
    acquired_at = models.DateTimeField(db_default=Now())
    last_seen_at = models.DateTimeField(db_default=Now())
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.CharField(max_length=12, choices=ReleaseReason.choices, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-acquired_at", "-id"]
        indexes = [
            models.Index(
                fields=["seat_type", "last_seen_at"], condition=models.Q(released_at__isnull=True), name="lease_active"
            ),
            models.Index(fields=["user", "released_at"], name="lease_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.session_key[:8]}"


class SeatUsageDay(models.Model):
    """Peak number of concurrent seats in use per day, so admins know when to buy more."""

    day = models.DateField(unique=True)
    peak_concurrent = models.PositiveIntegerField(default=0)
    peak_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day}: {self.peak_concurrent}"


class Invitation(models.Model):
    """An emailed link that lets a person set their password inside this workspace."""

    email = models.EmailField(_("email"))
    full_name = models.CharField(_("full name"), max_length=150)
    role = models.ForeignKey(Role, verbose_name=_("role"), on_delete=models.PROTECT, related_name="+")
    seat_type = models.CharField(_("seat"), max_length=10, choices=SeatType.choices, default=SeatType.NONE)
    # Only a hash is stored: a database leak must not hand out working links.
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return self.email


class AuditEntry(models.Model):
    """Who changed access (roles, seats, permissions, users), when, what, from where."""

    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_label = models.CharField(max_length=254, blank=True, help_text="Kept when the actor is deleted.")
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=32)
    target_id = models.BigIntegerField(null=True, blank=True)
    target_label = models.CharField(max_length=254, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at"], name="audit_recent"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"


class TokenKind(models.TextChoices):
    PERSONAL = "personal", _("Personal")
    INTEGRATION = "integration", _("Integration")


class ApiToken(models.Model):
    """A bearer token for the REST API, stored as a SHA-256 hash (the secret is shown once).

    A personal token is a signed-in session of its owner: it holds a seat lease
    (`lease_key`) like a browser does. An integration token belongs to the workspace, acts
    through its own stand-in user with the role chosen by an administrator, and takes
    no seat.
    """

    kind = models.CharField(_("kind"), max_length=12, choices=TokenKind.choices)
    name = models.CharField(_("name"), max_length=100)
    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    created_by = models.ForeignKey(
        User, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    prefix = models.CharField(_("starts with"), max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    lease_key = models.CharField(max_length=64, blank=True)
    requests_per_minute = models.PositiveIntegerField(
        _("requests per minute"), null=True, blank=True, help_text=_("Empty: the plan's limit.")
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("last used from"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "revoked_at"], name="api_token_user")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
