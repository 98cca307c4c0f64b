from __future__ import annotations

from django.db.models import QuerySet

from tenants.models import Plan


def plan_list_public() -> QuerySet[Plan]:
    return Plan.objects.filter(is_public=True).order_by("sort_order", "code")
