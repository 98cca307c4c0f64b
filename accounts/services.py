"""Writes for users, roles and invitations. Everything here runs inside the current tenant
schema, checks the actor's administrative powers and writes the audit log."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django_tenants.utils import get_tenant_model

from accounts import roles
from accounts.audit import audit_record
from accounts.errors import AccessConflict, AccountsError, InvitationInvalid, PermissionRefused
from accounts.models import Invitation, ReleaseReason, Role, SeatType, Team, User
from accounts.policy import has_capability, require_capability
from accounts.seats import seat_assign, seat_leases_release_all
from accounts.time_zone import zone_named

INVITATION_DAYS = 7


@transaction.atomic
def roles_create_defaults(*, language: str) -> dict[str, Role]:
    """Create the built-in roles (names in `language`); existing ones are left as they are."""
    created: dict[str, Role] = {}
    with translation.override(language):
        for code, name, description, permissions, capabilities in roles.DEFAULT_ROLES:
            role, _created = Role.objects.get_or_create(
                code=code,
                defaults={
                    "name": gettext(name),
                    "description": gettext(description),
                    "is_system": True,
                    "permissions": permissions,
                    "capabilities": capabilities,
                },
            )
            created[code] = role
    return created


@transaction.atomic
def user_create(
    *,
    email: str,
    full_name: str,
    password: str | None,
    role: Role | None,
    language: str = "",
    seat_type: str = SeatType.NONE,
    actor: User | None = None,
) -> User:
    """Create a user of the current workspace. Emails are unique case-insensitively.

    Needs the `users` power (actor None: the system). A named seat is checked against
    what the workspace has (SeatLimitReached). Field problems raise ValidationError.
    """
    require_capability(actor, roles.USERS)
    email = (email or "").strip().lower()
    errors: dict[str, list[ValidationError]] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = [ValidationError(_("Enter a valid email address."), code="invalid")]
    else:
        if User.objects.filter(email__iexact=email).exists():
            errors["email"] = [ValidationError(_("Someone in this workspace already uses this email."), code="taken")]
    if not (full_name or "").strip():
        errors["full_name"] = [ValidationError(_("Enter the person's name."), code="required")]
    if password is not None:
        try:
            validate_password(password, user=User(email=email, full_name=full_name))
        except ValidationError as error:
            errors["password"] = error.error_list
    if errors:
        raise ValidationError(errors)
    user = User.objects.create_user(
        email=email, password=password, full_name=full_name.strip(), role=role, language=language
    )
    audit_record(actor=actor, action="user.create", target=user, changes={"role": role.code if role else None})
    if seat_type != SeatType.NONE:
        seat_assign(actor=actor, user=user, seat_type=seat_type)
    return user


@transaction.atomic
def user_set_role(*, actor: User, user: User, role: Role) -> User:
    """Change someone's role. Nobody changes their own role; the last administrator stays one."""
    require_capability(actor, roles.USERS)
    if actor.pk == user.pk:
        raise PermissionRefused(_("You can't change your own role. Ask another administrator."))
    _refuse_powers_beyond(actor, role.capabilities or [])
    if user.role_id and user.role.code == roles.ADMIN and role.code != roles.ADMIN and _admin_count() <= 1:
        raise AccountsError(_("The workspace needs at least one administrator."), code="last_admin")
    previous = user.role.code if user.role_id else None
    User.objects.filter(pk=user.pk).update(role=role, updated_at=timezone.now())
    user.role = role
    audit_record(actor=actor, action="user.role", target=user, changes={"role": [previous, role.code]})
    return user


@transaction.atomic
def user_set_active(*, actor: User, user: User, active: bool) -> User:
    """Switch an account off (its sessions end and its seat frees) or back on."""
    require_capability(actor, roles.USERS)
    if actor.pk == user.pk and not active:
        raise PermissionRefused(_("You can't switch off your own account."))
    if not active and user.role_id and user.role.code == roles.ADMIN and _admin_count() <= 1:
        raise AccountsError(_("The workspace needs at least one administrator."), code="last_admin")
    User.objects.filter(pk=user.pk).update(is_active=active, updated_at=timezone.now())
    user.is_active = active
    if not active:
        seat_leases_release_all(user=user, reason=ReleaseReason.SEAT_REMOVED)
    audit_record(actor=actor, action="user.activate" if active else "user.deactivate", target=user)
    return user


def _admin_count() -> int:
    return User.objects.filter(is_active=True, role__code=roles.ADMIN).count()


def _refuse_powers_beyond(actor: User | None, capabilities: list[str]) -> None:
    """Nobody hands out administrative powers they don't hold (no escalation by proxy)."""
    if any(not has_capability(actor, power) for power in capabilities):
        raise PermissionRefused(_("You cannot give powers you don't have yourself."))


@transaction.atomic
def role_create(*, actor: User, name: str, permissions: object, capabilities: list[str], description: str = "") -> Role:
    """A custom role from per-record-type scopes and administrative powers."""
    require_capability(actor, roles.USERS)
    if not name.strip():
        raise ValidationError({"name": [ValidationError(_("Give the role a name."), code="required")]})
    unknown = sorted(set(capabilities) - set(roles.CAPABILITIES))
    if unknown:
        raise ValidationError(
            {
                "capabilities": [
                    ValidationError(_("Unknown powers: %(names)s") % {"names": ", ".join(unknown)}, code="invalid")
                ]
            }
        )
    _refuse_powers_beyond(actor, capabilities)
    code = _unique_role_code(name)
    role = Role.objects.create(
        code=code,
        name=name.strip(),
        description=description.strip(),
        is_system=False,
        permissions=roles.normalized_permissions(permissions),
        capabilities=sorted(set(capabilities)),
    )
    audit_record(actor=actor, action="role.create", target=role, changes={"permissions": role.permissions})
    return role


@transaction.atomic
def role_update(
    *,
    actor: User,
    role: Role,
    permissions: object | None = None,
    capabilities: list[str] | None = None,
    name: str | None = None,
    description: str | None = None,
) -> Role:
    """Change a custom role (only what is given); built-in roles stay as shipped (copy them instead).

    Refuses powers the actor does not hold. People holding the role get the change at once.
    """
    require_capability(actor, roles.USERS)
    if role.is_system:
        raise AccountsError(_("Built-in roles can't be changed. Create a custom role instead."), code="role_builtin")
    if name is not None and not name.strip():
        raise ValidationError({"name": [ValidationError(_("Give the role a name."), code="required")]})
    before = {"name": role.name, "permissions": role.permissions, "capabilities": role.capabilities}
    if capabilities is not None:
        _refuse_powers_beyond(actor, capabilities)
        role.capabilities = sorted(set(capabilities) & set(roles.CAPABILITIES))
    if permissions is not None:
        role.permissions = roles.normalized_permissions(permissions)
    if name is not None:
        role.name = name.strip()[:80]
    if description is not None:
        role.description = description.strip()[:255]
    role.save(update_fields=["name", "description", "permissions", "capabilities", "updated_at"])
    audit_record(
        actor=actor,
        action="role.update",
        target=role,
        changes={
            "before": before,
            "after": {"name": role.name, "permissions": role.permissions, "capabilities": role.capabilities},
        },
    )
    return role


@transaction.atomic
def role_delete(*, actor: User, role: Role) -> None:
    """Delete a custom role nobody holds; built-in roles and roles in use stay."""
    require_capability(actor, roles.USERS)
    if role.is_system:
        raise AccessConflict(_("Built-in roles can't be deleted."), code="role_builtin")
    if (
        User.objects.filter(role=role).exists()
        or Invitation.objects.filter(role=role, accepted_at__isnull=True).exists()
    ):
        raise AccessConflict(
            _("People or open invitations still have this role. Give them another role first."), code="role_in_use"
        )
    audit_record(actor=actor, action="role.delete", target=role, changes={"code": role.code})
    role.delete()


def _unique_role_code(name: str) -> str:
    base = slugify(name)[:30] or "role"
    code, n = base, 1
    while Role.objects.filter(code=code).exists():
        n += 1
        code = f"{base}-{n}"
    return code


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invitation_create(
    *, actor: User, email: str, full_name: str, role: Role, seat_type: str = SeatType.NONE
) -> tuple[Invitation, str]:
    """Invite a person by email; returns the invitation and the secret token for the link.

    The link works once, for INVITATION_DAYS days. Earlier open invitations for the same
    email are revoked.
    """
    require_capability(actor, roles.USERS)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as error:
        raise ValidationError(
            {"email": [ValidationError(_("Enter a valid email address."), code="invalid")]}
        ) from error
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            {"email": [ValidationError(_("Someone in this workspace already uses this email."), code="taken")]}
        )
    now = timezone.now()
    Invitation.objects.filter(email=email, accepted_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        email=email,
        full_name=full_name.strip() or email,
        role=role,
        seat_type=seat_type,
        token_hash=_token_hash(token),
        invited_by=actor,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    audit_record(
        actor=actor, action="invitation.create", target=invitation, changes={"role": role.code, "seat": seat_type}
    )
    transaction.on_commit(lambda: invitation_send(invitation=invitation, token=token), robust=True)
    return invitation, token


@transaction.atomic
def invitation_revoke(*, actor: User, invitation: Invitation) -> Invitation:
    """Make an open invitation's link stop working at once; used or revoked ones stay as they are."""
    require_capability(actor, roles.USERS)
    revoked = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    invitation.refresh_from_db()
    if revoked:
        audit_record(actor=actor, action="invitation.revoke", target=invitation)
    return invitation


def invitation_link(token: str) -> str:
    """The absolute link to accept an invitation on this workspace's own host."""
    tenant = get_tenant_model().objects.get(schema_name=connection.schema_name)
    port = ":" + settings.BASE_DOMAIN.split(":", 1)[1] if ":" in settings.BASE_DOMAIN else ""
    return f"{settings.SITE_SCHEME}://{tenant.get_primary_domain().domain}{port}/invitations/{token}/"


def invitation_send(*, invitation: Invitation, token: str) -> None:
    """Email the invitation in the inviter's language."""
    language = (invitation.invited_by.language if invitation.invited_by else "") or translation.get_language() or "en"
    with translation.override(language):
        context = {
            "invitation": invitation,
            "link": invitation_link(token),
            "inviter": invitation.invited_by,
            "days": INVITATION_DAYS,
        }
        send_mail(
            subject=_("%(name)s invites you to the CRM") % {"name": invitation.invited_by or _("Your team")},
            message=render_to_string("accounts/email/invitation.txt", context),
            from_email=None,
            recipient_list=[invitation.email],
        )


def invitation_by_token(token: str) -> Invitation:
    """The open invitation for `token`, or InvitationInvalid (used, revoked, expired, unknown)."""
    invitation = Invitation.objects.select_related("role").filter(token_hash=_token_hash(token or "")).first()
    if invitation is None or invitation.revoked_at or invitation.accepted_at:
        raise InvitationInvalid(_("This invitation link is no longer valid. Ask for a new one."))
    if invitation.expires_at <= timezone.now():
        raise InvitationInvalid(_("This invitation has expired. Ask your administrator to send a new one."))
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, password: str, full_name: str = "") -> User:
    """Create the invited person's account with the password they chose; the link is spent."""
    invitation = invitation_by_token(token)
    Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
    user = user_create(
        email=invitation.email,
        full_name=full_name.strip() or invitation.full_name,
        password=password,
        role=invitation.role,
        seat_type=invitation.seat_type,
        actor=None,
    )
    invitation.accepted_at = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["accepted_at", "user", "updated_at"])
    audit_record(actor=user, action="invitation.accept", target=invitation)
    return user


# --- teams -----------------------------------------------------------------------------


def _team_people(manager: User | None, members: list[User] | None, errors: dict) -> None:
    people = ([manager] if manager is not None else []) + list(members or [])
    if any(person.is_integration or not person.is_active for person in people):
        errors["members" if manager is None or manager.is_active else "manager"] = [
            ValidationError(_("Only active people of this workspace can be in a team."), code="invalid")
        ]


def _team_state(team: Team) -> dict:
    return {"name": team.name, "manager": team.manager_id, "members": sorted(team.members.values_list("pk", flat=True))}


def _team_name(name: str, errors: dict) -> str:
    name = (name or "").strip()
    if not name:
        errors["name"] = [ValidationError(_("Give the team a name."), code="required")]
    return name[:100]


@transaction.atomic
def team_create(*, actor: User, name: str, manager: User | None = None, members: list[User] | None = None) -> Team:
    """A team of `members` led by `manager` (managers see their team's records). Needs `users`."""
    require_capability(actor, roles.USERS)
    errors: dict[str, list[ValidationError]] = {}
    name = _team_name(name, errors)
    _team_people(manager, members, errors)
    if errors:
        raise ValidationError(errors)
    team = Team.objects.create(name=name, manager=manager)
    team.members.set(members or [])
    audit_record(
        actor=actor,
        action="team.create",
        target=team,
        changes={"manager": manager.pk if manager else None, "members": sorted(m.pk for m in members or [])},
    )
    return team


@transaction.atomic
def team_update(
    *,
    actor: User,
    team: Team,
    name: str | None = None,
    manager: User | None = None,
    clear_manager: bool = False,
    members: list[User] | None = None,
) -> Team:
    """Rename a team, change its manager (or clear it) or replace its members; only what is given."""
    require_capability(actor, roles.USERS)
    errors: dict[str, list[ValidationError]] = {}
    team = Team.objects.select_for_update().get(pk=team.pk)
    before = {
        "name": team.name,
        "manager": team.manager_id,
        "members": sorted(team.members.values_list("pk", flat=True)),
    }
    if name is not None:
        team.name = _team_name(name, errors)
    _team_people(manager, members, errors)
    if errors:
        raise ValidationError(errors)
    if manager is not None or clear_manager:
        team.manager = manager
    team.save(update_fields=["name", "manager", "updated_at"])
    if members is not None:
        team.members.set(members)
    after = {
        "name": team.name,
        "manager": team.manager_id,
        "members": sorted(team.members.values_list("pk", flat=True)),
    }
    audit_record(actor=actor, action="team.update", target=team, changes={"before": before, "after": after})
    return team


@transaction.atomic
def team_delete(*, actor: User, team: Team) -> None:
    """Delete a team; its records keep their owners (team visibility stops applying)."""
    require_capability(actor, roles.USERS)
    audit_record(actor=actor, action="team.delete", target=team, changes={"name": team.name})
    team.delete()


@transaction.atomic
def user_language_set(*, user: User, language: str) -> User:
    """Remember the language `user` reads the workspace in ("" = the workspace default).

    Refuses (ValidationError on `language`, code `invalid_choice`) anything but one of
    settings.LANGUAGES; only the person's own choice, so no power is needed.
    """
    if language and language not in dict(settings.LANGUAGES):
        problem = ValidationError(_("Choose one of the offered languages."), code="invalid_choice")
        raise ValidationError({"language": [problem]})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language", "updated_at"])
    return user


@transaction.atomic
def user_time_zone_set(*, user: User, time_zone: str) -> User:
    """Remember the time zone `user` reads times in ("" = the workspace's).

    Refuses (ValidationError on `time_zone`, code `invalid_choice`) a name the time zone
    database doesn't know; only the person's own choice, so no power is needed.
    """
    if time_zone and zone_named(time_zone) is None:
        problem = ValidationError(_("Choose a time zone from the list."), code="invalid_choice")
        raise ValidationError({"time_zone": [problem]})
    if user.time_zone != time_zone:
        user.time_zone = time_zone
        user.save(update_fields=["time_zone", "updated_at"])
    return user
