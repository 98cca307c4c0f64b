"""Reads of people, roles, teams and invitations. Admin lists check the actor's powers."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import roles
from accounts.audit import group_prefixes
from accounts.errors import AccountsError
from accounts.models import AuditEntry, Invitation, Role, Team, User
from accounts.policy import require_capability


class AccessRecordNotFound(AccountsError):
    """Missing, or in another workspace: both look the same."""

    code = "not_found"
    http_status = 404


def member_get(*, user_id: int) -> User | None:
    """An active person of this workspace (not an integration's stand-in), or None."""
    return User.objects.filter(pk=user_id, is_active=True, is_integration=False).first()


def team_get(*, team_id: int) -> Team | None:
    return Team.objects.filter(pk=team_id).first()


def _found(record):
    if record is None:
        raise AccessRecordNotFound(_("This record does not exist."))
    return record


# --- users -------------------------------------------------------------------------------

USER_ORDERINGS = {
    "name": ["full_name", "email", "id"],
    "-name": ["-full_name", "-email", "-id"],
    "email": ["email", "id"],
    "-email": ["-email", "-id"],
    "created": ["created_at", "id"],
    "-created": ["-created_at", "-id"],
}


def user_list(
    *,
    actor: User,
    role: Role | None = None,
    seat_type: str | None = None,
    active: bool | None = None,
    search: str | None = None,
    team: Team | None = None,
    ordering: str = "name",
) -> QuerySet[User]:
    """People of the workspace (integration stand-ins left out), for user administrators."""
    require_capability(actor, roles.USERS)
    users = (
        User.objects.filter(is_integration=False)
        .select_related("role")
        .prefetch_related(Prefetch("teams", queryset=Team.objects.only("pk").order_by()))
    )
    if role is not None:
        users = users.filter(role=role)
    if seat_type:
        users = users.filter(seat_type=seat_type)
    if active is not None:
        users = users.filter(is_active=active)
    if team is not None:
        users = users.filter(Q(teams=team) | Q(managed_teams=team)).distinct()
    if search:
        users = users.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    return users.order_by(*USER_ORDERINGS.get(ordering, USER_ORDERINGS["name"]))


def user_get(*, actor: User, user_id: int) -> User:
    """One person for a user administrator; AccessRecordNotFound when missing."""
    return _found(user_list(actor=actor).filter(pk=user_id).first())


# --- roles -------------------------------------------------------------------------------


def role_list(*, actor: User) -> QuerySet[Role]:
    require_capability(actor, roles.USERS)
    return Role.objects.annotate(user_count=Count("user", filter=Q(user__is_integration=False))).order_by("name", "id")


def role_get(*, actor: User, role_id: int) -> Role:
    return _found(role_list(actor=actor).filter(pk=role_id).first())


def role_by_id(*, role_id: int) -> Role | None:
    """A role to choose in a form (any signed-in admin chooses among this workspace's roles)."""
    return Role.objects.filter(pk=role_id).first()


# --- teams -------------------------------------------------------------------------------


def team_list(*, actor: User, search: str | None = None) -> QuerySet[Team]:
    require_capability(actor, roles.USERS)
    teams = Team.objects.select_related("manager").prefetch_related(
        Prefetch("members", queryset=User.objects.order_by("full_name", "id"))
    )
    if search:
        teams = teams.filter(name__icontains=search)
    return teams.order_by("name", "id")


def team_get_for_admin(*, actor: User, team_id: int) -> Team:
    return _found(team_list(actor=actor).filter(pk=team_id).first())


# --- invitations -------------------------------------------------------------------------


def invitation_list(*, actor: User, open_only: bool = False) -> QuerySet[Invitation]:
    require_capability(actor, roles.USERS)
    invitations = Invitation.objects.select_related("role", "invited_by")
    if open_only:
        invitations = invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True)
    return invitations.order_by("-created_at", "-id")


def invitation_get(*, actor: User, invitation_id: int) -> Invitation:
    return _found(invitation_list(actor=actor).filter(pk=invitation_id).first())


# --- audit log ---------------------------------------------------------------------------


def audit_entry_list(
    *,
    actor: User,
    person_id: int | None = None,
    group: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    before_id: int | None = None,
) -> QuerySet[AuditEntry]:
    """The access audit log, newest first, for user administrators. `person_id` narrows it to
    what one person did (former people included), `group` to one kind of change (accounts.audit.ACTION_GROUPS), the
    dates to whole local days; `before_id` continues a page (ids grow with time)."""
    require_capability(actor, roles.USERS)
    entries = AuditEntry.objects.select_related("actor").order_by("-id")
    if person_id is not None:
        entries = entries.filter(actor_id=person_id)
    if group:
        prefixes = group_prefixes(group)
        condition = Q(pk__in=[])
        for prefix in prefixes:
            condition |= Q(action__startswith=prefix)
        entries = entries.filter(condition)
    if date_from is not None:
        entries = entries.filter(created_at__gte=_day_start(date_from))
    if date_to is not None:
        entries = entries.filter(created_at__lt=_day_start(date_to + timedelta(days=1)))
    if before_id is not None:
        entries = entries.filter(pk__lt=before_id)
    return entries


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
