"""`/`, "My day": each widget's content and empty state, whose records it shows, the
tasks widget's "done", the personal layout (hide, move, settings, reset), isolation,
the query bound and the translations."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from crm.activities.models import Task, TaskStatus
from crm.activities.services import task_create
from crm.dashboard.models import DashboardLayout
from crm.dashboard.selectors import my_day
from crm.deals.models import Deal, Pipeline
from crm.deals.services import deal_create, deal_move_stage
from crm.leads.models import Lead, LeadStatus
from crm.leads.services import lead_create
from crm.models import RecordShare
from tests.conftest import inside
from tests.web.conftest import ACME_HOST, GLOBEX_HOST

HTMX = {"HTTP_HX_REQUEST": "true"}


def _widget(body: str, key: str) -> str:
    """The markup of one widget (empty when it is not on the page)."""
    start = body.find(f'<section class="widget" id="widget-{key}"')
    return "" if start < 0 else body[start : body.index("</section>", start)]


def _widget_order(body: str) -> list[str]:
    return re.findall(r'<section class="widget" id="widget-([a-z_]+)"', body)


def _task(owner, title: str, due_at, *, actor=None) -> Task:
    return task_create(actor=actor, title=title, due_at=due_at, owner=owner)


def _later_today():
    """A moment after now that is still today in the workspace's time zone."""
    day = my_day()
    return day.now + (day.end_of_today - day.now) / 2


def _quiet_deal(owner, title: str, days: int, amount: str = "100") -> Deal:
    deal = deal_create(actor=owner, title=title, owner=owner, amount=Decimal(amount))
    Deal.objects.filter(pk=deal.pk).update(created_at=timezone.now() - timedelta(days=days), last_activity_at=None)
    return deal


# --- the page ---------------------------------------------------------------------------


def test_the_home_page_is_my_day_with_every_widget_by_default(alice, web_alice):
    response = web_alice.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>My day</h1>" in body and "Welcome, Alice" in body
    assert _widget_order(body) == ["tasks", "new_leads", "stale_deals", "funnel", "notifications"]
    assert 'aria-current="page">My day</a>' in body


def test_signed_out_visitors_are_sent_to_the_sign_in_page(acme):
    response = Client(HTTP_HOST=ACME_HOST).get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_every_widget_has_a_friendly_empty_state(rex, web_rex):
    body = web_rex.get("/").content.decode()
    # Rex's new account has exactly one thing: nothing.
    assert "Nothing overdue and nothing else due today." in _widget(body, "tasks")
    assert "No new leads are waiting for you." in _widget(body, "new_leads")
    assert "Every open deal of yours has had activity in the last 14 days." in _widget(body, "stale_deals")
    assert "You have no open deals yet." in _widget(body, "funnel")
    assert "You have read everything." in _widget(body, "notifications")


# --- my tasks ---------------------------------------------------------------------------


def test_tasks_widget_lists_overdue_then_today_and_leaves_out_the_future(rex, alice, web_rex):
    now = timezone.now()
    _task(rex, "Call back yesterday's client", now - timedelta(days=1))
    _task(rex, "Send the offer this afternoon", _later_today())
    _task(rex, "Prepare next week's meeting", now + timedelta(days=7))
    done = _task(rex, "Already handled", now - timedelta(hours=3))
    Task.objects.filter(pk=done.pk).update(status=TaskStatus.DONE)
    _task(alice, "Alice's own overdue call", now - timedelta(hours=2))

    tasks = _widget(web_rex.get("/").content.decode(), "tasks")

    assert tasks.index("Call back yesterday") < tasks.index("Send the offer")
    assert "Prepare next week" not in tasks and "Already handled" not in tasks
    assert "Alice&#x27;s own overdue call" not in tasks and "Alice's own" not in tasks
    assert "1 overdue" in tasks and "1 due later today" in tasks
    assert tasks.count("is-overdue") == 1
    # "See all": the tasks list with the same filter (mine, open, due by today).
    assert f"/tasks/?owner={rex.pk}&amp;status=open&amp;due_to={my_day().today.isoformat()}" in tasks


def test_a_task_links_to_the_record_it_is_about(rex, web_rex):
    deal = deal_create(actor=rex, title="Boiler service", owner=rex)
    task_create(actor=rex, title="Confirm the date", due_at=timezone.now() - timedelta(hours=1), owner=rex, deal=deal)
    tasks = _widget(web_rex.get("/").content.decode(), "tasks")
    assert f'href="/deals/{deal.pk}/"' in tasks and "Boiler service" in tasks


def test_done_with_htmx_completes_the_task_and_redraws_the_widget(rex, web_rex):
    task = _task(rex, "Call the plumber", timezone.now() - timedelta(hours=1))
    response = web_rex.post(f"/dashboard/tasks/{task.pk}/done/", **HTMX)
    fragment = response.content.decode()
    assert response.status_code == 200
    assert fragment.startswith('<section class="widget" id="widget-tasks"')
    assert "Done: Call the plumber" in fragment
    assert f"dashboard-task-{task.pk}" not in fragment
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.completed_at is not None and task.updated_by_id == rex.pk


def test_done_without_javascript_redirects_home_with_a_message(rex, web_rex):
    task = _task(rex, "Email the invoice", timezone.now() - timedelta(hours=1))
    response = web_rex.post(f"/dashboard/tasks/{task.pk}/done/", follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "Done: Email the invoice" in response.content.decode()
    assert Task.objects.get(pk=task.pk).status == TaskStatus.DONE


def test_done_on_a_colleagues_task_the_rep_cannot_see_is_a_404(alice, rex, web_rex):
    task = _task(alice, "Alice's task", timezone.now() - timedelta(hours=1))
    assert web_rex.post(f"/dashboard/tasks/{task.pk}/done/", **HTMX).status_code == 404
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN


def test_done_on_a_cancelled_task_is_a_message_not_an_error(rex, web_rex):
    task = _task(rex, "Cancelled call", timezone.now() - timedelta(hours=1))
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.CANCELLED)
    response = web_rex.post(f"/dashboard/tasks/{task.pk}/done/", **HTMX)
    assert response.status_code == 200
    assert "This task was cancelled; reopen it first." in response.content.decode()
    assert Task.objects.get(pk=task.pk).status == TaskStatus.CANCELLED


def test_done_needs_a_post(rex, web_rex):
    task = _task(rex, "Read-only look", timezone.now() - timedelta(hours=1))
    assert web_rex.get(f"/dashboard/tasks/{task.pk}/done/").status_code == 405


# --- new leads --------------------------------------------------------------------------


def test_new_leads_widget_shows_my_unworked_leads_newest_first(alice, rex, web_rex):
    lead_create(actor=alice, name="Older new lead", owner=rex, company_name="Older Ltd")
    lead_create(actor=alice, name="Fresh new lead", owner=rex, phone="+14155550123")
    worked = lead_create(actor=alice, name="Lead in progress", owner=rex)
    Lead.objects.filter(pk=worked.pk).update(status=LeadStatus.IN_PROGRESS)
    lead_create(actor=alice, name="Alice's new lead", owner=alice)

    leads = _widget(web_rex.get("/").content.decode(), "new_leads")

    assert leads.index("Fresh new lead") < leads.index("Older new lead")
    assert "Lead in progress" not in leads and "Alice" not in leads
    assert "2 new leads waiting for a first contact" in leads
    assert "arrived" in leads and "Older Ltd" in leads
    assert f"owner={rex.pk}" in leads and "status=new" in leads


def test_new_leads_widget_caps_its_rows_and_says_how_many_there_are(alice, rex, web_rex):
    for number in range(7):
        lead_create(actor=alice, name=f"Capped lead {number}", owner=rex)
    leads = _widget(web_rex.get("/").content.decode(), "new_leads")
    assert leads.count('class="widget-item"') == 5
    assert "7 new leads waiting" in leads and "See all" in leads


# --- deals needing attention ------------------------------------------------------------


def test_stale_deals_widget_lists_my_quiet_open_deals_longest_forgotten_first(alice, rex, web_rex):
    _quiet_deal(rex, "Quiet for a month", 30, amount="1500")
    _quiet_deal(rex, "Quiet for three weeks", 21)
    _quiet_deal(rex, "Busy this week", 3)
    _quiet_deal(alice, "Alice's quiet deal", 40)

    deals = _widget(web_rex.get("/").content.decode(), "stale_deals")

    assert deals.index("Quiet for a month") < deals.index("Quiet for three weeks")
    assert "Busy this week" not in deals and "Alice" not in deals
    assert "30 days quiet" in deals and "1,500.00 USD" in deals
    assert "2 open deals without activity for 14+ days" in deals


def test_a_won_deal_never_needs_attention(rex, web_rex):
    deal = _quiet_deal(rex, "Won long ago", 60)
    won = Pipeline.objects.get(is_default=True).stages.get(kind="won")
    deal_move_stage(actor=rex, deal=deal, stage=won)
    Deal.objects.filter(pk=deal.pk).update(last_activity_at=timezone.now() - timedelta(days=60))
    assert "Won long ago" not in _widget(web_rex.get("/").content.decode(), "stale_deals")


def test_the_days_setting_changes_which_deals_need_attention(rex, web_rex):
    _quiet_deal(rex, "Quiet for five days", 5)
    assert "Quiet for five days" not in _widget(web_rex.get("/").content.decode(), "stale_deals")

    response = web_rex.post("/dashboard/layout/", {"action": "configure", "key": "stale_deals", "days": "4"})

    assert response.status_code == 302
    deals = _widget(web_rex.get("/").content.decode(), "stale_deals")
    assert "Quiet for five days" in deals and "without activity for 4+ days" in deals


@pytest.mark.parametrize("days", ["0", "366", "seven", ""])
def test_a_days_setting_out_of_range_is_refused_and_nothing_is_saved(rex, web_rex, days):
    response = web_rex.post("/dashboard/layout/", {"action": "configure", "key": "stale_deals", "days": days})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Enter a number from 1 to 365." in body or "Enter a whole number." in body
    assert 'aria-invalid="true"' in body and '<details id="customise" class="customise" open>' in body
    assert f'name="days" value="{days}"' in body  # shown as typed, to correct it
    assert not DashboardLayout.objects.filter(user=rex).exists()


# --- my funnel --------------------------------------------------------------------------


def test_funnel_widget_draws_my_open_deals_by_stage_with_a_table(alice, rex, web_rex):
    pipeline = Pipeline.objects.get(is_default=True)
    open_stages = list(pipeline.stages.filter(kind="open").order_by("position"))
    deal_create(actor=rex, title="First", owner=rex, amount=Decimal("1000"))
    deal_create(actor=rex, title="Second", owner=rex, amount=Decimal("250.50"))
    moved = deal_create(actor=rex, title="Moved on", owner=rex, amount=Decimal("4000"))
    deal_move_stage(actor=rex, deal=moved, stage=open_stages[1])
    deal_create(actor=alice, title="Alice's deal", owner=alice, amount=Decimal("99999"))

    funnel = _widget(web_rex.get("/").content.decode(), "funnel")

    svg = funnel.split("<svg")[1].split("</svg>")[0]
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert svg.count('<rect class="bar"') == 2  # two stages hold deals
    assert svg.count('<rect class="bar-track"') == len(open_stages)
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</th><td>(\d+)</td><td dir=\"ltr\">(.*?)</td></tr>", funnel)
    assert rows[0] == (open_stages[0].name, "2", "1,250.50 USD")
    assert rows[1] == (open_stages[1].name, "1", "4,000.00 USD")
    assert rows[-1] == ("Total", "3", "5,250.50 USD")
    assert "3 open deals" in funnel and f"/deals/board/?pipeline={pipeline.pk}&amp;owner={rex.pk}" in funnel


def test_funnel_chart_coordinates_stay_plain_numbers_in_russian(rex, web_rex):
    deal_create(actor=rex, title="Один", owner=rex, amount=Decimal("10"))
    deal_create(actor=rex, title="Два", owner=rex, amount=Decimal("10"))
    deal_create(actor=rex, title="Три", owner=rex, amount=Decimal("10"))
    web_rex.post("/language/", {"language": "ru", "next": "/"})
    svg = _widget(web_rex.get("/").content.decode(), "funnel").split("<svg")[1].split("</svg>")[0]
    assert re.search(r'x="\d+(\.\d+)?"', svg) and not re.search(r'="\d+,\d+"', svg)


# --- whose records ----------------------------------------------------------------------


def test_an_administrators_my_day_shows_her_own_records_only(alice, rex, web_alice):
    _task(rex, "Rex's overdue call", timezone.now() - timedelta(hours=1))
    _task(alice, "Alice's overdue call", timezone.now() - timedelta(hours=1))
    lead_create(actor=alice, name="Rex's new lead", owner=rex)
    _quiet_deal(rex, "Rex's quiet deal", 30)
    body = web_alice.get("/").content.decode()
    assert "Alice&#x27;s overdue call" in _widget(body, "tasks")
    assert "Rex" not in _widget(body, "tasks") + _widget(body, "new_leads") + _widget(body, "stale_deals")


def test_a_freelancer_sees_only_her_records_that_were_shared_with_her(alice, fay, web_fay):
    shared_task = _task(fay, "Shared translation job", timezone.now() - timedelta(hours=1), actor=alice)
    _task(fay, "Unshared job", timezone.now() - timedelta(hours=1), actor=alice)
    RecordShare.objects.create(record_type="task", record_id=shared_task.pk, user=fay, shared_by=alice)
    lead = lead_create(actor=alice, name="Lead assigned to Fay", owner=fay)
    lead_create(actor=alice, name="Unshared lead of Fay", owner=fay)
    RecordShare.objects.create(record_type="lead", record_id=lead.pk, user=fay, shared_by=alice)
    alices = lead_create(actor=alice, name="Alice's shared lead", owner=alice)
    RecordShare.objects.create(record_type="lead", record_id=alices.pk, user=fay, shared_by=alice)

    body = web_fay.get("/").content.decode()

    tasks, leads = _widget(body, "tasks"), _widget(body, "new_leads")
    assert "Shared translation job" in tasks and "Unshared job" not in tasks
    assert "Lead assigned to Fay" in leads and "Unshared lead" not in leads
    assert "Alice" not in leads  # shared with her, but not hers: not on her day


def test_a_freelancer_without_edit_rights_is_told_she_cannot_complete_a_shared_task(alice, fay, web_fay):
    task = _task(fay, "Look but do not touch", timezone.now() - timedelta(hours=1), actor=alice)
    RecordShare.objects.create(record_type="task", record_id=task.pk, user=fay, shared_by=alice, can_edit=False)
    response = web_fay.post(f"/dashboard/tasks/{task.pk}/done/", **HTMX)
    assert response.status_code == 200
    assert "Your role doesn&#x27;t allow this for this record." in response.content.decode()
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN


def test_a_freelancer_with_edit_rights_completes_a_shared_task(alice, fay, web_fay):
    task = _task(fay, "Shared with edit rights", timezone.now() - timedelta(hours=1), actor=alice)
    RecordShare.objects.create(record_type="task", record_id=task.pk, user=fay, shared_by=alice, can_edit=True)
    assert web_fay.post(f"/dashboard/tasks/{task.pk}/done/", **HTMX).status_code == 200
    assert Task.objects.get(pk=task.pk).status == TaskStatus.DONE


# --- the layout -------------------------------------------------------------------------


def test_hiding_a_widget_persists_and_leaves_a_colleagues_dashboard_alone(alice, rex, web_rex, web_alice):
    response = web_rex.post("/dashboard/layout/", {"action": "hide", "key": "new_leads"})
    assert response.status_code == 302 and response["Location"] == "/?customise=1#customise"

    assert "new_leads" not in _widget_order(web_rex.get("/").content.decode())
    assert "new_leads" in _widget_order(web_alice.get("/").content.decode())
    assert not DashboardLayout.objects.filter(user=alice).exists()

    web_rex.post("/dashboard/layout/", {"action": "show", "key": "new_leads"})
    assert "new_leads" in _widget_order(web_rex.get("/").content.decode())


def test_moving_a_widget_up_and_down_reorders_the_page(rex, web_rex):
    web_rex.post("/dashboard/layout/", {"action": "up", "key": "funnel"})
    web_rex.post("/dashboard/layout/", {"action": "up", "key": "funnel"})
    assert _widget_order(web_rex.get("/").content.decode())[:4] == ["tasks", "funnel", "new_leads", "stale_deals"]

    web_rex.post("/dashboard/layout/", {"action": "down", "key": "tasks"})
    assert _widget_order(web_rex.get("/").content.decode())[:2] == ["funnel", "tasks"]


def test_reset_brings_back_the_default_layout(rex, web_rex):
    web_rex.post("/dashboard/layout/", {"action": "hide", "key": "tasks"})
    web_rex.post("/dashboard/layout/", {"action": "configure", "key": "stale_deals", "days": "30"})
    web_rex.post("/dashboard/layout/", {"action": "reset"})
    body = web_rex.get("/").content.decode()
    assert _widget_order(body) == ["tasks", "new_leads", "stale_deals", "funnel", "notifications"]
    assert "in the last 14 days" in body
    assert not DashboardLayout.objects.filter(user=rex).exists()


def test_a_layout_change_with_htmx_answers_the_dashboard_with_the_panel_open(rex, web_rex):
    response = web_rex.post("/dashboard/layout/", {"action": "hide", "key": "funnel"}, **HTMX)
    fragment = response.content.decode()
    assert response.status_code == 200
    assert fragment.startswith('<div id="dashboard" class="dashboard">')
    assert '<details id="customise" class="customise" open>' in fragment
    assert "“My funnel” is hidden." in fragment and "widget-funnel" not in fragment
    assert 'aria-label="Show “My funnel”"' in fragment


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "hide", "key": "weather"}, "There is no widget called “weather”."),
        ({"action": "up", "key": ""}, "There is no widget called “”."),
        ({"action": "explode", "key": "tasks"}, "Choose what to change."),
        ({"key": "tasks"}, "Choose what to change."),
    ],
)
def test_bad_layout_input_is_refused_with_a_message_and_nothing_is_saved(rex, web_rex, data, message):
    response = web_rex.post("/dashboard/layout/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not DashboardLayout.objects.filter(user=rex).exists()

    htmx = web_rex.post("/dashboard/layout/", data, **HTMX)
    assert htmx.status_code == 200 and message in htmx.content.decode()
    assert not DashboardLayout.objects.filter(user=rex).exists()


def test_a_stored_layout_with_a_widget_that_no_longer_exists_still_renders(rex, web_rex):
    DashboardLayout.objects.create(
        user=rex,
        widgets=[{"key": "retired_widget", "hidden": False}, {"key": "funnel", "hidden": False, "settings": "junk"}],
    )
    response = web_rex.get("/")
    assert response.status_code == 200
    assert _widget_order(response.content.decode())[0] == "funnel"


# --- isolation --------------------------------------------------------------------------


def test_another_workspaces_session_cannot_change_a_layout_here(tenant_a, web_bob):
    # Bob's session cookie belongs to Globex; on Acme's host it means nothing.
    web_bob.defaults["HTTP_HOST"] = ACME_HOST
    response = web_bob.post("/dashboard/layout/", {"action": "hide", "key": "tasks"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    with inside(tenant_a):
        assert not DashboardLayout.objects.exists()
    web_bob.defaults["HTTP_HOST"] = GLOBEX_HOST


def test_another_workspaces_layout_and_records_never_show_here(alice, tenant_a, tenant_b, web_alice, web_bob):
    web_bob.post("/dashboard/layout/", {"action": "hide", "key": "tasks"})
    with inside(tenant_b):
        assert DashboardLayout.objects.count() == 1
    with inside(tenant_a):
        assert not DashboardLayout.objects.exists()
        _task(alice, "Acme-only call", timezone.now() - timedelta(hours=1))
    body = web_alice.get("/").content.decode()
    assert "tasks" in _widget_order(body)
    assert "Acme-only call" not in web_bob.get("/").content.decode()


def test_another_workspaces_task_cannot_be_marked_done_here(alice, tenant_a, tenant_b, web_bob):
    with inside(tenant_a):
        task = _task(alice, "Acme task", timezone.now() - timedelta(hours=1))
    response = web_bob.post(f"/dashboard/tasks/{task.pk}/done/", **HTMX)
    assert response.status_code == 404
    with inside(tenant_a):
        assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN


# --- speed ------------------------------------------------------------------------------


def _records(rex, alice, count: int) -> None:
    now = timezone.now()
    for number in range(count):
        _task(rex, f"Overdue {number}", now - timedelta(hours=number + 1))
        lead_create(actor=alice, name=f"New lead {number}", owner=rex)
        _quiet_deal(rex, f"Quiet deal {number}", 20 + number)


@pytest.mark.parametrize("count", [1, 30])
def test_the_page_needs_the_same_bounded_number_of_queries_for_1_or_30_records(
    alice, rex, web_rex, count, django_assert_max_num_queries
):
    _records(rex, alice, count)
    # Host, session with its seat lease, user, workspace settings, layout, one query per
    # widget (two for the funnel: totals and stages), a capped count each for leads, deals
    # and notifications, the header's badge.
    with django_assert_max_num_queries(15):
        response = web_rex.get("/")
    assert response.status_code == 200
    assert f"Overdue {count - 1}" in response.content.decode()  # the oldest comes first


def test_the_query_count_does_not_grow_with_the_records(alice, rex, web_rex):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _records(rex, alice, 1)
    with CaptureQueriesContext(connection) as one:
        web_rex.get("/")
    _records(rex, alice, 29)
    with CaptureQueriesContext(connection) as thirty:
        web_rex.get("/")
    assert len(thirty.captured_queries) == len(one.captured_queries)


# --- languages --------------------------------------------------------------------------


def test_the_dashboard_speaks_russian(web_bob):
    body = web_bob.get("/").content.decode()
    assert "Мой день" in body
    assert "Настроить эту страницу" in body
    assert "Мои задачи: просроченные и на сегодня" in body


def test_the_dashboard_is_right_to_left_in_arabic(rex, web_rex):
    deal_create(actor=rex, title="صفقة", owner=rex, amount=Decimal("10"))
    web_rex.post("/language/", {"language": "ar", "next": "/"})
    body = web_rex.get("/").content.decode()
    assert 'dir="rtl"' in body
    assert 'direction="rtl"' in _widget(body, "funnel")
    assert "يومي" in body
