"""Workspace administration over the API: users, roles, seats, teams and invitations.

Thin views over accounts' services and selectors; every escalation guard (nobody changes
their own role, the last administrator stays one, no powers handed out beyond one's
own) lives in those services, so the web pages and the API refuse the same things.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import roles
from accounts.audit import ACTION_GROUPS, action_label
from accounts.models import LeaseKind, SeatType
from accounts.seats import seat_assign, seat_holders, seat_lease_force_release, seat_overview, seat_usage_history
from accounts.selectors import (
    USER_ORDERINGS,
    AccessRecordNotFound,
    audit_entry_list,
    invitation_get,
    invitation_list,
    role_by_id,
    role_get,
    role_list,
    team_get_for_admin,
    team_list,
    user_get,
    user_list,
)
from accounts.services import (
    invitation_create,
    invitation_revoke,
    role_create,
    role_delete,
    role_update,
    team_create,
    team_delete,
    team_update,
    user_create,
    user_set_active,
    user_set_role,
)
from api.auth import RoleBriefSerializer
from api.base import (
    IDEMPOTENCY_HEADER,
    IF_MATCH_HEADER,
    ListRecordsMixin,
    RecordViewSet,
    RetrieveRecordMixin,
    TenantAPIView,
)
from api.fields import MemberField, PersonSerializer, TeamField, VisibleRecordField
from crm.errors import RecordNotFound

MAX_ID = 2**63 - 1


def _role(_actor: Any, pk: int):
    role = role_by_id(role_id=pk)
    if role is None:
        raise RecordNotFound("")
    return role


@extend_schema_field(OpenApiTypes.INT)
class RoleField(VisibleRecordField):
    default_error_messages = {
        "invalid": _("Give the role's id (a whole number)."),
        "does_not_exist": _("No role with this id exists."),
    }

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("allow_null", False)
        super().__init__(getter=_role, **kwargs)


# --- users -------------------------------------------------------------------------------


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True)
    full_name = serializers.CharField(read_only=True)
    language = serializers.CharField(read_only=True)
    role = RoleBriefSerializer(read_only=True, allow_null=True)
    seat_type = serializers.ChoiceField(choices=SeatType.choices, read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    teams = serializers.SerializerMethodField()
    last_login = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_teams(self, user) -> list[int]:
        return [team.pk for team in user.teams.all()]


class UserCreateInput(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    name = serializers.CharField(max_length=150)
    role = RoleField()
    password = serializers.CharField(
        max_length=128,
        required=False,
        trim_whitespace=False,
        help_text="Without a password, the person is invited by email and chooses one.",
    )
    seat_type = serializers.ChoiceField(choices=SeatType.choices, required=False)
    language = serializers.ChoiceField(choices=["", "en", "ru", "es", "ar"], required=False)


class UserUpdateInput(serializers.Serializer):
    role = RoleField(required=False)
    is_active = serializers.BooleanField(required=False)
    seat_type = serializers.ChoiceField(choices=SeatType.choices, required=False)


class UserFilter(serializers.Serializer):
    role = RoleField(required=False)
    seat_type = serializers.ChoiceField(choices=SeatType.choices, required=False)
    active = serializers.BooleanField(required=False, allow_null=True, default=None)
    team = TeamField(required=False)
    search = serializers.CharField(max_length=200, required=False, allow_blank=True)
    ordering = serializers.ChoiceField(choices=list(USER_ORDERINGS), required=False)


class InvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True)
    full_name = serializers.CharField(read_only=True)
    role = RoleBriefSerializer(read_only=True)
    seat_type = serializers.ChoiceField(choices=SeatType.choices, read_only=True)
    invited_by = PersonSerializer(read_only=True, allow_null=True)
    status = serializers.SerializerMethodField()
    expires_at = serializers.DateTimeField(read_only=True)
    accepted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    revoked_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)

    def get_status(self, invitation) -> str:
        from django.utils import timezone

        if invitation.accepted_at:
            return "accepted"
        if invitation.revoked_at:
            return "revoked"
        return "expired" if invitation.expires_at <= timezone.now() else "open"


@extend_schema_view(
    list=extend_schema(summary="List the workspace's people", parameters=[UserFilter]),
    retrieve=extend_schema(summary="Get one person"),
    create=extend_schema(
        summary="Add a person (with a password) or invite them by email (without one)",
        request=UserCreateInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: UserSerializer,
            202: OpenApiResponse(InvitationSerializer, description="No password given: an invitation was emailed."),
        },
    ),
    partial_update=extend_schema(
        summary="Change a person's role, seat or whether their account is on",
        request=UserUpdateInput,
        parameters=[IF_MATCH_HEADER],
    ),
)
class UserViewSet(ListRecordsMixin, RetrieveRecordMixin, RecordViewSet):
    required_capability = roles.USERS
    serializer_class = UserSerializer
    filter_serializer = UserFilter

    def records(self, actor, query):
        return user_list(actor=actor, **query)

    def record(self, actor, pk):
        return user_get(actor=actor, user_id=pk)

    def create(self, request, *args, **kwargs) -> Response:
        data = self.validated(UserCreateInput)
        seat_type = data.get("seat_type", SeatType.NONE)
        if "password" not in data:
            invitation, _token = invitation_create(
                actor=request.user, email=data["email"], full_name=data["name"], role=data["role"], seat_type=seat_type
            )
            return Response(InvitationSerializer(invitation).data, status=status.HTTP_202_ACCEPTED)
        user = user_create(
            actor=request.user,
            email=data["email"],
            full_name=data["name"],
            password=data["password"],
            role=data["role"],
            language=data.get("language", ""),
            seat_type=seat_type,
        )
        return self.respond(user_get(actor=request.user, user_id=user.pk), status_code=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs) -> Response:
        user = self.get_object()
        data = self.validated(UserUpdateInput, partial=True)
        with self.edit_guard(user):
            if "role" in data:
                user_set_role(actor=request.user, user=user, role=data["role"])
            if "seat_type" in data:
                seat_assign(actor=request.user, user=user, seat_type=data["seat_type"])
            if "is_active" in data:
                user_set_active(actor=request.user, user=user, active=data["is_active"])
        return self.respond(self.record(request.user, user.pk))


# --- roles -------------------------------------------------------------------------------

SCOPE_CHOICES = roles.SCOPES


class PermissionsField(serializers.DictField):
    """{record type: {action: scope}}; record types and actions not given get `none`."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault(
            "child", serializers.DictField(child=serializers.ChoiceField(choices=SCOPE_CHOICES), allow_empty=True)
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        errors = {}
        for record_type, actions in value.items():
            if record_type not in roles.RECORD_TYPES:
                errors[record_type] = [_("Unknown record type.")]
            elif unknown := sorted(set(actions) - set(roles.ACTIONS)):
                errors[record_type] = [_("Unknown actions: %(names)s") % {"names": ", ".join(unknown)}]
        if errors:
            raise serializers.ValidationError(errors)
        return value


class RoleSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    is_system = serializers.BooleanField(read_only=True, help_text="Built-in roles can't be changed or deleted.")
    permissions = serializers.SerializerMethodField()
    capabilities = serializers.ListField(child=serializers.CharField(), read_only=True)
    user_count = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_permissions(self, role) -> dict[str, dict[str, str]]:
        return roles.normalized_permissions(role.permissions)


class RoleInput(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    permissions = PermissionsField(required=False)
    capabilities = serializers.ListField(
        child=serializers.ChoiceField(choices=roles.CAPABILITIES), required=False, max_length=len(roles.CAPABILITIES)
    )


@extend_schema_view(
    list=extend_schema(summary="List roles (built-in and custom)"),
    retrieve=extend_schema(summary="Get one role with its permissions"),
    create=extend_schema(
        summary="Create a custom role from permissions and powers",
        request=RoleInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: RoleSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a custom role", request=RoleInput, parameters=[IF_MATCH_HEADER], responses={200: RoleSerializer}
    ),
    destroy=extend_schema(
        summary="Delete a custom role nobody holds", parameters=[IF_MATCH_HEADER], responses={204: None}
    ),
)
class RoleViewSet(ListRecordsMixin, RetrieveRecordMixin, RecordViewSet):
    required_capability = roles.USERS
    serializer_class = RoleSerializer

    def records(self, actor, query):
        return role_list(actor=actor)

    def record(self, actor, pk):
        return role_get(actor=actor, role_id=pk)

    def create(self, request, *args, **kwargs) -> Response:
        data = self.validated(RoleInput)
        role = role_create(
            actor=request.user,
            name=data["name"],
            description=data.get("description", ""),
            permissions=data.get("permissions", {}),
            capabilities=data.get("capabilities", []),
        )
        return self.respond(self.record(request.user, role.pk), status_code=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs) -> Response:
        role = self.get_object()
        data = self.validated(RoleInput, partial=True)
        with self.edit_guard(role):
            role_update(actor=request.user, role=role, **data)
        return self.respond(self.record(request.user, role.pk))

    def destroy(self, request, *args, **kwargs) -> Response:
        role = self.get_object()
        with self.edit_guard(role):
            role_delete(actor=request.user, role=role)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- seats -------------------------------------------------------------------------------


class SeatOverviewSerializer(serializers.Serializer):
    named_total = serializers.IntegerField(help_text="Named seats the workspace has (plan plus bought).")
    named_assigned = serializers.IntegerField()
    concurrent_total = serializers.IntegerField(help_text="Shared seats the workspace has.")
    concurrent_in_use = serializers.IntegerField(help_text="People holding a shared seat right now.")


class SeatHolderSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text="The lease; free it with POST /seats/{id}/release/.")
    user = PersonSerializer(read_only=True)
    kind = serializers.CharField(read_only=True, help_text=f"{LeaseKind.WEB}: a browser, {LeaseKind.API}: an API token")
    seat_type = serializers.ChoiceField(choices=SeatType.choices, read_only=True)
    since = serializers.DateTimeField(source="acquired_at", read_only=True)
    last_seen_at = serializers.DateTimeField(read_only=True)
    ip_address = serializers.IPAddressField(read_only=True, allow_null=True)
    user_agent = serializers.CharField(read_only=True)


class SeatUsageDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    peak_concurrent = serializers.IntegerField()
    peak_at = serializers.DateTimeField(allow_null=True)


class SeatHistoryFilter(serializers.Serializer):
    days = serializers.IntegerField(required=False, min_value=1, max_value=366, default=30)


class SeatOverviewView(TenantAPIView):
    required_capability = roles.SEATS

    @extend_schema(summary="Seats: what the workspace has and what is in use", responses={200: SeatOverviewSerializer})
    def get(self, request):
        return Response(SeatOverviewSerializer(seat_overview()).data)


@extend_schema_view(
    holders=extend_schema(
        summary="Who holds a seat right now (live sessions)", responses={200: SeatHolderSerializer(many=True)}
    ),
    release=extend_schema(
        summary="Free a seat now; the holder must sign in again", request=None, responses={204: None}
    ),
    history=extend_schema(
        summary="Peak shared-seat use per day",
        parameters=[SeatHistoryFilter],
        responses={200: SeatUsageDaySerializer(many=True)},
    ),
)
class SeatViewSet(RecordViewSet):
    required_capability = roles.SEATS
    serializer_class = SeatHolderSerializer

    def records(self, actor, query):
        return seat_holders()

    def record(self, actor, pk):
        lease = seat_holders().filter(pk=pk).first()
        if lease is None:
            raise AccessRecordNotFound(str(_("This seat is not held any more.")))
        return lease

    @action(detail=False, methods=["get"])
    def holders(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        seat_lease_force_release(actor=request.user, lease=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=False, methods=["get"], pagination_class=None)
    def history(self, request):
        query = SeatHistoryFilter(data=request.query_params)
        query.is_valid(raise_exception=True)
        days = seat_usage_history(days=query.validated_data["days"])
        return Response(SeatUsageDaySerializer(days, many=True).data)


# --- teams -------------------------------------------------------------------------------


class TeamSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    manager = PersonSerializer(read_only=True, allow_null=True)
    members = PersonSerializer(many=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class TeamInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    manager = MemberField(required=False, help_text="null: no manager")
    members = serializers.ListField(child=MemberField(allow_null=False), required=False, max_length=1000)


class TeamFilter(serializers.Serializer):
    search = serializers.CharField(max_length=200, required=False, allow_blank=True)


@extend_schema_view(
    list=extend_schema(summary="List teams", parameters=[TeamFilter]),
    retrieve=extend_schema(summary="Get one team with its manager and members"),
    create=extend_schema(
        summary="Create a team", request=TeamInput, parameters=[IDEMPOTENCY_HEADER], responses={201: TeamSerializer}
    ),
    partial_update=extend_schema(
        summary="Rename a team, change its manager or replace its members",
        request=TeamInput,
        parameters=[IF_MATCH_HEADER],
        responses={200: TeamSerializer},
    ),
    destroy=extend_schema(summary="Delete a team", parameters=[IF_MATCH_HEADER], responses={204: None}),
)
class TeamViewSet(ListRecordsMixin, RetrieveRecordMixin, RecordViewSet):
    required_capability = roles.USERS
    serializer_class = TeamSerializer
    filter_serializer = TeamFilter

    def records(self, actor, query):
        return team_list(actor=actor, **query)

    def record(self, actor, pk):
        return team_get_for_admin(actor=actor, team_id=pk)

    def create(self, request, *args, **kwargs) -> Response:
        data = self.validated(TeamInput)
        team = team_create(
            actor=request.user, name=data["name"], manager=data.get("manager"), members=data.get("members")
        )
        return self.respond(self.record(request.user, team.pk), status_code=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs) -> Response:
        team = self.get_object()
        data = self.validated(TeamInput, partial=True)
        with self.edit_guard(team):
            team_update(
                actor=request.user,
                team=team,
                name=data.get("name"),
                manager=data.get("manager"),
                clear_manager="manager" in data and data["manager"] is None,
                members=data.get("members"),
            )
        return self.respond(self.record(request.user, team.pk))

    def destroy(self, request, *args, **kwargs) -> Response:
        team = self.get_object()
        with self.edit_guard(team):
            team_delete(actor=request.user, team=team)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- invitations -------------------------------------------------------------------------


class InvitationFilter(serializers.Serializer):
    open = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true: only open ones (not accepted, not revoked)."
    )


@extend_schema_view(
    list=extend_schema(summary="List invitations", parameters=[InvitationFilter]),
    retrieve=extend_schema(summary="Get one invitation"),
    revoke=extend_schema(
        summary="Revoke an invitation (its link stops working)", request=None, responses={200: InvitationSerializer}
    ),
)
class InvitationViewSet(ListRecordsMixin, RetrieveRecordMixin, RecordViewSet):
    required_capability = roles.USERS
    serializer_class = InvitationSerializer
    filter_serializer = InvitationFilter

    def records(self, actor, query):
        return invitation_list(actor=actor, open_only=bool(query.get("open")))

    def record(self, actor, pk):
        return invitation_get(actor=actor, invitation_id=pk)

    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        invitation = invitation_revoke(actor=request.user, invitation=self.get_object())
        return self.respond(invitation)


# --- audit log ---------------------------------------------------------------------------


class AuditEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    actor = PersonSerializer(read_only=True, allow_null=True)
    actor_label = serializers.CharField(read_only=True, help_text="The actor's email when it happened, or `system`.")
    action = serializers.CharField(read_only=True, help_text="A stable code, e.g. `seat.force_release`.")
    action_label = serializers.SerializerMethodField()
    target_type = serializers.CharField(read_only=True)
    target_id = serializers.IntegerField(read_only=True, allow_null=True)
    target_label = serializers.CharField(read_only=True)
    changes = serializers.JSONField(read_only=True)
    ip_address = serializers.IPAddressField(read_only=True, allow_null=True)
    user_agent = serializers.CharField(read_only=True)

    def get_action_label(self, entry) -> str:
        return action_label(entry.action)


class AuditEntryFilter(serializers.Serializer):
    person_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="Only what this person did (a user id)."
    )
    group = serializers.ChoiceField(
        choices=list(ACTION_GROUPS), required=False, allow_blank=True, help_text="Only one kind of change."
    )
    date_from = serializers.DateField(required=False, allow_null=True)
    date_to = serializers.DateField(required=False, allow_null=True)

    def validate(self, data):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise serializers.ValidationError({"date_to": [_("The end date comes before the start date.")]})
        return data


@extend_schema_view(
    list=extend_schema(summary="The access audit log, newest first", parameters=[AuditEntryFilter]),
    retrieve=extend_schema(summary="One audit log entry"),
)
class AuditEntryViewSet(ListRecordsMixin, RetrieveRecordMixin, RecordViewSet):
    required_capability = roles.USERS
    serializer_class = AuditEntrySerializer
    filter_serializer = AuditEntryFilter

    def records(self, actor, query):
        return audit_entry_list(actor=actor, **query)

    def record(self, actor, pk):
        entry = audit_entry_list(actor=actor).filter(pk=pk).first()
        if entry is None:
            raise RecordNotFound(_("This audit log entry does not exist."))
        return entry
