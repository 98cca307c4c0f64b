"""The published OpenAPI document: every operation summarised, typed and with its errors."""

from __future__ import annotations

import pytest

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator(urlconf="config.urls_tenant").get_schema(request=None, public=True)


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_every_operation_has_a_summary(schema):
    missing = [f"{method.upper()} {path}" for path, method, op in operations(schema) if not op.get("summary")]

    assert not missing, missing


def test_every_operation_documents_its_errors_in_the_error_shape(schema):
    for path, method, op in operations(schema):
        if path in ("/api/v1/schema/", "/api/v1/docs/"):
            continue
        responses = op["responses"]
        assert "429" in responses and "403" in responses, (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if method in ("post", "patch", "put"):
            assert "400" in responses, (method, path)
        error = responses["403"]["content"]["application/json"]["schema"]["$ref"]
        assert error.endswith("/Error"), (method, path, error)


def test_every_success_answer_is_typed(schema):
    untyped = []
    for path, method, op in operations(schema):
        for status, answer in op["responses"].items():
            if status.startswith("2") and status != "204" and not answer.get("content"):
                untyped.append(f"{method.upper()} {path} {status}")

    assert not untyped, untyped


def test_the_schema_covers_every_resource_of_the_contract(schema):
    paths = set(schema["paths"])
    for resource in (
        "companies",
        "contacts",
        "leads",
        "deals",
        "pipelines",
        "tasks",
        "activities",
        "products",
        "quotes",
        "users",
        "roles",
        "seats",
        "lead-forms",
        "backups",
    ):
        assert f"/api/v1/{resource}/" in paths, resource
    for path in ("/api/v1/auth/token/", "/api/v1/auth/logout/", "/api/v1/me/", "/api/v1/reports/funnel/"):
        assert path in paths
    assert "/api/v1/leads/{id}/convert/" in paths
    assert "/api/v1/billing/" in paths
