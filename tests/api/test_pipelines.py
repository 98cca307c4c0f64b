"""Pipelines and their stages over the API: everyone reads, administrators configure."""

from __future__ import annotations

from accounts import roles
from crm.deals.models import DealStageChange, Pipeline, Stage
from tests.api.conftest import ApiClient
from tests.api.people import GLOBEX_HOST, colleague
from tests.conftest import inside

PIPELINES = "/api/v1/pipelines/"
THREE_STAGES = [{"name": "Talk"}, {"name": "Signed", "kind": "won"}, {"name": "Gone", "kind": "lost"}]


def _pipeline(api, name="Partners", stages=THREE_STAGES) -> dict:
    response = api.post(PIPELINES, {"name": name, "stages": stages})
    assert response.status_code == 201, response.content
    return response.json()


def test_pipelines_are_listed_with_their_stages_default_first(api_a):
    created = _pipeline(api_a)
    assert [(stage["name"], stage["kind"], stage["win_probability"]) for stage in created["stages"]] == [
        ("Talk", "open", 0),
        ("Signed", "won", 100),
        ("Gone", "lost", 0),
    ]
    assert created["is_default"] is False
    listed = api_a.get(PIPELINES).json()["results"]
    assert listed[0]["is_default"] is True
    assert created["id"] in [row["id"] for row in listed]
    assert api_a.get(f"{PIPELINES}{created['id']}/").json()["stages"] == created["stages"]


def test_a_pipeline_is_renamed_and_made_the_default(api_a, tenant_a):
    created = _pipeline(api_a)
    renamed = api_a.patch(f"{PIPELINES}{created['id']}/", {"name": "Resellers", "is_default": True})
    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["name"] == "Resellers"
    assert renamed.json()["is_default"] is True
    assert api_a.patch(f"{PIPELINES}{created['id']}/", {"is_default": False}).status_code == 400
    assert api_a.patch(f"{PIPELINES}{created['id']}/", {"name": " "}).status_code == 400
    with inside(tenant_a):
        assert Pipeline.objects.filter(is_default=True).count() == 1


def test_bad_pipeline_input_is_refused_per_field_and_nothing_is_written(api_a, tenant_a):
    with inside(tenant_a):
        before = Pipeline.objects.count()
    only_open = api_a.post(PIPELINES, {"name": "Half", "stages": [{"name": "A"}]})
    assert only_open.status_code == 400
    assert only_open.json()["errors"]["stages"]
    bad = api_a.post(PIPELINES, {"name": "", "stages": [{"name": "A", "kind": "maybe", "win_probability": 300}]})
    assert bad.status_code == 400
    assert api_a.post(PIPELINES, {"name": "x" * 101}).status_code == 400
    assert api_a.post(PIPELINES, {"name": "Many", "stages": [{"name": "s"}] * 51}).status_code == 400
    with inside(tenant_a):
        assert Pipeline.objects.count() == before


def test_stages_are_added_renamed_reordered_and_removed_with_their_deals_moved(api_a, tenant_a):
    pipeline = _pipeline(api_a)
    talk, signed, gone = (stage["id"] for stage in pipeline["stages"])
    added = api_a.post(f"{PIPELINES}{pipeline['id']}/stages/", {"name": "Demo", "win_probability": 30})
    assert added.status_code == 201, added.content
    demo = added.json()
    assert demo["position"] == 1  # after the last open stage, before won and lost
    changed = api_a.patch(
        f"{PIPELINES}{pipeline['id']}/stages/{demo['id']}/",
        {"name": "Live demo", "win_probability": 40},
        HTTP_IF_MATCH=added["ETag"],
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["name"], changed.json()["win_probability"]) == ("Live demo", 40)
    stale = api_a.patch(f"{PIPELINES}{pipeline['id']}/stages/{demo['id']}/", {"name": "X"}, HTTP_IF_MATCH=added["ETag"])
    assert stale.status_code == 412

    reordered = api_a.post(f"{PIPELINES}{pipeline['id']}/reorder/", {"stage_ids": [demo["id"], talk, signed, gone]})
    assert reordered.status_code == 200, reordered.content
    assert [stage["id"] for stage in reordered.json()["stages"]] == [demo["id"], talk, signed, gone]
    assert api_a.post(f"{PIPELINES}{pipeline['id']}/reorder/", {"stage_ids": [talk]}).status_code == 400

    deal = api_a.post("/api/v1/deals/", {"title": "In demo", "pipeline": pipeline["id"]}).json()
    assert deal["stage"]["id"] == demo["id"]
    blocked = api_a.delete(f"{PIPELINES}{pipeline['id']}/stages/{demo['id']}/")
    assert blocked.status_code == 409
    assert blocked.json()["code"] == "stage_has_deals"
    assert api_a.delete(f"{PIPELINES}{pipeline['id']}/stages/{demo['id']}/?move_deals_to=99999999").status_code == 400
    removed = api_a.delete(f"{PIPELINES}{pipeline['id']}/stages/{demo['id']}/?move_deals_to={talk}")
    assert removed.status_code == 200, removed.content
    assert removed.json() == {"moved_deals": 1}
    assert api_a.get(f"/api/v1/deals/{deal['id']}/").json()["stage"]["id"] == talk
    with inside(tenant_a):
        assert DealStageChange.objects.filter(deal_id=deal["id"], to_stage_id=talk).exists()
        assert Stage.all_objects.get(pk=demo["id"]).deleted_at is not None
    last_won = api_a.delete(f"{PIPELINES}{pipeline['id']}/stages/{signed}/")
    assert last_won.status_code == 400
    assert "stage" in last_won.json()["errors"]


def test_a_pipeline_with_deals_cannot_be_deleted_an_empty_one_can(api_a, tenant_a):
    empty = _pipeline(api_a, "Empty")
    used = _pipeline(api_a, "Used")
    api_a.post("/api/v1/deals/", {"title": "Keeps it", "pipeline": used["id"]})
    refused = api_a.delete(f"{PIPELINES}{used['id']}/")
    assert refused.status_code == 409
    assert refused.json()["code"] == "pipeline_has_deals"
    assert api_a.delete(f"{PIPELINES}{empty['id']}/").status_code == 204
    assert api_a.get(f"{PIPELINES}{empty['id']}/").status_code == 404


def test_everyone_reads_pipelines_only_administrators_change_them(api_a, tenant_a):
    pipeline = _pipeline(api_a)
    stage = pipeline["stages"][0]["id"]
    _rita, rita_api = colleague(tenant_a, "rita@acme.example", roles.SALES_REP)
    assert rita_api.get(f"{PIPELINES}{pipeline['id']}/").status_code == 200
    for response in (
        rita_api.post(PIPELINES, {"name": "Mine", "stages": THREE_STAGES}),
        rita_api.patch(f"{PIPELINES}{pipeline['id']}/", {"name": "Mine"}),
        rita_api.delete(f"{PIPELINES}{pipeline['id']}/"),
        rita_api.post(f"{PIPELINES}{pipeline['id']}/stages/", {"name": "Mine"}),
        rita_api.patch(f"{PIPELINES}{pipeline['id']}/stages/{stage}/", {"name": "Mine"}),
        rita_api.delete(f"{PIPELINES}{pipeline['id']}/stages/{stage}/"),
        rita_api.post(f"{PIPELINES}{pipeline['id']}/reorder/", {"stage_ids": []}),
    ):
        assert response.status_code == 403, response.content
    assert api_a.get(f"{PIPELINES}{pipeline['id']}/").json()["name"] == "Partners"


def test_another_workspaces_pipelines_and_stages_look_missing(api_a, api_b):
    theirs = _pipeline(api_b, "Globex only")
    stage = theirs["stages"][0]["id"]
    for response in (
        api_a.get(f"{PIPELINES}{theirs['id']}/"),
        api_a.patch(f"{PIPELINES}{theirs['id']}/", {"name": "Stolen"}),
        api_a.delete(f"{PIPELINES}{theirs['id']}/"),
        api_a.post(f"{PIPELINES}{theirs['id']}/stages/", {"name": "X"}),
        api_a.patch(f"{PIPELINES}{theirs['id']}/stages/{stage}/", {"name": "X"}),
        api_a.post(f"{PIPELINES}{theirs['id']}/reorder/", {"stage_ids": [stage]}),
    ):
        assert response.status_code == 404
    stranger = ApiClient(GLOBEX_HOST, api_a.token)
    assert stranger.get(PIPELINES).status_code == 401
    assert stranger.get(f"{PIPELINES}{theirs['id']}/").status_code == 401


def test_pipeline_list_costs_the_same_queries_for_few_and_many(api_a, django_assert_max_num_queries):
    _pipeline(api_a, "One")
    with django_assert_max_num_queries(12) as few:
        api_a.get(PIPELINES)
    few_count = len(few)
    for index in range(3):
        _pipeline(api_a, f"More {index}")
    with django_assert_max_num_queries(few_count):
        assert len(api_a.get(PIPELINES).json()["results"]) >= 5
