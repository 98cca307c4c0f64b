"""`make screenshots`: PNGs of the main pages in English and Arabic, for people to look at.

Skipped unless SCREENSHOTS_DIR is set (the make target sets it to .screenshots/, which
git ignores). Pages not built yet are left out, not faked.
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import User
from crm.activities.models import Task
from crm.activities.services import task_create
from crm.deals.models import Deal, Stage
from crm.deals.services import deal_create, deal_move_stage
from crm.leads.models import Lead
from crm.leads.services import lead_create
from crm.notifications.models import Notification
from tests.browser.conftest import ADMIN_EMAIL, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.screenshots]

PAGES = {
    "dashboard": "/",
    "leads": "/leads/",
    "contacts": "/contacts/",
    "companies": "/companies/",
    "deals": "/deals/",
    "board": "/deals/board/",
    "notifications": "/notifications/",
    "reports": "/reports/",
    "seats": "/settings/seats/",
    "trash": "/trash/",
}


@pytest.fixture
def sample(inside_browser_tenant):
    # Owned by the admin who signs in, so "My day" shows real widgets: new leads (with
    # their follow-up calls due today), an overdue task, deals in two stages, one quiet.
    admin, now = User.objects.get(email=ADMIN_EMAIL), timezone.now()
    leads = [lead_create(actor=None, name=name, email=email, owner=admin) for name, email in SAMPLE_LEADS]
    task = task_create(actor=None, title="Send the signed contract", due_at=now - timedelta(hours=26), owner=admin)
    deals = [
        deal_create(actor=None, title=title, owner=admin, amount=Decimal(amount)) for title, amount in SAMPLE_DEALS
    ]
    deal_move_stage(actor=None, deal=deals[0], stage=Stage.objects.filter(kind="open").order_by("position")[1])
    Deal.objects.filter(pk=deals[1].pk).update(last_activity_at=now - timedelta(days=20))
    yield
    Lead.all_objects.filter(pk__in=[lead.pk for lead in leads]).delete()
    Task.all_objects.filter(pk=task.pk).delete()
    Deal.all_objects.filter(pk__in=[deal.pk for deal in deals]).delete()
    Notification.objects.filter(recipient=admin, created_at__gte=now).delete()


SAMPLE_DEALS = [("Office fit-out", "18500"), ("Annual support", "4200"), ("Training day", "1500")]
SAMPLE_LEADS = [
    ("Мария Иванова", "maria@example.ru"),
    ("Lucía Fernández", "lucia@example.es"),
    ("فاطمة الزهراء", "fatima@example.ae"),
]


@pytest.mark.skipif(not os.environ.get("SCREENSHOTS_DIR"), reason="make screenshots sets SCREENSHOTS_DIR")
@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("width", [1280, 375])
def test_screenshots(chromium_browser, live_site, sample, language, width):
    folder = Path(os.environ["SCREENSHOTS_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    context = chromium_browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, live_site)
        page.goto(live_site.url("/"))
        page.get_by_label("Language").select_option(language)
        page.wait_for_function(f"document.documentElement.lang === '{language}'")
        for name, path in PAGES.items():
            page.goto(live_site.url(path))
            page.screenshot(path=str(folder / f"{name}-{language}-{width}.png"), full_page=True)
    finally:
        page.goto(live_site.url("/"))
        page.get_by_label({"en": "Language", "ar": "اللغة"}[language]).select_option("en")
        context.close()
