"""Builders for deal tests: users with roles and deals with an explicit stage history.

The services stamp `now` on every move; reports need deals created and moved on given
days, so `deal_with_history` writes the rows the services would have written, dated.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from accounts.models import Role, User
from accounts.services import user_create
from crm.deals.models import Deal, DealStageChange, Pipeline, Stage, StageKind
from crm.deals.services import stage_summary_after_move

PASSWORD = "correct-horse-battery-9"


def user_with_role(email: str, role_code: str = "sales_rep", *, name: str = "") -> User:
    return user_create(
        email=email,
        full_name=name or email.split("@")[0].title(),
        password=PASSWORD,
        role=Role.objects.get(code=role_code),
    )


def stages_of(pipeline: Pipeline) -> list[Stage]:
    return list(Stage.objects.filter(pipeline=pipeline).order_by("position"))


def deal_with_history(
    *,
    pipeline: Pipeline,
    path: Sequence[Stage],
    created_at: datetime,
    days_between: Sequence[float] | float = 1,
    amount: Decimal = Decimal("100.00"),
    owner: User | None = None,
    title: str = "Deal",
    expected_close_date=None,
    **fields,
) -> Deal:
    """A deal created on `created_at` in path[0] that moved along `path`, `days_between`
    days apart (one number, or one per move), with the history rows and stage summary
    the services would have written."""
    gaps = [float(days_between)] * (len(path) - 1) if isinstance(days_between, int | float) else list(days_between)
    moments = [created_at]
    for gap in gaps:
        moments.append(moments[-1] + timedelta(days=gap))
    last = path[-1]
    entered, seconds = [path[0].pk], [None]
    for index in range(1, len(path)):
        entered, seconds = stage_summary_after_move(
            entered,
            seconds,
            from_stage_id=path[index - 1].pk,
            to_stage_id=path[index].pk,
            seconds_spent=int((moments[index] - moments[index - 1]).total_seconds()),
        )
    deal = Deal.objects.create(
        title=title,
        amount=amount,
        currency="USD",
        amount_base=amount,
        pipeline=pipeline,
        stage=last,
        stage_entered_at=moments[-1],
        owner=owner,
        expected_close_date=expected_close_date,
        closed_at=moments[-1] if last.kind != StageKind.OPEN else None,
        lost_reason="Too expensive" if last.kind == StageKind.LOST else "",
        stages_entered=entered,
        stage_seconds=seconds,
        previous_stage=path[-2] if len(path) > 1 else None,
        **fields,
    )
    Deal.objects.filter(pk=deal.pk).update(created_at=created_at)
    changes = [DealStageChange(deal=deal, from_stage=None, to_stage=path[0], changed_at=moments[0])]
    for index in range(1, len(path)):
        changes.append(
            DealStageChange(
                deal=deal,
                from_stage=path[index - 1],
                to_stage=path[index],
                changed_at=moments[index],
                seconds_in_previous_stage=int((moments[index] - moments[index - 1]).total_seconds()),
            )
        )
    DealStageChange.objects.bulk_create(changes)
    deal.refresh_from_db()
    return deal
