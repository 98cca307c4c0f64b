"""Settings for every environment, read from the environment in one place.

Dev defaults are safe for a laptop: the project-local PostgreSQL on loopback, the
console email backend, DEBUG on. Production sets DEBUG=0 and real values; every secret
can also be given as `<NAME>_FILE` pointing at a file (Docker/Kubernetes secrets).
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / ".data"))

env = environ.Env()


def secret(name: str, default: str = "") -> str:
    """Read a secret from NAME or from the file named by NAME_FILE."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return env.str(name, default=default)


DEBUG = env.bool("DEBUG", default=True)
DEV_SECRET_KEY = "dev-only-insecure-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGH"
SECRET_KEY = secret("SECRET_KEY", default=DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off.")

# Hosts: the public site lives on BASE_DOMAIN, each tenant on <slug>.BASE_DOMAIN.
BASE_DOMAIN = env.str("BASE_DOMAIN", default="localhost:8000")
BASE_HOSTNAME = BASE_DOMAIN.split(":")[0]
SITE_SCHEME = env.str("SITE_SCHEME", default="http" if DEBUG else "https")
ALLOWED_HOSTS = [BASE_HOSTNAME, f".{BASE_HOSTNAME}", *env.list("EXTRA_ALLOWED_HOSTS", default=[])]
CSRF_TRUSTED_ORIGINS = [f"{SITE_SCHEME}://{BASE_DOMAIN}", f"{SITE_SCHEME}://*.{BASE_DOMAIN}"]

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "tenants.backups",
    "billing",
    "accounts",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "accounts",
    "crm",
    "crm.clients",
    "crm.deals",
    "crm.leads",
    "crm.activities",
    "crm.catalog",
    "crm.notifications",
    "crm.webhooks",
    "api",
    "crm.saved_views",
    "crm.attachments",
    "crm.dashboard",
    "crm.custom_fields",
    "crm.history",
    "crm.calendar",
    "crm.mail",
    "crm.imports",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# The schema that is migrated once and whose DDL is replayed for each signup.
TENANT_TEMPLATE_SCHEMA = "zz_tenant_template"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False
# Issue `SET search_path` once per schema switch, not before every query (half the round
# trips). Safe: django-tenants forgets the cached path on rollback and reconnect.
TENANT_LIMIT_SET_CALLS = True

MIDDLEWARE = [
    "config.health.HealthCheckMiddleware",
    "config.request_context.RequestContextMiddleware",
    "api.not_found.ApiNotFoundMiddleware",
    "tenants.middleware.TenantHostMiddleware",
    "tenants.backups.middleware.MaintenanceMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SeatMiddleware",
    "accounts.language.UserLanguageMiddleware",
    "accounts.time_zone.UserTimeZoneMiddleware",
    "tenants.middleware.TenantStatusMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.workspace",
                "crm.navigation.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# Database: the project-local server by default (see infra/embedded_pg.py).
DATABASE_URL = secret("DATABASE_URL", default="postgres://crm@127.0.0.1:54329/crm")
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
# Recycle connections: each one caches catalog entries of every schema it touched.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# PostgreSQL client binaries (pg_dump) used to capture the tenant template and backups.
PG_BIN_DIR = env.str("PG_BIN_DIR", default="")

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24
# Argon2 first: memory-hard and ~10x faster to verify than PBKDF2's default rounds,
# which keeps signup and sign-in quick. Older hashes are upgraded on next sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# Cache: Redis when REDIS_URL is given, else a table in PostgreSQL (shared by all
# processes). Keys always carry the tenant schema (django_tenants.cache.make_key).
REDIS_URL = secret("REDIS_URL", default="")
if REDIS_URL:
    _cache_backend = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
else:
    _cache_backend = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "cache_entries"}
CACHES = {
    "default": {
        **_cache_backend,
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}

# Database sessions that load their seat lease in the same round trip (accounts.session_store).
SESSION_ENGINE = "accounts.session_store"
SESSION_COOKIE_NAME = "crm_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14

# Internationalisation: the seeds tell of a CRM that failed for speaking only English.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian")), ("es", _("Spanish")), ("ar", _("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))
MEDIA_URL = "/media/"
# Uploaded files live under MEDIA_ROOT/<schema>/ so no tenant can reach another's files.
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
# Documents attached to client records (crm.attachments): the largest single file, in bytes.
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=25 * 1024 * 1024)
# Imports (crm.imports, decision 0020): the largest file (refused while it uploads), rows
# and columns per file, characters per cell and per line, rows written per transaction,
# and how long a running job may stay silent before another worker takes it over.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=200 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=1_000_000)
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=500)
IMPORT_MAX_FIELD_CHARS = env.int("IMPORT_MAX_FIELD_CHARS", default=100_000)
IMPORT_MAX_LINE_CHARS = env.int("IMPORT_MAX_LINE_CHARS", default=1_000_000)
IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES = env.int("IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES", default=2 * 1024 * 1024 * 1024)
IMPORT_BATCH_ROWS = env.int("IMPORT_BATCH_ROWS", default=1000)
IMPORT_STALE_SECONDS = env.int("IMPORT_STALE_SECONDS", default=120)
IMPORT_UNDO_DAYS = env.int("IMPORT_UNDO_DAYS", default=7)
# Backups and exports (decision record 8): local folder by default, any S3-compatible
# store when BACKUP_S3_BUCKET is set (django-storages); optional encryption at rest.
BACKUP_S3_BUCKET = env.str("BACKUP_S3_BUCKET", default="")
if BACKUP_S3_BUCKET:
    BACKUP_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": BACKUP_S3_BUCKET,
            "location": env.str("BACKUP_S3_PREFIX", default="backups"),
            "endpoint_url": env.str("BACKUP_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("BACKUP_S3_REGION", default="") or None,
            "access_key": secret("BACKUP_S3_ACCESS_KEY_ID"),
            "secret_key": secret("BACKUP_S3_SECRET_ACCESS_KEY"),
            "default_acl": "private",
            "file_overwrite": False,
        },
    }
else:
    BACKUP_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env.str("BACKUP_DIR", default=str(DATA_DIR / "backups"))},
    }
# 32 bytes, urlsafe base64 (`manage.py backups genkey`); empty: archives are not encrypted.
BACKUP_ENCRYPTION_KEY = secret("BACKUP_ENCRYPTION_KEY")
# Local scratch space for dumps and restores (needs room for about twice the largest archive).
BACKUP_WORK_DIR = env.str("BACKUP_WORK_DIR", default=str(DATA_DIR / "backup-work"))
# Scheduled backups are spread over this window (seconds), at most this many queued per run.
BACKUP_SPREAD_SECONDS = env.int("BACKUP_SPREAD_SECONDS", default=4 * 60 * 60)
BACKUP_SCHEDULE_BATCH = env.int("BACKUP_SCHEDULE_BATCH", default=1000)
# After a restore the previous schema is kept this long (hours), then dropped.
BACKUP_KEEP_PREVIOUS_HOURS = env.int("BACKUP_KEEP_PREVIOUS_HOURS", default=72)
# A job without a heartbeat for this long is considered dead and undone (seconds).
BACKUP_STALE_SECONDS = env.int("BACKUP_STALE_SECONDS", default=300)
BACKUP_EXPORT_KEEP_DAYS = env.int("BACKUP_EXPORT_KEEP_DAYS", default=7)
STORAGES = {
    "default": {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"},
    "backups": BACKUP_STORAGE,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
if DEBUG:
    # In development static files come from the finders; the folder only has to exist.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Email: console in development; EMAIL_URL=smtp://user:pass@host:587/?tls=True in production.
_email = env.email_url_config(secret("EMAIL_URL", default="consolemail://"))
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_FILE_PATH = _email.get("EMAIL_FILE_PATH", str(DATA_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"CRM <no-reply@{BASE_HOSTNAME}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: the broker needs no extra server by default (kombu's SQLAlchemy transport on
# the same PostgreSQL); set CELERY_BROKER_URL=redis://... or amqp://... to scale out.
_db = DATABASES["default"]
CELERY_BROKER_URL = secret(
    "CELERY_BROKER_URL",
    default="sqla+postgresql+psycopg://{user}{password}@{host}:{port}/{name}".format(
        user=_db.get("USER") or "",
        password=f":{_db['PASSWORD']}" if _db.get("PASSWORD") else "",
        host=_db.get("HOST") or "127.0.0.1",
        port=_db.get("PORT") or 5432,
        name=_db["NAME"],
    ),
)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {
    "workspace-usage-refresh": {"task": "tenants.tasks.workspace_usage_refresh_all", "schedule": 60 * 60},
    # Overdue-task reminders: one run per tenant every 5 minutes; each task at most once per interval.
    "task-overdue-reminders": {"task": "crm.activities.tasks.overdue_reminders_dispatch", "schedule": 5 * 60},
    # Webhook attempts whose message was lost are queued again (at-least-once delivery).
    "webhook-redeliver": {"task": "crm.webhooks.tasks.webhook_redeliver_dispatch", "schedule": 15 * 60},
    # Billing clock: trial ends, grace periods, suspensions, data-retention warnings.
    "billing-dunning-sweep": {"task": "billing.tasks.dunning_sweep", "schedule": 60 * 60},
    "backups-schedule": {"task": "tenants.backups.tasks.backups_schedule_dispatch", "schedule": 60 * 60},
    "backups-housekeeping": {"task": "tenants.backups.tasks.backups_housekeeping", "schedule": 5 * 60},
    # Connected IMAP mailboxes are read every few minutes, each workspace at its own moment.
    "mail-poll": {
        "task": "crm.mail.tasks.mailboxes_poll_dispatch",
        "schedule": env.int("MAIL_POLL_SECONDS", default=300),
    },
    # Custom fields removed more than 30 days ago lose their values for good.
    "custom-fields-purge": {"task": "crm.custom_fields.tasks.custom_fields_purge_dispatch", "schedule": 24 * 60 * 60},
    # Imports whose worker died mid-file are taken over and continue after their last batch.
    "imports-recover": {"task": "crm.imports.tasks.imports_recover_dispatch", "schedule": 2 * 60},
}
# Jobs fanned out to every tenant are spread over this window (seconds).
TENANT_FANOUT_SPREAD_SECONDS = env.int("TENANT_FANOUT_SPREAD_SECONDS", default=600)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser", "rest_framework.parsers.FormParser"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.CrmAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "api.pagination.StablePageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": (
        "The whole CRM over HTTP. Authenticate with `Authorization: Bearer <token>` from "
        "`POST /api/v1/auth/token/`. Lists are cursor-paged (`next`/`previous`); errors are "
        '`{"detail", "code", "errors"?}`; POST takes an `Idempotency-Key`; PATCH and DELETE take `If-Match`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Choice sets sharing a field name (`kind`, `status`) get names of their own.
    "ENUM_NAME_OVERRIDES": {
        "TokenKindEnum": "accounts.models.TokenKind",
        "TaskKindEnum": "crm.activities.models.TaskKind",
        "TaskStatusEnum": "crm.activities.models.TaskStatus",
        "ActivityKindEnum": "crm.activities.models.ActivityKind",
        "EntryKindEnum": "api.activities.ENTRY_KINDS",
        "QuoteStatusEnum": "crm.catalog.models.QuoteStatus",
        "NotificationKindEnum": "crm.notifications.models.NotificationKind",
        "TrashKindEnum": "api.workspace.TRASH_KINDS",
        "SearchKindEnum": "crm.search.selectors.SearchKind",
        # Attachments and search hits name the same four record types.
        "RecordTypeEnum": "crm.attachments.models.RECORD_TYPES",
        "StageKindEnum": "crm.deals.models.StageKind",
        "LeadStatusEnum": "crm.leads.models.LeadStatus",
        # SMTP and IMAP security, and the states of an email (crm.mail).
        "MailSecurityEnum": "crm.mail.models.Security",
        "EmailStatusEnum": "crm.mail.models.EmailStatus",
        "EmailDirectionEnum": "crm.mail.models.EmailDirection",
        "CustomFieldKindEnum": "crm.custom_fields.models.FieldKind",
        "CustomFieldEntityEnum": "crm.custom_fields.models.Entity",
        "ImportEntityEnum": "crm.imports.models.Entity",
    },
    # On a workspace's host, each record's `custom_fields` lists that workspace's fields.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.custom_fields.workspace_fields_schema_hook",
    ],
    # The docs page's scripts and styles are served by us (WhiteNoise), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# Security: production (DEBUG off) gets the whole `check --deploy` list.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Sentry: only when a DSN is given; no personal data unless asked for.
SENTRY_DSN = secret("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production")
SENTRY_SEND_PII = env.bool("SENTRY_SEND_PII", default=False)
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)

# Stripe (used by the billing app). No key: billing is off (`make run` starts localstripe
# on loopback and sets these). STRIPE_API_BASE points the client at another server.
STRIPE_API_KEY = secret("STRIPE_API_KEY", default="")
STRIPE_WEBHOOK_SECRET = secret("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_JS_URL = env.str("STRIPE_JS_URL", default="https://js.stripe.com/v3/")

# Structured logs: one JSON object per line, each carrying tenant and request id.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "config.request_context.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "config.log_format.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s [%(tenant)s %(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_context"], "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "celery": {"level": "INFO"},
        # fpdf2's font subsetting logs ~40 INFO lines per proposal PDF.
        "fontTools": {"level": "WARNING"},
        # The Stripe client logs every request and response at INFO.
        "stripe": {"level": "WARNING"},
    },
}

# Signup
SIGNUP_ENABLED = env.bool("SIGNUP_ENABLED", default=True)
SIGNUP_RATE_LIMIT = env.str("SIGNUP_RATE_LIMIT", default="20/hour")

# Public lead forms: how many reverse proxies append to X-Forwarded-For in front of us
# (0: trust only the socket address), so rate limits count visitors, not the proxy.
LEAD_FORM_TRUSTED_PROXIES = env.int("LEAD_FORM_TRUSTED_PROXIES", default=0)

# Outgoing webhooks: private and loopback receivers are refused (SSRF) unless allowed
# here, which dev and tests do; a receiver gets this long to answer; failed deliveries are
# retried after base, 2x base, 4x base... seconds, up to the maximum number of attempts.
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=DEBUG)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=60)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)

# Email inside the CRM (crm.mail, decision 0023). Inbound addresses read
# <slug>+<token>@MAIL_INBOUND_DOMAIN; the mail provider's raw-MIME webhook posts them to
# /mail/inbound/<token>/ on the workspace's host, refused above MAIL_INBOUND_MAX_BYTES.
MAIL_INBOUND_DOMAIN = env.str("MAIL_INBOUND_DOMAIN", default=f"inbound.{BASE_HOSTNAME}")
MAIL_INBOUND_MAX_BYTES = env.int("MAIL_INBOUND_MAX_BYTES", default=30 * 1024 * 1024)
# The largest email people may send (text and files together).
MAIL_MESSAGE_MAX_BYTES = env.int("MAIL_MESSAGE_MAX_BYTES", default=25 * 1024 * 1024)
# Mailbox servers on loopback or private networks (only for development and tests).
MAIL_ALLOW_PRIVATE_HOSTS = env.bool("MAIL_ALLOW_PRIVATE_HOSTS", default=DEBUG)
MAIL_SERVER_TIMEOUT_SECONDS = env.int("MAIL_SERVER_TIMEOUT_SECONDS", default=30)
MAIL_SEND_MAX_ATTEMPTS = env.int("MAIL_SEND_MAX_ATTEMPTS", default=5)
MAIL_SEND_RETRY_BASE_SECONDS = env.int("MAIL_SEND_RETRY_BASE_SECONDS", default=60)
MAIL_IMAP_BATCH = env.int("MAIL_IMAP_BATCH", default=200)
MAIL_IMAP_FIRST_SYNC_DAYS = env.int("MAIL_IMAP_FIRST_SYNC_DAYS", default=30)
MAIL_POLL_SPREAD_SECONDS = env.int("MAIL_POLL_SPREAD_SECONDS", default=240)

# accounts.User.email is unique case-insensitively (a functional unique constraint on
# Lower(email)), which is stricter than the `unique=True` this check looks for.
SILENCED_SYSTEM_CHECKS = ["auth.E003", "auth.W004"]
