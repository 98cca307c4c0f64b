"""Real processes for tests: a Celery worker or a web server on the test database and broker.

Tests that depend on background behaviour run the real worker (never a mock of our
own stack). Every such fixture starts it the same way, through `celery_worker`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection

from config.celery import app as celery_app

ROOT = Path(settings.BASE_DIR)


def wait_for(condition: Callable[[], bool], timeout: float = 45.0, interval: float = 0.2) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def shared_database_url(query: str = "") -> str:
    """The test database as a DATABASE_URL another process can use."""
    params = connection.settings_dict
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    return (
        f"postgres://{params.get('USER') or ''}{password}@{params.get('HOST') or '127.0.0.1'}:"
        f"{params.get('PORT') or 5432}/{params['NAME']}{'?' + query if query else ''}"
    )


def worker_env(**extra: str) -> dict[str, str]:
    """The environment of a process that shares the test database and the test broker."""
    return {
        **os.environ,
        "DATABASE_URL": shared_database_url(),
        "CELERY_BROKER_URL": celery_app.conf.broker_url,
        "LOG_FORMAT": "text",
        **extra,
    }


@contextlib.contextmanager
def celery_worker(log_file: Path, *, concurrency: int = 1, **env: str) -> Iterator[subprocess.Popen]:
    """A real `celery worker` (solo pool, or prefork with `concurrency` > 1), ready when
    entered and stopped when left; its output goes to `log_file`."""
    pool = ["--pool", "solo"] if concurrency == 1 else ["--pool", "prefork", "--concurrency", str(concurrency)]
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", *pool, "-l", "INFO"]
    command += ["--without-heartbeat", "--without-mingle", "--without-gossip"]
    with open(log_file, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=worker_env(**env), stdout=log, stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: "ready" in log_file.read_text(), timeout=60), log_file.read_text()
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)
