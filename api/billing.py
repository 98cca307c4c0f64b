"""GET /api/v1/billing/: the workspace's plan, status, seats paid and used, trial end (admins only)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts import roles
from api.base import TenantAPIView
from billing.selectors import billing_summary


class PlanBriefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class SeatsSerializer(serializers.Serializer):
    paid = serializers.IntegerField(help_text="Named seats the workspace pays for (its seat capacity).")
    used = serializers.IntegerField(help_text="Named seats assigned to people.")


class SubscriptionBriefSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="Stripe's subscription status.")
    quantity = serializers.IntegerField()
    current_period_end = serializers.DateTimeField(allow_null=True)
    cancel_at_period_end = serializers.BooleanField()
    pending_quantity = serializers.IntegerField(
        allow_null=True, help_text="Seats asked for and not yet confirmed by Stripe."
    )


class BillingSerializer(serializers.Serializer):
    plan = PlanBriefSerializer()
    status = serializers.ChoiceField(choices=["trialing", "active", "past_due", "read_only", "suspended"])
    seats = SeatsSerializer()
    trial_ends_at = serializers.DateTimeField(allow_null=True)
    read_only_at = serializers.DateTimeField(
        allow_null=True, help_text="While past due: when the workspace becomes read-only unless paid."
    )
    subscription = SubscriptionBriefSerializer(allow_null=True)


class BillingView(TenantAPIView):
    required_capability = roles.BILLING

    @extend_schema(summary="The workspace's plan, billing status and seats", responses={200: BillingSerializer})
    def get(self, request):
        return Response(BillingSerializer(billing_summary(tenant=request.tenant)).data)
