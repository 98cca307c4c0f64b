"""A project-local PostgreSQL cluster for `make run` and `make test`.

The cluster lives under `.data/pg` and listens on loopback only. It needs no system
server: it uses the PostgreSQL binaries it can find (`PG_BIN_DIR`, `pg_config`, the
Debian layout `/usr/lib/postgresql/<ver>/bin`) and otherwise installs the `pgserver`
wheel, which ships them. PostgreSQL refuses to run as root, so when we are root the
server runs as the `postgres` (or `nobody`) user and the data folder is handed to it.

Usage: python -m infra.embedded_pg start|stop|status|url [--data DIR] [--port N] [--db NAME ...]
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = ROOT / ".data" / "pg"
DEFAULT_PORT = 54329
SUPERUSER = "crm"


def find_bin_dir() -> Path:
    """Return the folder holding initdb/pg_ctl/pg_dump, installing pgserver if needed."""
    candidates: list[str] = []
    if os.environ.get("PG_BIN_DIR"):
        candidates.append(os.environ["PG_BIN_DIR"])
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip()
        candidates.append(bindir)
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    candidates += sorted(glob.glob("/usr/pgsql-*/bin"), key=_version_key, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).parent))
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return _pgserver_bin_dir()


def _version_key(path: str) -> int:
    digits = "".join(ch for ch in path if ch.isdigit())
    return int(digits or 0)


def _pgserver_bin_dir() -> Path:
    try:
        import pgserver  # type: ignore[import-not-found]
    except ImportError:
        print("No PostgreSQL binaries found; installing the pgserver wheel ...", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "pgserver"], check=True)
        import pgserver  # type: ignore[import-not-found]
    return Path(pgserver.__file__).parent / "pginstall" / "bin"


def _server_user() -> pwd.struct_passwd | None:
    """PostgreSQL will not run as root: pick an unprivileged account to run it."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("Running as root and no 'postgres' or 'nobody' user to run PostgreSQL as.")


def _run_as_server_user(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    user = _server_user()
    if user is not None:
        kwargs.setdefault("user", user.pw_uid)
        kwargs.setdefault("group", user.pw_gid)
        kwargs.setdefault("extra_groups", [])
    return subprocess.run(args, **kwargs)


def _give_to_server_user(path: Path) -> None:
    user = _server_user()
    if user is None:
        return
    for current, _dirs, files in os.walk(path):
        os.chown(current, user.pw_uid, user.pw_gid)
        for name in files:
            os.chown(os.path.join(current, name), user.pw_uid, user.pw_gid)
    # The server user must be able to reach the folder through its parents.
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)
        if parent == ROOT.parent:
            break


def is_running(data_dir: Path) -> bool:
    if not (data_dir / "PG_VERSION").exists():
        return False
    result = _run_as_server_user([str(find_bin_dir() / "pg_ctl"), "status", "-D", str(data_dir)], capture_output=True)
    return result.returncode == 0


def start(data_dir: Path, port: int, databases: list[str]) -> str:
    """Create the cluster if needed, start it, create the databases; return the URL."""
    bin_dir = find_bin_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    if not (data_dir / "PG_VERSION").exists():
        _give_to_server_user(data_dir)
        _run_as_server_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-instructions",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        with open(data_dir / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# project-local server: loopback only, tuned for a developer laptop\n"
                f"listen_addresses = '127.0.0.1'\nport = {port}\n"
                f"unix_socket_directories = '{data_dir}'\n"
                "max_connections = 400\nshared_buffers = 256MB\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "max_locks_per_transaction = 256\n"
                # Data and indexes are cached or on SSD: random reads are nearly as cheap as
                # sequential ones, so let the planner use the covering indexes.
                "random_page_cost = 1.1\n"
            )
    if not is_running(data_dir):
        log = data_dir / "server.log"
        _run_as_server_user(
            [
                str(bin_dir / "pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(data_dir),
                "-l",
                str(log),
                "-o",
                f"-p {port}",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    _wait_ready(bin_dir, port)
    for name in databases:
        _create_database(bin_dir, port, name)
    return url(port, databases[0] if databases else "postgres")


def _wait_ready(bin_dir: Path, port: int) -> None:
    for _ in range(100):
        ready = subprocess.run([str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True)
        if ready.returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"PostgreSQL on port {port} did not become ready")


def _create_database(bin_dir: Path, port: int, name: str) -> None:
    exists = subprocess.run(
        [
            str(bin_dir / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            SUPERUSER,
            "-d",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{name}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    if exists.stdout.strip() != "1":
        subprocess.run(
            [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER, name],
            check=True,
        )


def stop(data_dir: Path) -> None:
    if is_running(data_dir):
        _run_as_server_user(
            [str(find_bin_dir() / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(data_dir)],
            check=True,
            stdout=subprocess.DEVNULL,
        )


def url(port: int, database: str) -> str:
    return f"postgres://{SUPERUSER}@127.0.0.1:{port}/{database}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["start", "stop", "status", "url", "bindir"])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("PG_DATA_DIR", DEFAULT_DATA_DIR)))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PG_PORT", DEFAULT_PORT)))
    parser.add_argument("--db", action="append", default=[])
    args = parser.parse_args()
    if args.action == "start":
        print(start(args.data.resolve(), args.port, args.db or ["crm"]))
    elif args.action == "stop":
        stop(args.data.resolve())
    elif args.action == "status":
        sys.exit(0 if is_running(args.data.resolve()) else 1)
    elif args.action == "bindir":
        print(find_bin_dir())
    else:
        print(url(args.port, (args.db or ["crm"])[0]))


if __name__ == "__main__":
    main()
