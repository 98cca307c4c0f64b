"""Gunicorn settings for production: `gunicorn -c infra/deploy/gunicorn.conf.py config.wsgi:application`.

Every knob is read from the environment so the same file serves systemd, a Procfile
platform and containers. Why each value:

- workers: WEB_CONCURRENCY (the name Heroku-style platforms set), else 2 x CPUs + 1.
  Sync workers: the app does short requests against PostgreSQL; slow clients are nginx's
  problem, not ours (it buffers requests and responses).
- max_requests with jitter: each worker is replaced after about a thousand requests.
  With django-tenants a long-lived process touches many schemas, and PostgreSQL keeps
  catalog caches per connection for every schema touched; recycling workers (and
  CONN_MAX_AGE recycling connections) bounds that memory. Jitter stops all workers from
  restarting in the same second.
- forwarded_allow_ips: whose X-Forwarded-* headers gunicorn believes. Default: nginx on
  the same host. Behind a load balancer, set FORWARDED_ALLOW_IPS to its addresses.
  Django trusts X-Forwarded-Proto through SECURE_PROXY_SSL_HEADER, so the proxy must
  always overwrite that header (our nginx.conf does).
- the control socket (gunicorn 25+) lives in the user's home by default; off unless
  GUNICORN_CONTROL_SOCKET names a path, so two instances never fight over one file.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Where to listen: GUNICORN_BIND (e.g. unix:/run/crm/gunicorn.sock), else PORT on all
# interfaces (Procfile platforms route to it), else loopback for a local nginx.
if os.environ.get("GUNICORN_BIND"):
    bind = [address.strip() for address in os.environ["GUNICORN_BIND"].split(",") if address.strip()]
elif os.environ.get("PORT"):
    bind = [f"0.0.0.0:{os.environ['PORT']}"]
else:
    bind = ["127.0.0.1:8000"]

workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
threads = _int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"

max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)

timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)  # below systemd's TimeoutStopSec
keepalive = 5

forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proxy_allow_ips = forwarded_allow_ips

# Worker heartbeats on tmpfs: a slow or full disk must not make the arbiter kill workers.
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"

# Logs to stdout/stderr (journald or the platform collects them); the access log carries
# the request id nginx generated, the same one Django puts in its own log lines.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(M)sms host=%({host}i)s request_id=%({x-request-id}i)s'

control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]

proc_name = "crm-web"
