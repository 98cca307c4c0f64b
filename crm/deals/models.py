from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F
from django.db.models.functions import Coalesce, Lower, Now
from django.utils.translation import gettext_lazy as _

from crm.records import GIN_PENDING_LIST_KB, ClientRecord, Timestamped, WithCustomFields

# Deals fall into this many sample buckets by id (crm.reports: medians of large cohorts).
SAMPLE_BUCKETS = 64


class Pipeline(Timestamped):
    """A sales process: an ordered set of stages. A workspace may have several."""

    name = models.CharField(_("name"), max_length=100)
    is_default = models.BooleanField(_("default"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_pipeline"
            )
        ]

    def __str__(self) -> str:
        return self.name


class StageKind(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class LiveStageManager(models.Manager):
    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(deleted_at__isnull=True)


class Stage(Timestamped):
    """A step of a pipeline. Removing a stage archives it (`deleted_at`): the stage history
    of deals that passed through it keeps pointing at it, so past funnels stay true."""

    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=8, choices=StageKind.choices, default=StageKind.OPEN)
    win_probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), default=0, validators=[MaxValueValidator(100)]
    )
    deleted_at = models.DateTimeField(_("removed"), null=True, blank=True, editable=False)

    # Live stages only; `all_objects` also sees archived ones (history, reports).
    objects = LiveStageManager()
    all_objects = models.Manager()

    class Meta:
        ordering = ["pipeline", "position"]
        base_manager_name = "all_objects"
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            # Archived stages keep their last position and step out of the ordering.
            models.UniqueConstraint(
                fields=["pipeline", "position"],
                condition=models.Q(deleted_at__isnull=True),
                name="stage_position_unique",
            ),
            models.CheckConstraint(condition=models.Q(win_probability__lte=100), name="stage_probability_max_100"),
        ]

    def __str__(self) -> str:
        return self.name


class SourceData(models.Model):
    """Where a lead, and the deal it became, came from (channel and UTM tags)."""

    channel = models.CharField(_("channel"), max_length=40, blank=True)
    utm_source = models.CharField(_("UTM source"), max_length=255, blank=True)
    utm_medium = models.CharField(_("UTM medium"), max_length=255, blank=True)
    utm_campaign = models.CharField(_("UTM campaign"), max_length=255, blank=True)
    utm_term = models.CharField(_("keyword (UTM term)"), max_length=255, blank=True)
    utm_content = models.CharField(_("UTM content"), max_length=255, blank=True)
    search_engine = models.CharField(_("search engine"), max_length=40, blank=True)
    source_url = models.URLField(_("landing page"), max_length=2000, blank=True)
    referrer = models.URLField(_("referrer"), max_length=2000, blank=True)

    class Meta:
        abstract = True


class Deal(ClientRecord, SourceData, WithCustomFields):
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3)
    # The amount in the workspace's base currency at the rate in force when last saved,
    # so reports can add up deals in different currencies.
    amount_base = models.DecimalField(_("amount in base currency"), max_digits=16, decimal_places=2, default=0)
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals")
    stage_entered_at = models.DateTimeField(_("in this stage since"), db_default=Now())
    contact = models.ForeignKey(
        "clients.Contact",
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
    )
    company = models.ForeignKey(
        "clients.Company",
        verbose_name=_("company"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
    )
    lost_reason = models.CharField(_("lost reason"), max_length=255, blank=True)
    # A summary of the stage history kept by the services with every move, so the
    # funnel reads one row per deal instead of joining the history (crm.reports):
    # the stages entered, in first-entry order; the seconds spent in each of them over
    # the stays that ended (null while the first stay lasts); the stage it came from.
    stages_entered = ArrayField(models.BigIntegerField(), default=list, blank=True, editable=False)
    stage_seconds = ArrayField(models.BigIntegerField(null=True), default=list, blank=True, editable=False)
    previous_stage = models.ForeignKey(
        Stage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False, db_index=False
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    tags = models.ManyToManyField("crm.Tag", verbose_name=_("tags"), blank=True, related_name="deals")

    class Meta(ClientRecord.Meta):
        ordering = ["-created_at", "-id"]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        indexes = [
            # The trash page: this kind's trashed rows, most recently trashed first (a small index).
            models.Index(fields=["deleted_at", "id"], condition=models.Q(deleted_at__isnull=False), name="deal_trash"),
            # The deals list's sorts and the board's columns (a stage's deals, most recently
            # moved in first): read in order from an index instead of sorting every deal.
            models.Index(
                fields=["created_at", "id"], condition=models.Q(deleted_at__isnull=True), name="deal_created_order"
            ),
            models.Index(
                fields=["amount_base", "id"], condition=models.Q(deleted_at__isnull=True), name="deal_amount_order"
            ),
            models.Index(fields=["title", "id"], condition=models.Q(deleted_at__isnull=True), name="deal_title_order"),
            models.Index(
                fields=["stage", "stage_entered_at", "id"],
                condition=models.Q(deleted_at__isnull=True),
                name="deal_stage_entered",
            ),
            # The board's column totals (count and sum per stage) from a narrow index alone;
            # owner and team are there for role filters.
            models.Index(
                fields=["pipeline", "stage"],
                include=["amount_base", "owner", "team"],
                condition=models.Q(deleted_at__isnull=True),
                name="deal_board_totals",
            ),
            models.Index(fields=["pipeline", "stage"], name="deal_pipeline_stage"),
            # A person's forgotten deals (My day), longest forgotten first: read in the
            # order of the last touch instead of sorting all of their deals.
            models.Index(
                F("owner"),
                Coalesce("last_activity_at", "created_at"),
                F("id"),
                condition=models.Q(deleted_at__isnull=True),
                name="deal_owner_last_touched",
            ),
            # A stage's deals, newest first (board column, API ?stage=): a page without sorting the stage.
            models.Index(
                fields=["stage", "created_at", "id"],
                condition=models.Q(deleted_at__isnull=True),
                name="deal_stage_recent",
            ),
            # The funnel's cohort (a pipeline's live deals created in a period) read from
            # the index alone: everything crm.reports.sales_funnel needs, and the owner
            # and team that record visibility may filter on, are in it.
            models.Index(
                fields=["pipeline", "created_at"],
                include=[
                    "id",
                    "amount_base",
                    "stage",
                    "previous_stage",
                    "stages_entered",
                    "stage_seconds",
                    "owner",
                    "team",
                ],
                condition=models.Q(deleted_at__isnull=True),
                name="deal_funnel_cohort",
            ),
            # An even sample of a pipeline's deals (id % 64 below a bound), for the
            # funnel's medians of large cohorts: only the sampled entries are read.
            models.Index(
                F("pipeline"),
                F("id") % SAMPLE_BUCKETS,
                F("created_at"),
                # `id` too: the bucket expression reads it, and index-only scans need it.
                include=["id", "stages_entered", "stage_seconds", "owner", "team"],
                condition=models.Q(deleted_at__isnull=True),
                name="deal_funnel_sample_ids",
            ),
            models.Index(fields=["owner", "-updated_at"], name="deal_owner_recent"),
            models.Index(fields=["expected_close_date"], name="deal_expected_close"),
            models.Index(fields=["contact"], name="deal_contact"),
            models.Index(fields=["company"], name="deal_company"),
            models.Index(OpClass(Lower("title"), name="text_pattern_ops"), name="deal_title_prefix"),
            GinIndex(fields=["custom_fields"], name="deal_custom_fields", gin_pending_list_limit=GIN_PENDING_LIST_KB),
        ]

    def __str__(self) -> str:
        return self.title


class DealStageChange(models.Model):
    """Every move of a deal between stages, for the funnel and cycle-time analytics."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(_("moved at"), db_default=Now())
    # Seconds spent in `from_stage` before this move.
    seconds_in_previous_stage = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["deal", "changed_at", "id"]
        indexes = [
            models.Index(fields=["deal", "changed_at"], name="stagechange_deal_time"),
            models.Index(fields=["to_stage", "changed_at"], name="stagechange_stage_time"),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id}"
