"""`GET /healthz` on any host reports the database and the broker."""

from __future__ import annotations

import pytest
from django.test import Client

from config.celery import app as celery_app


@pytest.mark.parametrize("host", ["localhost:8000", "acme.localhost:8000", "unknown.localhost:8000"])
def test_healthz_is_200_with_database_and_broker_ok_on_any_host(db, host):
    response = Client(HTTP_HOST=host).get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_is_503_when_the_broker_is_down(db):
    working_url = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:9/0"
    try:
        response = Client(HTTP_HOST="localhost:8000").get("/healthz")
    finally:
        celery_app.conf.broker_url = working_url

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "down"}
