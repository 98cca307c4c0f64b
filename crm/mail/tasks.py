"""Background jobs of mail: sending queued messages and reading mailboxes.

- `email_deliver` sends one message (queued by crm.mail.services on commit); temporary
  failures are retried after MAIL_SEND_RETRY_BASE_SECONDS x 2^(attempt-1), up to
  MAIL_SEND_MAX_ATTEMPTS attempts in all.
- `mailboxes_poll_dispatch` (beat, every MAIL_POLL_SECONDS) queues `mailboxes_poll` for
  every workspace with a random delay over MAIL_POLL_SPREAD_SECONDS, so thousands of
  workspaces don't connect to their servers in the same second; each reads its active
  IMAP mailboxes one after another, and a mailbox that fails (a refused password, a
  server down) keeps its error and does not stop the others. The same run queues again
  outgoing mail left "Sending" for 30 minutes because its queue message was lost.
"""

from __future__ import annotations

import logging
import random

from celery import shared_task
from django.conf import settings
from django_tenants.utils import schema_context

from config.celery import TenantTask, app
from tenants.models import Tenant

logger = logging.getLogger(__name__)


@app.task(base=TenantTask, bind=True, max_retries=None)
def email_deliver(self, *, message_id: int) -> str:
    from crm.mail.delivery import deliver, retry_delay
    from crm.mail.services import tracking_base

    attempt = self.request.retries + 1
    outcome = deliver(
        message_id=message_id, tracking_base=tracking_base(), last_attempt=attempt >= settings.MAIL_SEND_MAX_ATTEMPTS
    )
    if outcome is None:
        return "skipped"
    if outcome.temporary:
        raise self.retry(countdown=retry_delay(attempt))
    return "sent" if outcome.sent else "failed"


@app.task(base=TenantTask)
def mailboxes_poll(*, account_id: int | None = None) -> int:
    """Read this workspace's active IMAP mailboxes (or one); how many messages were stored.
    The workspace's periodic run also queues again outgoing mail whose queue message was
    lost (crm.mail.services.emails_stuck_requeue)."""
    from crm.mail.models import MailAccount
    from crm.mail.services import emails_stuck_requeue
    from crm.mail.sync import mailbox_sync

    if account_id is None:
        emails_stuck_requeue()
    accounts = MailAccount.objects.filter(is_active=True).exclude(imap_host="").select_related("owner")
    if account_id is not None:
        accounts = accounts.filter(pk=account_id)
    stored = 0
    for account in accounts:
        try:
            result = mailbox_sync(account=account)
        except Exception:
            logger.exception("mailbox sync failed", extra={"account": account.pk})
            continue
        stored += result.stored
        if result.more:
            mailboxes_poll.apply_async(kwargs={"account_id": account.pk}, countdown=5)
    return stored


@shared_task
def mailboxes_poll_dispatch() -> int:
    schemas = list(Tenant.objects.exclude(schema_name="public").values_list("schema_name", flat=True))
    window = settings.MAIL_POLL_SPREAD_SECONDS
    for schema_name in schemas:
        with schema_context(schema_name):
            mailboxes_poll.apply_async(countdown=random.uniform(0, window))  # noqa: S311 - jitter, not a secret
    logger.info("mailbox polls queued", extra={"tenants": len(schemas)})
    return len(schemas)
