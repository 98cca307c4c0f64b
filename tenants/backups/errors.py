"""Errors of backups, restores and exports, each with a stable code (API.md shapes)."""

from __future__ import annotations

from config.errors import CodedError


class BackupError(CodedError):
    code = "backup_error"
    http_status = 400


class BackupLimitReached(BackupError):
    """The plan's on-demand backups for today are used up."""

    code = "plan_limit_reached"
    http_status = 429


class BackupBusy(BackupError):
    """Another restore of this workspace is already under way."""

    code = "restore_in_progress"
    http_status = 409


class BackupNotReady(BackupError):
    code = "backup_not_ready"
    http_status = 409


class BackupCorrupt(BackupError):
    """The archive does not match its checksums, or cannot be decrypted."""

    code = "backup_corrupt"
    http_status = 409


class BackupNotFound(BackupError):
    """Missing, or another workspace's: the same answer for both."""

    code = "not_found"
    http_status = 404
