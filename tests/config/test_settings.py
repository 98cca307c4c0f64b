"""Settings come from the environment; production values pass `check --deploy`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x7#Qm2!vL9pR4tZ8wK1nB6yH3cJ5fD0sA@gE$uT&iO*pW^zX" + "9" * 20,
    "BASE_DOMAIN": "crm.example.com",
    "DATABASE_URL": "postgres://crm:secret@db.internal:5432/crm",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in PRODUCTION and not key.endswith("_FILE")}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def test_production_values_pass_check_deploy_without_warnings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {**PRODUCTION, "SECRET_KEY": ""}

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_secrets_can_come_from_files(tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(PRODUCTION["SECRET_KEY"] + "\n")
    env = {**PRODUCTION, "SECRET_KEY": "", "SECRET_KEY_FILE": str(secret_file)}

    result = run_manage("shell", "-c", "from django.conf import settings; print(len(settings.SECRET_KEY))", env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(len(PRODUCTION["SECRET_KEY"]))


def test_hosts_and_cookies_follow_base_domain():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print(s.ALLOWED_HOSTS[:2], s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_DOMAIN)",
        env=PRODUCTION,
    )

    assert result.stdout.strip().splitlines()[-1] == "['crm.example.com', '.crm.example.com'] True None"
