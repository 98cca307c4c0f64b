"""Backups over the API (tenant administrators): list, start an on-demand backup (202),
one backup with the progress and outcome of its latest restore, start a restore (202).

Scoped through tenants.backups.selectors with the request's tenant: another workspace's
backup answers 404 like a missing one.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import roles
from api.base import RecordViewSet
from tenants.backups import selectors, services
from tenants.selectors import tenant_current


class JobSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    stage = serializers.CharField(read_only=True)
    percent = serializers.IntegerField(read_only=True)
    error = serializers.CharField(read_only=True)
    error_code = serializers.CharField(read_only=True)
    sandbox = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def get_sandbox(self, job) -> str | None:
        return job.sandbox_tenant.slug if job.sandbox_tenant_id and job.sandbox_tenant else None


class BackupSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(read_only=True, help_text="scheduled, manual or safety")
    status = serializers.CharField(read_only=True, help_text="queued, running, ready or failed")
    size = serializers.IntegerField(source="size_bytes", read_only=True, help_text="bytes")
    created_at = serializers.DateTimeField(read_only=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)
    progress = serializers.SerializerMethodField()
    encrypted = serializers.BooleanField(read_only=True)
    error = serializers.CharField(read_only=True)
    restore = serializers.SerializerMethodField(help_text="The latest restore of this backup, if any.")

    def get_progress(self, backup) -> dict:
        return {"percent": backup.percent, "stage": backup.stage}

    def get_restore(self, backup) -> dict | None:
        if not self.context.get("detail"):
            return None
        job = selectors.job_latest_for_backup(backup=backup)
        return JobSerializer(job).data if job is not None else None


class RestoreInput(serializers.Serializer):
    sandbox = serializers.BooleanField(default=False, help_text="Restore into a new, separate workspace.")


@extend_schema_view(
    list=extend_schema(summary="The workspace's backups (administrators)"),
    retrieve=extend_schema(summary="One backup, with the progress and outcome of its latest restore"),
    create=extend_schema(summary="Start an on-demand backup (202)", request=None, responses={202: BackupSerializer}),
    restore=extend_schema(
        summary="Restore this backup (202); the workspace is in maintenance until done",
        request=RestoreInput,
        responses={202: JobSerializer},
    ),
)
class BackupViewSet(mixins.ListModelMixin, RecordViewSet):
    serializer_class = BackupSerializer
    required_capability = roles.BACKUPS

    def records(self, actor, query):
        return selectors.backup_list(tenant=tenant_current())

    def record(self, actor, pk):
        return selectors.backup_get(tenant=tenant_current(), backup_id=pk)

    def retrieve(self, request, pk=None):
        backup = self.get_object()
        return Response(BackupSerializer(backup, context={"detail": True}).data)

    def create(self, request):
        backup = services.backup_request(actor=request.user, tenant=tenant_current())
        return Response(BackupSerializer(backup).data, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        backup = self.get_object()
        data = self.validated(RestoreInput)
        job = services.restore_request(actor=request.user, backup=backup, sandbox=data["sandbox"])
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
