"""API on the public host: plans and signup."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from tenants.models import Plan
from tenants.selectors import plan_list_public
from tenants.services import SignupRequest, tenant_login_url, tenant_signup


class PlanSerializer(serializers.ModelSerializer):
    limits = serializers.SerializerMethodField()
    price = serializers.SerializerMethodField()

    class Meta:
        model = Plan
        fields = [
            "code",
            "name",
            "description",
            "named_seats",
            "concurrent_seats",
            "limits",
            "price",
            "trial_days",
            "features",
        ]

    def get_limits(self, plan: Plan) -> dict:
        return {
            "contacts": plan.max_contacts,
            "storage_mb": plan.max_storage_mb,
            "api_requests_per_minute": plan.api_requests_per_minute,
            "lead_forms": plan.max_lead_forms,
            "pipelines": plan.max_pipelines,
            "integration_tokens": plan.max_integration_tokens,
            "backup_frequency": plan.backup_frequency,
            "backup_retention_days": plan.backup_retention_days,
        }

    def get_price(self, plan: Plan) -> dict:
        return {"per_seat_monthly": str(plan.price_per_seat), "currency": plan.currency}


class PlanListView(ListAPIView):
    serializer_class = PlanSerializer
    pagination_class = None

    @extend_schema(summary="List the plans on offer")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return plan_list_public()


class SignupSerializer(serializers.Serializer):
    company_name = serializers.CharField(max_length=120, allow_blank=True)
    slug = serializers.CharField(max_length=63, allow_blank=True)
    admin_name = serializers.CharField(max_length=150, allow_blank=True)
    admin_email = serializers.CharField(max_length=254, allow_blank=True)
    admin_password = serializers.CharField(max_length=128, allow_blank=True, trim_whitespace=False)
    plan = serializers.CharField(max_length=40, allow_blank=True)


class SignupThrottle(AnonRateThrottle):
    scope = "signup"

    def get_rate(self) -> str:
        return settings.SIGNUP_RATE_LIMIT


class SignupView(APIView):
    throttle_classes = [SignupThrottle]

    @extend_schema(
        summary="Sign a company up and create its workspace",
        request=SignupSerializer,
        responses={
            201: inline_serializer(
                "SignupResult",
                {
                    "tenant": inline_serializer(
                        "SignupTenant",
                        {
                            "slug": serializers.CharField(),
                            "url": serializers.URLField(),
                            "plan": serializers.CharField(),
                            "status": serializers.CharField(),
                        },
                    )
                },
            )
        },
    )
    def post(self, request):
        serializer = SignupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tenant = tenant_signup(
            request=SignupRequest(**serializer.validated_data, language=translation.get_language() or "en")
        )
        return Response(
            {
                "tenant": {
                    "slug": tenant.slug,
                    "url": tenant_login_url(tenant),
                    "plan": tenant.plan.code,
                    "status": tenant.status,
                }
            },
            status=status.HTTP_201_CREATED,
        )
