"""Settings → Workspace, Pipelines and stages, Lead forms."""

from __future__ import annotations

import pytest
from django.utils.html import escape

from accounts.models import AccessSettings
from crm.deals.models import Deal, Pipeline, Stage
from crm.deals.services import deal_create
from crm.leads.models import LeadForm
from crm.leads.services import lead_form_create
from crm.models import WorkspaceSettings
from tenants.models import Tenant
from tests.conftest import inside

FAR_ID = 10**12


def _workspace_data(**changes) -> dict:
    data = {
        "base_currency": "EUR",
        "default_phone_region": "ES",
        "time_zone": "Europe/Madrid",
        "language": "es",
        "lead_followup_minutes": "30",
        "stale_deal_days": "10",
        "idle_timeout_minutes": "20",
        "allow_parallel_sessions": "",
    }
    data.update(changes)
    return data


@pytest.fixture
def restore_language(tenant_a):
    before = Tenant.objects.get(pk=tenant_a.pk).language
    yield
    Tenant.objects.filter(pk=tenant_a.pk).update(language=before)


def test_workspace_settings_are_saved_all_together(web_alice, tenant_a, restore_language):
    response = web_alice.post("/settings/workspace/", _workspace_data())
    assert response.status_code == 302
    workspace = WorkspaceSettings.objects.get(pk=1)
    assert (workspace.base_currency, workspace.default_phone_region, workspace.time_zone) == (
        "EUR",
        "ES",
        "Europe/Madrid",
    )
    assert (workspace.lead_followup_minutes, workspace.stale_deal_days) == (30, 10)
    seats = AccessSettings.objects.get(pk=1)
    assert seats.idle_timeout_minutes == 20 and seats.allow_parallel_sessions is False
    assert Tenant.objects.get(pk=tenant_a.pk).language == "es"


def test_bad_workspace_input_shows_field_errors_and_writes_nothing(web_alice, tenant_a, restore_language):
    before = WorkspaceSettings.objects.get(pk=1).base_currency
    response = web_alice.post(
        "/settings/workspace/",
        _workspace_data(base_currency="XXX", default_phone_region="ZZ", idle_timeout_minutes="0", language="tlh"),
    )
    assert response.status_code == 400
    assert response.content.decode().count('class="error"') == 4
    assert WorkspaceSettings.objects.get(pk=1).base_currency == before
    assert Tenant.objects.get(pk=tenant_a.pk).language != "tlh"


def test_workspace_page_renders_within_a_query_bound(web_alice, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        assert web_alice.get("/settings/workspace/").status_code == 200


def test_a_rep_cannot_post_workspace_settings(web_rex):
    before = WorkspaceSettings.objects.get(pk=1).base_currency
    assert web_rex.post("/settings/workspace/", _workspace_data(base_currency="JPY")).status_code == 403
    assert WorkspaceSettings.objects.get(pk=1).base_currency == before


# --- pipelines --------------------------------------------------------------------------


def _default_pipeline() -> Pipeline:
    return Pipeline.objects.get(is_default=True)


def test_pipelines_page_within_a_query_bound(web_alice, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        response = web_alice.get("/settings/pipelines/")
    assert response.status_code == 200
    for stage in _default_pipeline().stages.all():
        assert escape(stage.name) in response.content.decode()


def test_add_rename_and_reorder_stages(web_alice):
    pipeline = _default_pipeline()
    url = f"/settings/pipelines/{pipeline.pk}/"
    web_alice.post(url, {"action": "add_stage", f"p{pipeline.pk}-name": "Demo call", f"p{pipeline.pk}-kind": "open"})
    stage = Stage.objects.get(pipeline=pipeline, name="Demo call")
    web_alice.post(f"/settings/stages/{stage.pk}/rename/", {"name": "Product demo"})
    stage.refresh_from_db()
    assert stage.name == "Product demo"
    order = list(pipeline.stages.order_by("position").values_list("pk", flat=True))
    reversed_order = ",".join(map(str, reversed(order)))
    web_alice.post(url, {"action": "reorder", "stage_ids": reversed_order})
    assert list(pipeline.stages.order_by("position").values_list("pk", flat=True)) == list(reversed(order))


def test_the_move_buttons_carry_the_whole_new_order(web_alice):
    pipeline = _default_pipeline()
    first, second = list(pipeline.stages.order_by("position"))[:2]
    body = web_alice.get("/settings/pipelines/").content.decode()
    rest = [stage.pk for stage in pipeline.stages.order_by("position")][2:]
    swapped = ",".join(map(str, [second.pk, first.pk, *rest]))
    assert f'value="{swapped}"' in body


def test_a_partial_reorder_is_refused_without_writing(web_alice):
    pipeline = _default_pipeline()
    order = list(pipeline.stages.order_by("position").values_list("pk", flat=True))
    response = web_alice.post(
        f"/settings/pipelines/{pipeline.pk}/", {"action": "reorder", "stage_ids": str(order[-1])}, follow=True
    )
    assert "List every stage of this pipeline exactly once." in response.content.decode()
    assert list(pipeline.stages.order_by("position").values_list("pk", flat=True)) == order


def test_removing_a_stage_moves_its_deals(web_alice, alice):
    pipeline = _default_pipeline()
    source, target = list(pipeline.stages.filter(kind="open").order_by("position"))[:2]
    deal = deal_create(actor=alice, title="Moving deal", owner=alice, stage=source)
    confirm = web_alice.get(f"/settings/stages/{source.pk}/remove/")
    assert confirm.status_code == 200 and "Move its deals to" in confirm.content.decode()
    # without a target the service refuses: nothing changes
    web_alice.post(f"/settings/stages/{source.pk}/remove/", {"move_deals_to": ""})
    assert Stage.objects.filter(pk=source.pk).exists()
    response = web_alice.post(f"/settings/stages/{source.pk}/remove/", {"move_deals_to": target.pk})
    assert response.status_code == 302
    assert not Stage.objects.filter(pk=source.pk).exists()
    assert Deal.objects.get(pk=deal.pk).stage_id == target.pk


def test_create_and_delete_a_pipeline(web_alice):
    web_alice.post("/settings/pipelines/", {"new-name": "Partners"})
    pipeline = Pipeline.objects.get(name="Partners")
    assert pipeline.stages.count() >= 3
    web_alice.post(f"/settings/pipelines/{pipeline.pk}/", {"action": "delete"})
    assert not Pipeline.objects.filter(pk=pipeline.pk).exists()


def test_another_workspaces_pipeline_and_stage_are_not_found(tenant_b, web_alice):
    with inside(tenant_b):
        pipeline = Pipeline.objects.create(pk=FAR_ID, name="Far", position=9)
        stage = Stage.objects.create(pk=FAR_ID, pipeline=pipeline, name="Far stage", position=0)
    assert web_alice.post(f"/settings/pipelines/{pipeline.pk}/", {"action": "rename", "name": "x"}).status_code == 404
    assert web_alice.post(f"/settings/stages/{stage.pk}/rename/", {"name": "x"}).status_code == 404
    assert web_alice.get(f"/settings/stages/{stage.pk}/remove/").status_code == 404
    with inside(tenant_b):
        assert Stage.objects.get(pk=FAR_ID).name == "Far stage"


def test_a_rep_cannot_touch_pipelines(web_rex):
    pipeline = _default_pipeline()
    assert web_rex.post(f"/settings/pipelines/{pipeline.pk}/", {"action": "rename", "name": "Mine"}).status_code == 403
    assert _default_pipeline().name == pipeline.name


# --- lead forms -------------------------------------------------------------------------


def test_creating_a_lead_form_lands_on_its_snippet_and_preview(web_alice, alice):
    response = web_alice.post(
        "/settings/lead-forms/",
        {"name": "Website", "assignment": "owner", "owner": alice.pk, "allowed_origins": "https://www.acme.example"},
    )
    form = LeadForm.objects.get(name="Website")
    assert response["Location"] == f"/settings/lead-forms/{form.pk}/"
    body = web_alice.get(response["Location"]).content.decode()
    assert f"/forms/{form.key}/" in body
    assert '<iframe class="preview"' in body and 'sandbox=""' in body
    assert form.allowed_origins == ["https://www.acme.example"]


def test_the_whole_snippet_sits_escaped_inside_its_box_and_its_preview(web_alice, alice):
    # given: the snippet holds a <textarea> of its own (the visitor's message)
    form = lead_form_create(actor=alice, name="Website")
    # when
    body = web_alice.get(f"/settings/lead-forms/{form.pk}/").content.decode()
    # then: its closing tag cannot end the settings page's box early, nor the preview's attribute
    box = body.split('<textarea id="snippet"', 1)[1].split("</textarea>", 1)[0]
    assert "&lt;/textarea&gt;" in box and "&lt;button type=&quot;submit&quot;&gt;" in box
    assert body.count('name="message"') == 0
    assert 'srcdoc="&lt;!--' in body


def test_a_lead_form_with_bad_origins_is_a_field_error(web_alice, alice):
    response = web_alice.post(
        "/settings/lead-forms/",
        {"name": "Bad", "assignment": "owner", "owner": alice.pk, "allowed_origins": "not a site"},
    )
    assert response.status_code == 400 and not LeadForm.objects.filter(name="Bad").exists()


def test_switching_a_lead_form_off(web_alice, alice):
    form = lead_form_create(actor=alice, name="Old form")
    web_alice.post(f"/settings/lead-forms/{form.pk}/", {"name": "Old form", "assignment": "owner", "owner": alice.pk})
    form.refresh_from_db()
    assert not form.is_active


def test_lead_form_pages_within_a_query_bound(web_alice, alice, django_assert_max_num_queries):
    form = lead_form_create(actor=alice, name="Counted")
    with django_assert_max_num_queries(14):
        assert web_alice.get("/settings/lead-forms/").status_code == 200
    with django_assert_max_num_queries(16):
        assert web_alice.get(f"/settings/lead-forms/{form.pk}/").status_code == 200


def test_another_workspaces_lead_form_is_not_found(tenant_b, web_alice):
    with inside(tenant_b):
        LeadForm.objects.create(pk=FAR_ID, name="Far form")
    assert web_alice.get(f"/settings/lead-forms/{FAR_ID}/").status_code == 404
