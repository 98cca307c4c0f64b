"""The supervisor behind `make run`: set the database up, then run web, worker and beat.

Why a supervisor of our own rather than honcho or foreman: `make run` must work with
nothing but the locked dependencies, and it owes the developer a promise those tools do
not keep on their own: Ctrl-C leaves *nothing* running, not a gunicorn worker, not a
Celery pool process, not the project-local PostgreSQL.

How the promise is kept:

- every child starts in its own process group (its forked workers inherit it), so one
  `killpg` reaches the whole tree even after the group leader has died and its workers
  were re-parented; a terminal's Ctrl-C reaches only us, and we decide the order;
- on SIGINT, SIGTERM or SIGHUP we send SIGTERM to every group (its leader first, see
  `Supervisor.stop_children`), wait up to `STOP_TIMEOUT` seconds until no live process
  is left in any of them (found in /proc, zombies ignored), SIGKILL what remains, and
  then stop the embedded PostgreSQL when we were the ones relying on it (DATABASE_URL
  not set);
- a child that dies on its own brings everything down with a message naming it and a
  non-zero exit, because a CRM without its worker half-works and hides the fault.

Before the children start: `platform_setup` (migrations, tenant template), `demo_create`
(the `demo` workspace, once) and the platform staff account on the public schema. All of
them are idempotent, so a second `make run` keeps every piece of data.

Billing: without STRIPE_API_KEY, a localstripe server (infra/localstripe_server.py) runs
on 127.0.0.1:LOCALSTRIPE_PORT (default 8420, its data in DATA_DIR), the children get
test keys pointing at it, its webhooks are sent to our /billing/webhook/ and the plans
are synced to it (`stripe_plans_sync`), so the billing page works with no Stripe account.

Environment: BASE_DOMAIN (default localhost:8000; the port in it is the port we bind),
PORT (overrides that port), DATA_DIR (default ./.data; holds the beat schedule),
DATABASE_URL (when set, no embedded PostgreSQL is used), PG_PORT and PG_DATA_DIR (the
embedded server's port and folder, as in infra/embedded_pg.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TextIO

from infra import embedded_pg

ROOT = Path(__file__).resolve().parent.parent
STOP_TIMEOUT = 10.0
STAFF_EMAIL = "staff@localhost"
DEV_STAFF_PASSWORD = "staff-password-2026"  # noqa: S105 - published dev login, used only when DEBUG is on
POLL_INTERVAL = 0.1

# Run by `manage.py shell -c` on the public schema: a management command file would live
# outside infra/, and this is the only place that needs it. Prints one JSON line.
STAFF_SNIPPET = """
import json, secrets
from django.conf import settings
from django_tenants.utils import schema_context
from accounts.models import User

with schema_context("public"):
    user = User.objects.filter(email__iexact={email!r}).first()
    created = user is None
    password = {dev_password!r} if settings.DEBUG else None
    if created:
        password = password or secrets.token_urlsafe(12)
        User.objects.create_superuser({email!r}, password, full_name="Platform staff")
print("STAFF " + json.dumps({{"email": {email!r}, "created": created, "password": password}}))
"""


@dataclass(frozen=True)
class Config:
    """What the environment asks for, resolved once so every step agrees on it."""

    base_domain: str
    hostname: str
    port: int
    scheme: str
    data_dir: Path
    embedded_pg: bool
    pg_port: int
    pg_data: Path
    local_stripe: bool = False
    stripe_port: int = 8420

    @property
    def public_url(self) -> str:
        return f"{self.scheme}://{self.base_domain}/"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Config:
        base_domain = environ.get("BASE_DOMAIN") or "localhost:8000"
        hostname, _, domain_port = base_domain.partition(":")
        port = int(environ.get("PORT") or domain_port or 80)
        debug = environ.get("DEBUG", "1").lower() not in ("0", "false", "off", "no", "")
        return cls(
            base_domain=base_domain,
            hostname=hostname,
            port=port,
            scheme=environ.get("SITE_SCHEME") or ("http" if debug else "https"),
            data_dir=Path(environ.get("DATA_DIR") or ROOT / ".data").resolve(),
            embedded_pg=not environ.get("DATABASE_URL") and not environ.get("DATABASE_URL_FILE"),
            pg_port=int(environ.get("PG_PORT") or embedded_pg.DEFAULT_PORT),
            pg_data=Path(environ.get("PG_DATA_DIR") or embedded_pg.DEFAULT_DATA_DIR).resolve(),
            local_stripe=not environ.get("STRIPE_API_KEY") and not environ.get("STRIPE_API_KEY_FILE"),
            stripe_port=int(environ.get("LOCALSTRIPE_PORT") or 8420),
        )


class Output:
    """Writes `HH:MM:SS name | line` from many threads without interleaving (like honcho)."""

    COLOURS = ("36", "33", "32", "35", "34", "31")

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self.stream = stream
        self.lock = threading.Lock()
        self.width = 6
        self.colours: dict[str, str] = {}
        self.tty = stream.isatty()

    def line(self, name: str, text: str) -> None:
        if self.tty:
            colour = self.colours.setdefault(name, self.COLOURS[len(self.colours) % len(self.COLOURS)])
            prefix = f"\033[{colour}m{time.strftime('%H:%M:%S')} {name:<{self.width}} |\033[0m"
        else:
            prefix = f"{time.strftime('%H:%M:%S')} {name:<{self.width}} |"
        with self.lock:
            self.stream.write(f"{prefix} {text}\n")
            self.stream.flush()

    def block(self, name: str, lines: Sequence[str]) -> None:
        for text in lines:
            self.line(name, text)


@dataclass
class Child:
    """One supervised command, the leader of its own process group."""

    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    reader: threading.Thread | None = None
    captured: list[str] = field(default_factory=list)
    hide_prefix: str | None = None  # machine-readable lines we parse but do not echo

    @property
    def pgid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, env: dict[str, str], out: Output) -> None:
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            process_group=0,  # its own group: our killpg reaches its workers, Ctrl-C does not
        )
        self.reader = threading.Thread(target=self._pump, args=(out,), name=f"out-{self.name}", daemon=True)
        self.reader.start()

    def _pump(self, out: Output) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            self.captured.append(text)
            if not (self.hide_prefix and text.startswith(self.hide_prefix)):
                out.line(self.name, text)

    def poll(self) -> int | None:
        return None if self.proc is None else self.proc.poll()


def group_alive(pgid: int) -> bool:
    """True while a live (non-zombie) process belongs to the group.

    `killpg(pgid, 0)` alone says yes as long as a zombie is left in the group, and in a
    container whose PID 1 does not reap orphans that could be forever; /proc tells the
    states apart.
    """
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the command name, which is in parentheses and may hold spaces.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def describe_exit(code: int) -> str:
    """`exited with code 1` or `was killed by SIGKILL` (Popen gives -N for signal N)."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
        return True
    return False


class Supervisor:
    """Runs the setup steps and the long-lived children; owns their shutdown."""

    def __init__(self, config: Config, out: Output | None = None) -> None:
        self.config = config
        self.out = out or Output()
        self.stop_requested = threading.Event()
        self.force = threading.Event()
        self.children: list[Child] = []
        self.env = self._child_env()

    # -- signals ---------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        # Only set flags here: the main loop does the work, so no step is cut in half.
        if self.stop_requested.is_set():
            self.force.set()  # a second Ctrl-C: stop waiting politely
            return
        self.stop_requested.set()
        self.log(f"received {signal.Signals(signum).name}, stopping")

    # -- helpers ---------------------------------------------------------------------

    def log(self, text: str) -> None:
        self.out.line("run", text)

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        env["PYTHONUNBUFFERED"] = "1"  # lines reach us as they are written, not per 8 KB
        if self.config.embedded_pg:
            # The settings' default points at port 54329; PG_PORT may have moved the server.
            env["DATABASE_URL"] = embedded_pg.url(self.config.pg_port, "crm")
        return env

    def manage(self, *args: str) -> list[str]:
        return [sys.executable, str(ROOT / "manage.py"), *args]

    # -- phases ----------------------------------------------------------------------

    def run_step(self, name: str, argv: list[str], hide_prefix: str | None = None) -> Child:
        """Run one setup command to completion, streaming its output; abortable by a signal."""
        child = Child(name, argv, hide_prefix=hide_prefix)
        self.children.append(child)
        child.start(self.env, self.out)
        while child.poll() is None:
            if self.stop_requested.wait(POLL_INTERVAL):
                raise StopRequested
        assert child.reader is not None
        child.reader.join(timeout=5)
        self.children.remove(child)
        code = child.poll()
        if code:
            raise StepFailed(f"{name}: `manage.py {argv[2]}` {describe_exit(code)}")
        return child

    def setup(self) -> dict[str, str]:
        """platform_setup, demo_create, staff account; returns what the banner shows."""
        started = time.monotonic()
        if self.config.embedded_pg:
            self.log(f"PostgreSQL: project-local server on 127.0.0.1:{self.config.pg_port} ({self.config.pg_data})")
            embedded_pg.start(self.config.pg_data, self.config.pg_port, ["crm"])
            if self.stop_requested.is_set():
                raise StopRequested
        else:
            self.log("PostgreSQL: DATABASE_URL from the environment")
        self.run_step("setup", self.manage("platform_setup"))
        if self.config.local_stripe:
            self.start_localstripe()
        demo = self.run_step("demo", self.manage("demo_create"))
        info = {
            "demo_url": f"{self.config.scheme}://demo.{self.config.base_domain}/login/",
            "demo_login": "",
        }
        for text in demo.captured:
            if match := re.match(r"Demo workspace: (\S+)", text):
                info["demo_url"] = match.group(1)
            elif match := re.match(r"Sign in as (.+)$", text):
                info["demo_login"] = match.group(1).strip()
        staff = self.run_step(
            "staff",
            self.manage(
                "shell", "-v", "0", "-c", STAFF_SNIPPET.format(email=STAFF_EMAIL, dev_password=DEV_STAFF_PASSWORD)
            ),
            hide_prefix="STAFF ",
        )
        info["staff_login"] = STAFF_EMAIL
        for text in staff.captured:
            if text.startswith("STAFF "):
                result = json.loads(text[len("STAFF ") :])
                if result["password"]:
                    info["staff_login"] = f"{STAFF_EMAIL} / {result['password']}"
                    if not result["created"]:
                        info["staff_login"] += " (unless you changed it)"
                else:
                    info["staff_login"] = f"{STAFF_EMAIL} / the password printed when it was created"
        self.log(f"setup done in {time.monotonic() - started:.1f} s")
        return info

    def start_localstripe(self) -> None:
        """A loopback localstripe for billing, with test keys for the children and our webhook."""
        port = self.config.stripe_port
        if not port_free(port):
            raise StepFailed(f"stripe: port {port} on 127.0.0.1 is taken; set LOCALSTRIPE_PORT or STRIPE_API_KEY")
        state = self.config.data_dir / "localstripe.pickle"
        state.parent.mkdir(parents=True, exist_ok=True)
        child = Child("stripe", [sys.executable, "-m", "infra.localstripe_server", "--port", str(port),
                                 "--state-file", str(state)])  # fmt: skip
        self.children.append(child)
        child.start(self.env, self.out)
        deadline = time.monotonic() + 20
        while not port_answers(port):
            if child.poll() is not None or time.monotonic() > deadline:
                raise StepFailed("stripe: localstripe did not start")
            if self.stop_requested.wait(POLL_INTERVAL):
                raise StopRequested
        base = f"http://127.0.0.1:{port}"
        secret = "whsec_local_" + secrets.token_hex(16)
        self.env.update(
            STRIPE_API_KEY="sk_test_localstripe",
            STRIPE_API_BASE=base,
            STRIPE_WEBHOOK_SECRET=secret,
            STRIPE_PUBLISHABLE_KEY="pk_test_localstripe",
            STRIPE_JS_URL=f"{base}/js.stripe.com/v3/",
        )
        body = urllib.parse.urlencode(
            {"url": f"http://{self.config.hostname}:{self.config.port}/billing/webhook/", "secret": secret}
        ).encode()
        urllib.request.urlopen(f"{base}/_config/webhooks/crm", data=body, timeout=5).close()  # noqa: S310 - loopback
        self.log(f"Stripe: localstripe on {base} (test keys; webhooks to /billing/webhook/)")
        self.run_step("plans", self.manage("stripe_plans_sync"))

    def start_children(self) -> None:
        port = self.config.port
        schedule = self.config.data_dir / "celerybeat-schedule"
        schedule.parent.mkdir(parents=True, exist_ok=True)
        commands = {
            "web": [
                sys.executable, "-m", "gunicorn", "config.wsgi:application",
                "--chdir", str(ROOT),
                "--bind", f"127.0.0.1:{port}",
                "--workers", "2",
                "--max-requests", "1000", "--max-requests-jitter", "100",
                "--graceful-timeout", str(int(STOP_TIMEOUT) - 2),
                "--access-logfile", "-",
                "--no-control-socket",
            ],
            "worker": [
                sys.executable, "-m", "celery", "--workdir", str(ROOT), "-A", "config",
                "worker", "-l", "INFO", "--concurrency", "2",
            ],
            "beat": [
                sys.executable, "-m", "celery", "--workdir", str(ROOT), "-A", "config",
                "beat", "-l", "INFO", "-s", str(schedule),
            ],
        }  # fmt: skip
        for name, argv in commands.items():
            child = Child(name, argv)
            self.children.append(child)
            child.start(self.env, self.out)
            self.log(f"started {name} (pid {child.pgid})")

    def watch(self, banner: Callable[[], None]) -> int:
        """Wait for a signal or a death; print the banner once the web port answers."""
        announced = False
        deadline = time.monotonic() + 60
        while not self.stop_requested.wait(POLL_INTERVAL):
            for child in self.children:
                code = child.poll()
                if code is not None:
                    self.log(f"{child.name} {describe_exit(code)} on its own; stopping everything")
                    return 1
            if not announced and port_answers(self.config.port):
                announced = True
                banner()
            elif not announced and time.monotonic() > deadline:
                self.log(f"web does not answer on 127.0.0.1:{self.config.port} after 60 s; stopping everything")
                return 1
        return 0

    def stop_children(self) -> bool:
        """SIGTERM every group, wait up to STOP_TIMEOUT, SIGKILL the rest. True if clean.

        The SIGTERM goes to each group's leader first and to the rest of the group only
        once the leader is gone. Gunicorn and Celery masters shut their own workers down
        gracefully; a SIGTERM landing on Celery's pool processes at the same moment makes
        billiard respawn them mid-shutdown and the warm shutdown then hangs until SIGKILL
        (seen here with Celery 5.7). Whatever a dead leader leaves behind in its group
        still gets the SIGTERM, and everything gets SIGKILL at the deadline.
        """
        live = [child for child in self.children if child.proc is not None]
        group_termed: set[int] = set()
        for child in live:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(child.pgid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline and not self.force.is_set():
            for child in live:
                # Reap the leader (so it does not linger as a zombie), then sweep its group.
                if child.poll() is not None and child.pgid not in group_termed:
                    group_termed.add(child.pgid)
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(child.pgid, signal.SIGTERM)
            if not any(group_alive(child.pgid) for child in live):
                break
            time.sleep(POLL_INTERVAL)
        clean = True
        for child in live:
            child.poll()
            if group_alive(child.pgid):
                clean = False
                self.log(f"{child.name} still running after SIGTERM; sending SIGKILL")
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(child.pgid, signal.SIGKILL)
        for child in live:
            assert child.proc is not None
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.proc.wait(timeout=5)
            if child.reader is not None:
                child.reader.join(timeout=2)
        self.children.clear()
        return clean

    def banner(self, info: dict[str, str]) -> None:
        base = self.config.public_url
        width = 17
        lines = [
            "",
            f"CRM is running on 127.0.0.1:{self.config.port}. Ctrl-C stops everything.",
            "",
            f"{'public site':<{width}}{base}",
            f"{'demo workspace':<{width}}{info['demo_url']}",
        ]
        if info.get("demo_login"):
            lines.append(f"{'':<{width}}sign in as {info['demo_login']}")
        lines += [
            f"{'platform admin':<{width}}{base}admin/",
            f"{'':<{width}}sign in as {info['staff_login']}",
            f"{'health':<{width}}{base}healthz",
            "",
            f"Every workspace you sign up for lives at <slug>.{self.config.base_domain}.",
            "",
        ]
        self.out.block("run", lines)


class StopRequested(Exception):
    """A signal arrived during setup."""


class StepFailed(Exception):
    """A setup command exited non-zero."""


def main() -> int:
    config = Config.from_env(os.environ)
    out = Output()
    supervisor = Supervisor(config, out)
    supervisor.install_signal_handlers()
    if not port_free(config.port):
        supervisor.log(f"port {config.port} on 127.0.0.1 is taken; stop what uses it or set BASE_DOMAIN/PORT")
        return 2
    code = 0
    try:
        info = supervisor.setup()
        supervisor.start_children()
        code = supervisor.watch(lambda: supervisor.banner(info))
    except StopRequested:
        code = 0
    except StepFailed as error:
        supervisor.log(str(error))
        code = 1
    except Exception as error:
        supervisor.log(f"supervisor error: {error!r}")
        code = 1
    finally:
        if not supervisor.stop_children():
            code = code or 1
        if config.embedded_pg:
            supervisor.log("stopping the project-local PostgreSQL")
            try:
                embedded_pg.stop(config.pg_data)
            except Exception as error:
                supervisor.log(f"could not stop PostgreSQL: {error!r}")
                code = code or 1
        supervisor.log("all processes stopped" + ("" if code == 0 else f"; exit code {code}"))
    return code


if __name__ == "__main__":
    sys.exit(main())
