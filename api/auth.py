"""Signing in over the API, the current user, and API tokens (personal and integration)."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from accounts import roles
from accounts.models import ApiToken, Role
from accounts.tokens import (
    api_token_issue,
    api_token_logout,
    api_token_revoke,
    api_tokens_of,
    integration_token_create,
    integration_token_revoke,
    integration_tokens,
)
from api.base import RecordViewSet, TenantAPIView
from api.fields import PersonSerializer
from config.request_context import current_client

# --- shapes ----------------------------------------------------------------------------


class RoleBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True)
    full_name = serializers.CharField(read_only=True)
    language = serializers.CharField(read_only=True)
    role = RoleBriefSerializer(read_only=True, allow_null=True)
    seat_type = serializers.CharField(read_only=True)
    capabilities = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()

    def get_capabilities(self, user) -> list[str]:
        return list(user.role.capabilities or []) if user.role_id else []

    def get_permissions(self, user) -> dict[str, dict[str, str]]:
        return roles.normalized_permissions(user.role.permissions) if user.role_id else {}


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    expires_in_days = serializers.IntegerField(required=False, min_value=1, max_value=365)


class TokenIssuedSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Shown once. Send it as 'Authorization: Bearer <token>'.")
    expires_at = serializers.DateTimeField(allow_null=True)
    user = MeSerializer()


class ApiTokenSerializer(serializers.ModelSerializer):
    user = PersonSerializer(read_only=True)
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "kind",
            "name",
            "prefix",
            "user",
            "expires_at",
            "last_used_at",
            "last_used_ip",
            "revoked_at",
            "created_at",
            "is_active",
        ]
        read_only_fields = fields

    def get_is_active(self, token: ApiToken) -> bool:
        return token.revoked_at is None


class IntegrationTokenSerializer(ApiTokenSerializer):
    role = RoleBriefSerializer(source="user.role", read_only=True)
    requests_per_minute = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "role", "requests_per_minute"]
        read_only_fields = fields


class IntegrationTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    role = serializers.PrimaryKeyRelatedField(queryset=Role.objects.all())
    expires_in_days = serializers.IntegerField(required=False, min_value=1, max_value=365)
    requests_per_minute = serializers.IntegerField(required=False, min_value=1, max_value=100_000)


class IntegrationTokenIssuedSerializer(IntegrationTokenSerializer):
    token = serializers.SerializerMethodField(help_text="Shown once.")

    class Meta(IntegrationTokenSerializer.Meta):
        fields = [*IntegrationTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields

    def get_token(self, _token: ApiToken) -> str:
        return self.context["secret"]


# --- sign in and out -------------------------------------------------------------------


class SignInThrottle(AnonRateThrottle):
    """Password guessing: a few attempts a minute per address (cache keys carry the tenant)."""

    scope = "api_sign_in"
    rate = "20/min"


class TokenObtainView(TenantAPIView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = [SignInThrottle]

    def get_authenticate_header(self, request) -> str:
        # Wrong credentials are a 401 (API.md), which needs a challenge to answer with.
        return 'Bearer realm="api"'

    @extend_schema(
        summary="Sign in and get a personal token",
        description=(
            "Takes a seat like a browser sign-in: a named seat, or a free shared seat "
            "(a lease renewed while the token is used and freed by logout or after the idle timeout)."
        ),
        request=TokenRequestSerializer,
        responses={200: TokenIssuedSerializer},
        auth=[],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = authenticate(request, username=data["email"].strip(), password=data["password"])
        if user is None or user.is_integration:
            raise exceptions.AuthenticationFailed(_("The email or password is not right."), code="not_authenticated")
        ip_address, user_agent = current_client()
        issued = api_token_issue(
            user=user,
            name=data.get("name", ""),
            expires_in_days=data.get("expires_in_days"),
            ip_address=ip_address,
            user_agent=user_agent or request.headers.get("User-Agent", ""),
        )
        return Response(
            {"token": issued.secret, "expires_at": issued.token.expires_at, "user": MeSerializer(user).data}
        )


class LogoutView(TenantAPIView):
    @extend_schema(
        summary="Sign out: revoke this token and free its seat",
        request=None,
        responses={204: OpenApiResponse(description="Signed out.")},
    )
    def post(self, request):
        if not isinstance(request.auth, ApiToken):
            raise exceptions.ValidationError(
                {"non_field_errors": [_("Sign out of the browser session from the web page.")]}
            )
        api_token_logout(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(TenantAPIView):
    @extend_schema(summary="The signed-in user, their role and seat", responses={200: MeSerializer})
    def get(self, request):
        return Response(MeSerializer(request.user).data)


# --- tokens ----------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Personal API tokens (yours; everyone's for user administrators)"),
    retrieve=extend_schema(summary="One personal API token"),
    revoke=extend_schema(summary="Revoke a personal token and free its seat", request=None, responses={204: None}),
)
class ApiTokenViewSet(mixins.ListModelMixin, RecordViewSet):
    serializer_class = ApiTokenSerializer

    def records(self, actor, query):
        return api_tokens_of(actor=actor)

    def record(self, actor, pk):
        token = api_tokens_of(actor=actor).filter(pk=pk).first()
        if token is None:
            raise exceptions.NotFound(_("This token does not exist."))
        return token

    def retrieve(self, request, pk=None):
        return self.respond(self.get_object())

    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        api_token_revoke(actor=request.user, token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="Integration tokens (workspace API keys for machines)"),
    retrieve=extend_schema(summary="One integration token"),
    create=extend_schema(
        summary="Create an integration token (the secret is shown once)",
        request=IntegrationTokenCreateSerializer,
        responses={201: IntegrationTokenIssuedSerializer},
    ),
    revoke=extend_schema(summary="Revoke an integration token", request=None, responses={204: None}),
)
class IntegrationTokenViewSet(mixins.ListModelMixin, RecordViewSet):
    serializer_class = IntegrationTokenSerializer
    required_capability = roles.SETTINGS

    def records(self, actor, query):
        return integration_tokens(actor=actor)

    def record(self, actor, pk):
        token = integration_tokens(actor=actor).filter(pk=pk).first()
        if token is None:
            raise exceptions.NotFound(_("This token does not exist."))
        return token

    def retrieve(self, request, pk=None):
        return self.respond(self.get_object())

    def create(self, request):
        data = self.validated(IntegrationTokenCreateSerializer)
        issued = integration_token_create(actor=request.user, **data)
        body = IntegrationTokenIssuedSerializer(issued.token, context={"secret": issued.secret}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        integration_token_revoke(actor=request.user, token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
