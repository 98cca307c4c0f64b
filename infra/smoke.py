"""`make smoke`: clone the repository and prove that `make run` serves the site and stops clean.

Why a clone: `make run` must work from a fresh checkout, with no `.data`, no migrated
database and nothing started by hand; testing it in the working tree would quietly lean on
all three. The clone gets its own PostgreSQL (a free port, its own `.data/pg`) and its own
web port, so the smoke test can run next to a developer's `make run` without touching it.

Steps, each printed: clone HEAD; start `make run` in its own process group; wait until the
landing page, the demo login page and `/healthz` (database and broker "ok") answer; send
SIGINT to the group as a terminal's Ctrl-C would; wait for make to exit; scan /proc for
any process whose command line or working folder is inside the clone (a leak of the
supervisor, a gunicorn or Celery worker, or the clone's PostgreSQL); remove the clone.

Dependencies are reused: VENV points make at the virtualenv running this script, and
`make -o <venv>/.installed` tells make not to re-sync it. The clone's requirements file
is newer than the stamp (it was just written), and re-syncing would change a virtualenv
that others are using; installing is `make install`'s business, not this test's.

Requests go to 127.0.0.1 with an explicit Host header, because resolving `*.localhost`
is up to the platform's resolver and Python's does not always do it.

Importable: `main()` returns the exit code, so a pytest test can call it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
SHARED_PG_PORT = 54329
START_TIMEOUT = 180.0
STOP_TIMEOUT = 60.0
# Variables that would point the clone at shared state instead of its own.
ENV_DROPPED = (
    "DATABASE_URL",
    "DATABASE_URL_FILE",
    "DATA_DIR",
    "PG_DATA_DIR",
    "MEDIA_ROOT",
    "CELERY_BROKER_URL",
    "CELERY_BROKER_URL_FILE",
    "REDIS_URL",
    "REDIS_URL_FILE",
    "PORT",
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
)


class SmokeFailure(Exception):
    """A check failed; the message says which and why."""


def step(text: str) -> None:
    print(f"[smoke] {text}", flush=True)


def free_port(taken: set[int]) -> int:
    """A port nobody listens on now, other than those given (the shared database's, ours)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in taken:
            taken.add(port)
            return port


def current_venv() -> Path:
    """The virtualenv running us: the one whose packages the clone will use."""
    if sys.prefix != sys.base_prefix:
        return Path(sys.prefix).resolve()
    return (ROOT / ".venv").resolve()


def processes_inside(folder: Path) -> list[tuple[int, str]]:
    """Live processes whose command line mentions `folder` or whose cwd lies inside it."""
    marker = str(folder)
    found: list[tuple[int, str]] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            cwd = ""
        if marker in cmdline or cwd == marker or cwd.startswith(marker + "/"):
            found.append((int(entry.name), cmdline or f"(cwd {cwd})"))
    return found


class MakeRun:
    """`make run` in the clone, in its own process group, its output kept for the report."""

    def __init__(self, clone: Path, env: dict[str, str], venv: Path, echo: bool) -> None:
        self.lines: list[str] = []
        self.echo = echo
        self.proc = subprocess.Popen(
            ["make", "--no-print-directory", "-o", f"{venv}/.installed", "run"],
            cwd=clone,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group, as a terminal's job would be
        )
        self.reader = threading.Thread(target=self._pump, daemon=True)
        self.reader.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            self.lines.append(line)
            if self.echo:
                print(f"  make | {line}", flush=True)

    def output_contains(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def tail(self, count: int = 60) -> str:
        return "\n".join(f"  make | {line}" for line in self.lines[-count:])

    def interrupt(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGINT)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)


def get(port: int, host: str, path: str) -> requests.Response:
    return requests.get(
        f"http://127.0.0.1:{port}{path}",
        headers={"Host": f"{host}:{port}", "Accept-Language": "en"},
        timeout=10,
        allow_redirects=False,
    )


def wait_until(what: str, check: Callable[[], str | None], run: MakeRun, timeout: float) -> float:
    """Poll `check` (None means ready, a string says why not) until ready; return seconds."""
    started = time.monotonic()
    reason: str | None = "not tried yet"
    while time.monotonic() - started < timeout:
        if run.proc.poll() is not None:
            raise SmokeFailure(f"make run exited with code {run.proc.returncode} before {what}")
        try:
            reason = check()
        except requests.RequestException as error:
            reason = f"{type(error).__name__}: {error}"
        if reason is None:
            return time.monotonic() - started
        time.sleep(0.5)
    raise SmokeFailure(f"{what}: not ready after {timeout:.0f} s (last: {reason})")


def check_landing(port: int) -> str | None:
    response = get(port, "localhost", "/")
    if response.status_code != 200:
        return f"GET / answered {response.status_code}"
    if 'href="/signup/"' not in response.text or "Create your workspace" not in response.text:
        return "GET / answered 200 but not with the landing page"
    return None


def check_demo_login(port: int) -> str | None:
    response = get(port, "demo.localhost", "/login/")
    if response.status_code != 200:
        return f"GET demo.localhost/login/ answered {response.status_code}"
    if "<form" not in response.text or 'name="password"' not in response.text:
        return "GET demo.localhost/login/ answered 200 without a sign-in form"
    return None


def check_health(port: int) -> str | None:
    response = get(port, "localhost", "/healthz")
    if response.status_code != 200:
        return f"GET /healthz answered {response.status_code}: {response.text[:200]}"
    body = response.json()
    if body.get("database") != "ok" or body.get("broker") != "ok":
        return f"GET /healthz: {body}"
    return None


def smoke(workdir: Path, echo: bool) -> dict[str, float]:
    """The whole scenario inside `workdir`; returns the timings. Raises SmokeFailure."""
    timings: dict[str, float] = {}
    clone = workdir / "crm"
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    if dirty:
        step("note: uncommitted changes in the working tree are not part of the clone (HEAD only)")

    step(f"cloning {ROOT} (HEAD) into {clone}")
    started = time.monotonic()
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    timings["clone"] = time.monotonic() - started

    taken = {SHARED_PG_PORT, 8000}
    pg_port, web_port = free_port(taken), free_port(taken)
    venv = current_venv()
    env = {name: value for name, value in os.environ.items() if name not in ENV_DROPPED}
    env.update(VENV=str(venv), PG_PORT=str(pg_port), BASE_DOMAIN=f"localhost:{web_port}", PYTHONUNBUFFERED="1")
    step(f"make run  (VENV={venv} PG_PORT={pg_port} BASE_DOMAIN=localhost:{web_port})")
    run = MakeRun(clone, env, venv, echo)
    started = time.monotonic()
    try:
        timings["landing"] = wait_until("the landing page", lambda: check_landing(web_port), run, START_TIMEOUT)
        step(f"GET http://localhost:{web_port}/ -> 200, landing page ({timings['landing']:.1f} s after make run)")
        check = check_demo_login(web_port)
        if check:
            raise SmokeFailure(check)
        step(f"GET http://demo.localhost:{web_port}/login/ -> 200, sign-in form")
        remaining = max(START_TIMEOUT - (time.monotonic() - started), 10.0)
        timings["healthy"] = wait_until("/healthz", lambda: check_health(web_port), run, remaining)
        step(f"GET http://localhost:{web_port}/healthz -> 200, database ok, broker ok")
        # The supervisor prints the banner once the web port answers; give it a moment.
        wait_until("the banner", lambda: None if run.output_contains("sign in as staff@localhost") else "no", run, 10)
        for expected in (
            f"http://localhost:{web_port}/",
            f"http://demo.localhost:{web_port}/login/",
            f"http://localhost:{web_port}/admin/",
            "admin@demo.example",
        ):
            if not run.output_contains(expected):
                raise SmokeFailure(f"make run did not print {expected!r}")
        step("make run printed the public, demo and admin URLs and both logins")
        # Stop a fully started system: a Celery worker interrupted while still booting
        # exits at once and would hide a warm shutdown that hangs.
        remaining = max(START_TIMEOUT - (time.monotonic() - started), 10.0)
        wait_until("the Celery worker", lambda: None if run.output_contains(" ready.") else "not ready", run, remaining)
        wait_until("Celery beat", lambda: None if run.output_contains("beat: Starting") else "not started", run, 30)
        step("Celery worker ready and beat started")
        timings["ready"] = time.monotonic() - started

        step("sending SIGINT to the make process group (Ctrl-C)")
        stop_started = time.monotonic()
        run.interrupt()
        try:
            run.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise SmokeFailure(f"make run still running {STOP_TIMEOUT:.0f} s after SIGINT") from None
        run.reader.join(timeout=5)
        timings["stop"] = time.monotonic() - stop_started
        step(f"make exited ({run.proc.returncode}) {timings['stop']:.1f} s after SIGINT")
        if not run.output_contains("all processes stopped"):
            raise SmokeFailure("the supervisor did not report a clean stop")
        if run.output_contains("sending SIGKILL"):
            raise SmokeFailure("a child needed SIGKILL: it ignored SIGTERM for 10 s")
        leftovers = processes_inside(clone)
        if leftovers:
            listing = "\n".join(f"  pid {pid}: {cmd}" for pid, cmd in leftovers)
            raise SmokeFailure(f"processes left running after make run stopped:\n{listing}")
        step("no process refers to the clone any more")
    except BaseException:
        if run.proc.poll() is None or processes_inside(clone):
            _clean_up_after_failure(run, clone)
        if not echo:
            print(run.tail(), flush=True)
        raise
    return timings


def _clean_up_after_failure(run: MakeRun, clone: Path) -> None:
    """Leave nothing behind even when the supervisor failed to: the clone's PostgreSQL too."""
    step("cleaning up after the failure")
    run.kill()
    subprocess.run(
        [sys.executable, "-m", "infra.embedded_pg", "stop"], cwd=clone, capture_output=True, check=False, timeout=60
    )
    for pid, _cmd in processes_inside(clone):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    """Run the smoke test; 0 on success. `-v` streams make's output as it comes.

    `argv` is only read when given (the command line passes its own), so a pytest test
    calling `main()` is not steered by pytest's options.
    """
    args = argv or []
    echo = "-v" in args or "--verbose" in args
    if shutil.which("make") is None or shutil.which("git") is None:
        print("[smoke] FAILED: needs make and git on PATH", flush=True)
        return 2
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="crm-smoke-"))
    try:
        timings = smoke(workdir, echo)
    except SmokeFailure as failure:
        print(f"[smoke] FAILED: {failure}", flush=True)
        return 1
    except subprocess.CalledProcessError as error:
        print(f"[smoke] FAILED: {error}", flush=True)
        return 1
    finally:
        step(f"removing {workdir}")
        shutil.rmtree(workdir, ignore_errors=True)
        if workdir.exists():
            print(f"[smoke] warning: could not remove all of {workdir}", flush=True)
    summary = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
    step(f"OK in {time.monotonic() - started:.1f} s ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
