"""Backups for platform staff: list, create (one or all), verify, restore, recover, prune, genkey.

manage.py backups list [--tenant acme]
manage.py backups create acme [--kind manual]      # in this process, waits for the result
manage.py backups create --all [--queue]           # every tenant (or queue them, spread)
manage.py backups verify 42 [--deep]               # checksums; --deep also loads it and drops it
manage.py backups restore 42 [--sandbox]           # in this process; maintenance meanwhile
manage.py backups recover [--stale-seconds 300]    # undo jobs whose worker died
manage.py backups prune                            # retention, old exports, retired schemas
manage.py backups genkey                           # a new BACKUP_ENCRYPTION_KEY
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from tenants.backups import encryption, services
from tenants.backups.errors import BackupError
from tenants.backups.models import Backup, BackupKind, JobKind, JobStatus
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Per-tenant backups: list, create, verify, restore, recover, prune, genkey."

    def add_arguments(self, parser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        listing = commands.add_parser("list", help="list backups")
        listing.add_argument("--tenant", help="only this workspace (slug)")
        create = commands.add_parser("create", help="back up one workspace, or all")
        create.add_argument("slug", nargs="?")
        create.add_argument("--all", action="store_true", help="every workspace")
        create.add_argument("--queue", action="store_true", help="queue for the workers instead of running here")
        create.add_argument("--kind", default=BackupKind.MANUAL, choices=[BackupKind.MANUAL, BackupKind.SCHEDULED])
        verify = commands.add_parser("verify", help="check a backup without restoring it")
        verify.add_argument("backup_id", type=int)
        verify.add_argument("--deep", action="store_true", help="also load it into a scratch schema, then drop it")
        restore = commands.add_parser("restore", help="restore a backup over its workspace (or as a sandbox)")
        restore.add_argument("backup_id", type=int)
        restore.add_argument("--sandbox", action="store_true")
        recover = commands.add_parser("recover", help="undo jobs whose worker stopped")
        recover.add_argument("--stale-seconds", type=int, default=None)
        commands.add_parser("prune", help="apply retention; drop retired schemas whose time is up")
        commands.add_parser("genkey", help="print a new encryption key")

    def handle(self, *args, **options) -> None:
        action = options["action"]
        try:
            getattr(self, f"do_{action}")(options)
        except BackupError as error:
            raise CommandError(error.message) from error

    def do_list(self, options) -> None:
        backups = Backup.objects.select_related("tenant").order_by("tenant__slug", "-created_at")
        if options.get("tenant"):
            backups = backups.filter(tenant__slug=options["tenant"])
        for backup in backups:
            self.stdout.write(
                f"{backup.pk:>6}  {backup.tenant.slug:<24} {backup.created_at:%Y-%m-%d %H:%M}  "
                f"{backup.kind:<9} {backup.status:<7} {filesizeformat(backup.size_bytes):>10}"
                f"{'  encrypted' if backup.encrypted else ''}"
            )

    def do_create(self, options) -> None:
        if options["all"]:
            tenants = list(Tenant.objects.exclude(schema_name="public").order_by("slug"))
        elif options.get("slug"):
            tenants = [self._tenant(options["slug"])]
        else:
            raise CommandError("Give a workspace slug or --all.")
        for tenant in tenants:
            if options["queue"]:
                backup = Backup.objects.create(tenant=tenant, kind=options["kind"])
                services.queue_backup(backup_id=backup.pk)
                self.stdout.write(f"{tenant.slug}: queued backup {backup.pk}")
                continue
            backup = services.backup_take(tenant=tenant, kind=options["kind"])
            if not backup.is_ready:
                raise CommandError(f"{tenant.slug}: backup {backup.pk} failed: {backup.error}")
            self.stdout.write(f"{tenant.slug}: backup {backup.pk}, {filesizeformat(backup.size_bytes)}")

    def do_verify(self, options) -> None:
        backup = self._backup(options["backup_id"])
        manifest = services.backup_verify(backup=backup, deep=options["deep"])
        self.stdout.write(
            f"backup {backup.pk} is sound: {len(manifest['tables'])} tables, {manifest['totals']['rows']} rows, "
            f"{manifest['files']['count']} files{' (loaded and checked)' if options['deep'] else ''}"
        )

    def do_restore(self, options) -> None:
        backup = self._backup(options["backup_id"])
        job = services.restore_request(actor=None, backup=backup, sandbox=options["sandbox"], queue=False)
        job = services.restore_run(job_id=job.pk)
        if job.status != JobStatus.DONE:
            raise CommandError(job.error)
        where = job.sandbox_tenant.slug if job.kind == JobKind.SANDBOX else backup.tenant.slug
        self.stdout.write(f"restored backup {backup.pk} into {where}")

    def do_recover(self, options) -> None:
        seconds = options.get("stale_seconds")
        count = services.jobs_recover_stale(stale_after=timedelta(seconds=seconds) if seconds is not None else None)
        self.stdout.write(f"recovered {count} interrupted jobs and backups")

    def do_prune(self, options) -> None:
        removed = services.backups_prune()
        dropped = services.retired_schemas_drop()
        self.stdout.write(f"removed {removed} expired backups, dropped {dropped} retired schemas")

    def do_genkey(self, options) -> None:
        self.stdout.write(encryption.new_key())

    def _tenant(self, slug: str) -> Tenant:
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None or tenant.is_public:
            raise CommandError(f"No workspace {slug!r}.")
        return tenant

    def _backup(self, backup_id: int) -> Backup:
        backup = Backup.objects.select_related("tenant").filter(pk=backup_id).first()
        if backup is None:
            raise CommandError(f"No backup {backup_id}.")
        return backup
