from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.records import ClientRecord, Timestamped, Trashable


class LinkedToClientRecord(models.Model):
    """Links to the client records a task or activity is about (any of them, or several).

    No single-column index per link: each model indexes them as the leading column of
    its own composite or named indexes, which serve the same lookups (and cascades).
    """

    lead = models.ForeignKey(
        "leads.Lead", verbose_name=_("lead"), on_delete=models.CASCADE, null=True, blank=True, db_index=False
    )
    contact = models.ForeignKey(
        "clients.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, null=True, blank=True, db_index=False
    )
    company = models.ForeignKey(
        "clients.Company", verbose_name=_("company"), on_delete=models.CASCADE, null=True, blank=True, db_index=False
    )
    deal = models.ForeignKey(
        "deals.Deal", verbose_name=_("deal"), on_delete=models.CASCADE, null=True, blank=True, db_index=False
    )

    class Meta:
        abstract = True


class TaskPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class TaskKind(models.TextChoices):
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")
    TODO = "todo", _("To do")


class Task(ClientRecord, LinkedToClientRecord):
    """Something a person must do by a time; `owner` is the assignee."""

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=TaskKind.choices, default=TaskKind.TODO)
    due_at = models.DateTimeField(_("due"))
    priority = models.CharField(_("priority"), max_length=8, choices=TaskPriority.choices, default=TaskPriority.NORMAL)
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    # How long it takes from its due time (a meeting's length in the calendar); empty: a moment.
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta(ClientRecord.Meta):
        ordering = ["due_at", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            # The trash page: this kind's trashed rows, most recently trashed first (a small index).
            models.Index(fields=["deleted_at", "id"], condition=models.Q(deleted_at__isnull=False), name="task_trash"),
            models.Index(fields=["owner", "status", "due_at"], name="task_owner_open_due"),
            models.Index(
                fields=["due_at"], condition=models.Q(status="open", deleted_at__isnull=True), name="task_open_due"
            ),
            models.Index(fields=["lead"], name="task_lead"),
            models.Index(fields=["contact"], name="task_contact"),
            models.Index(fields=["company"], name="task_company"),
            models.Index(fields=["deal"], name="task_deal"),
        ]

    def __str__(self) -> str:
        return self.title


class TaskReminder(models.Model):
    """One reminder per task per interval slot: the unique key makes sending idempotent
    even with two beat processes, two workers, or a worker killed mid-run."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reminders")
    slot = models.DateTimeField(help_text="Start of the reminder interval this reminder covers.")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["task", "slot"]
        constraints = [models.UniqueConstraint(fields=["task", "slot"], name="one_reminder_per_task_and_slot")]
        # Each run looks for reminders whose email has not gone out yet; they are few.
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(emailed_at__isnull=True), name="taskreminder_unsent")
        ]

    def __str__(self) -> str:
        return f"reminder {self.task_id} @ {self.slot:%Y-%m-%d %H:%M}"


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")
    NOTE = "note", _("Note")
    STAGE_CHANGE = "stage_change", _("Stage change")
    QUOTE_SENT = "quote_sent", _("Proposal sent")
    LEAD_CONVERTED = "lead_converted", _("Lead converted")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class Activity(Timestamped, Trashable, LinkedToClientRecord):
    """One entry of a client card's timeline."""

    kind = models.CharField(_("kind"), max_length=16, choices=ActivityKind.choices)
    occurred_at = models.DateTimeField(_("when"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("text"), blank=True)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices, blank=True)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=100, blank=True)
    quote = models.ForeignKey(
        "catalog.Quote", verbose_name=_("proposal"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta(Trashable.Meta):
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [
            # The trash page: this kind's trashed rows, most recently trashed first (a small index).
            models.Index(
                fields=["deleted_at", "id"], condition=models.Q(deleted_at__isnull=False), name="activity_trash"
            ),
            models.Index(fields=["contact", "-occurred_at"], name="activity_contact_timeline"),
            models.Index(fields=["company", "-occurred_at"], name="activity_company_timeline"),
            models.Index(fields=["deal", "-occurred_at"], name="activity_deal_timeline"),
            models.Index(fields=["lead", "-occurred_at"], name="activity_lead_timeline"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"
