"""
Settings for SOS, driven by environment variables.

Production is the default: DEBUG off, a SECRET_KEY required, secure cookies. Development
mode is asked for explicitly with SOS_DEV_MODE=1 (``make run`` and ``make test`` do this);
it turns DEBUG on and supplies a throwaway SECRET_KEY.

Variables:
    SOS_DEV_MODE      1 for development mode (default 0).
    SECRET_KEY        required outside development mode.
    DEBUG             1/0; defaults to on in development mode, off otherwise.
    ALLOWED_HOSTS     comma-separated host names (default: localhost only).
    CSRF_TRUSTED_ORIGINS  comma-separated origins, e.g. https://sos.example.org
    DATABASE_URL      e.g. postgres://user:pass@host:5432/sos
                      (default: SQLite file db.sqlite3 in the project folder).
    CONN_MAX_AGE      seconds to keep database connections open (default 60).
    SECURE_SSL_REDIRECT  1/0; redirect HTTP to HTTPS (default: on outside development mode).
    STATIC_ROOT       the folder collectstatic fills and whitenoise serves (default staticfiles).
    SOS_REPLICA_URL   e.g. postgres://user:pass@replica:5432/sos, a read replica of
                      DATABASE_URL: the dashboards' figures are computed there (default none).
    SOS_RETENTION_YEARS  years after closure before apply_retention anonymises a client (6).
    SOS_BACKUP_KEY    the passphrase manage.py backup encrypts with and restore decrypts
                      with (unset: backups are not encrypted). Keep it apart from them.
    SOS_VETTING_RENEWAL_YEARS  years after a mentor's vetting check before its renewal (3).
    SOS_FIGURES_CACHE  a Redis address (redis://host:6379/0) for the dashboards' figures
                      cache, shared by every worker and server (default: per-process memory).
    SOS_REQUIRE_2FA   1/0; two-factor sign-in. Always 1 outside development mode; in
                      development mode it defaults to 0 and may be set to 1 to try it.
    EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS,
    DEFAULT_FROM_EMAIL  SMTP for password reset e-mails and safeguarding alerts (console
                      output in development).
    SOS_SITE_URL      the address e-mails link to, e.g. https://sos.example.org (default:
                      http://127.0.0.1:8000 in development, else https:// and the first
                      ALLOWED_HOSTS name).
"""

import hashlib
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    value = value.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0 (true/false), not {value!r}.")


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEV_MODE = env_bool("SOS_DEV_MODE")
DEBUG = env_bool("DEBUG", default=DEV_MODE)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEV_MODE:
        raise ImproperlyConfigured(
            "The SECRET_KEY environment variable is required outside development mode. "
            "Set SECRET_KEY to a long random value, or set SOS_DEV_MODE=1 for local "
            "development."
        )
    # Fixed only for local development; never used when SOS_DEV_MODE is off.
    SECRET_KEY = "django-insecure-sos-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # First: its registration/ templates (sign-in, password change and reset) must be
    # found before the admin's and auth's own pages of the same names.
    "accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",  # django-bootstrap-static: Bootstrap's CSS and JS as static files
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "simple_history",
    "mentoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Adds user.is_verified(): has this session passed the second sign-in step?
    "django_otp.middleware.OTPMiddleware",
    # Deny by default: every page needs a signed-in user unless its view says otherwise.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.signed_in.SessionTimeoutMiddleware",
    # Change history: records who made each change made during a request.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Two-factor: signed-in users go to set-up or verify until they pass the second step.
    "accounts.two_factor.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "mentoring.middleware.NoStoreWhenSignedInMiddleware",
    # Inside the ones above, so that its 404 and 400 pages get their headers too.
    "mentoring.middleware.RefuseNulMiddleware",
    # Last, as django-axes asks: it answers a locked-out sign-in with its own page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked username + address pair before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Throttled sign-in: 5 failures for the same username from the same address lock that
# pair (only) for 15 minutes; a success clears the count. Failures and lock-outs are
# logged by django-axes with user, address and time, never the password.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2", "new_password1"]

# Two-factor sign-in (TOTP app or recovery code) for every role, the admin included.
# Always on outside development mode; development mode leaves it off unless asked for.
SOS_REQUIRE_2FA = env_bool("SOS_REQUIRE_2FA", default=not DEV_MODE)
if not DEV_MODE and not SOS_REQUIRE_2FA:
    raise ImproperlyConfigured(
        "SOS_REQUIRE_2FA cannot be switched off outside development mode: the app holds "
        "criminal-offence data and every sign-in needs a second step."
    )
OTP_TOTP_ISSUER = "SOS"
# Even admins never see two-factor keys or recovery codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

ROOT_URLCONF = "sos.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "mentoring.context_processors.sos",
            ],
        },
    },
]

WSGI_APPLICATION = "sos.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}

# A read replica (a PostgreSQL standby of DATABASE_URL) for the dashboards' figures:
# mentoring/replica.py routes only their reads there, so that their aggregate SQL leaves
# the primary to the coordinators' pages and writes.
REPLICA_URL = os.environ.get("SOS_REPLICA_URL", "").strip()
if REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        REPLICA_URL,
        conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
        conn_health_checks=True,
    )
    if DATABASES["replica"]["ENGINE"] != DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured(
            "SOS_REPLICA_URL must be a replica of DATABASE_URL, on the same kind of "
            f"database: it is {DATABASES['replica']['ENGINE']}, and DATABASE_URL "
            f"{DATABASES['default']['ENGINE']}."
        )
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
        # A replica that stops answering is given up on within seconds (the dashboards
        # then read from the primary), not after the system's TCP timeouts of minutes:
        # 3 s to connect; on an open connection, keepalive probes and 10 s for data sent
        # to be acknowledged. A query on it may run 30 s at most.
        DATABASES["replica"]["OPTIONS"] = {
            "connect_timeout": 3,
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 3,
            "tcp_user_timeout": 10_000,
            "options": "-c statement_timeout=30s",
            **DATABASES["replica"].get("OPTIONS", {}),
        }
    # Tests read the replica's figures from the test database itself.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["mentoring.replica.Router"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiler costs the dashboards' aggregates more time compiling than
    # it saves them: off.
    # random_page_cost 1.1 (the default 4 is for spinning disks) tells the planner that an
    # index lookup costs about as much as a page read in sequence, as on SSD: a year of one
    # borough's clients then joins to its offences and milestones by their client index
    # instead of reading every offence and milestone.
    for _alias in DATABASES.values():
        _options = _alias.setdefault("OPTIONS", {})
        _options["options"] = (
            f"-c jit=off -c random_page_cost=1.1 {_options.get('options', '')}".strip()
        )
    SILENCED_SYSTEM_CHECKS = []
else:
    # The session-date index INCLUDEs the columns the dashboards aggregate so that
    # PostgreSQL answers from the index alone. SQLite has no INCLUDE and builds a plain
    # index on the date instead, which is what it needs; the warning says only that.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# "figures": each borough's dashboard figures, in halves and shards, kept under versions
# that database triggers raise on every change (mentoring.metrics, borough_parts). By
# default in local memory, per process: each gunicorn worker computes a borough once per
# change and the first dashboard of a day. SOS_FIGURES_CACHE=redis://host:6379/0 shares one
# Redis among every worker and app server, and `manage.py warm_figures` (after a deploy,
# and daily just after midnight) computes the day's figures before anyone asks.
FIGURES_TIMEOUT = 2 * 24 * 3600  # entries are for one "as of" day; a day old, they go
FIGURES_CACHE = os.environ.get("SOS_FIGURES_CACHE", "").strip()
if FIGURES_CACHE:
    if not FIGURES_CACHE.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            "SOS_FIGURES_CACHE must be a Redis address (redis://host:6379/0, rediss:// or "
            f"unix://), not {FIGURES_CACHE!r}."
        )
    _database = DATABASES["default"]
    _figures_cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": FIGURES_CACHE,
        # One Redis may serve several SOS databases (staging, production): the keys carry
        # the database's identity, as its versions only mean something within it.
        "KEY_PREFIX": "sos-"
        + hashlib.sha256(
            f"{_database.get('HOST')}|{_database.get('PORT')}|{_database['NAME']}".encode()
        ).hexdigest()[:12],
        # A Redis that is down or slow costs a dashboard half a second, not the page: the
        # figures are then computed from the database (mentoring.metrics).
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
    }
else:
    _figures_cache = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "sos-figures",
        # A day's live entries: 40 boroughs x (2 halves, figures, and per kind of shard part,
        # cases and milestones, a mark, a whole and ~12 shards) = 1,240, and per scope
        # viewed its sum and blocks (8 for the network). Each change leaves
        # superseded entries (1-22 KB at 100,000 clients) that the least-recently-used cull
        # removes first: 5,000 bounds a worker's cache at about 50 MB.
        "OPTIONS": {"MAX_ENTRIES": 5_000},
    }
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "figures": {**_figures_cache, "TIMEOUT": FIGURES_TIMEOUT},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Internationalisation: UK English, London time, DD/MM/YYYY dates (sos/formats/en_GB).
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["sos.formats"]

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Cookies and transport: secure unless developing over plain HTTP on localhost.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEV_MODE
CSRF_COOKIE_SECURE = not DEV_MODE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEV_MODE)
# The load balancer's health check may speak plain HTTP inside the private network.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 0 if DEV_MODE else 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEV_MODE
SECURE_HSTS_PRELOAD = not DEV_MODE
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Content Security Policy: only this site's own files; no inline script or style except
# by nonce; nothing may frame the app. Charts are SVG with presentation attributes, and
# Bootstrap's icons are data: images, hence img-src data:.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}

# E-mail (password reset links). Development prints messages to the console; production
# sends through the SMTP server named by EMAIL_HOST.
if DEV_MODE and not os.environ.get("EMAIL_HOST"):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ.get("EMAIL_HOST", "localhost"),
                "port": int(os.environ.get("EMAIL_PORT", "587")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", default=True),
                "timeout": 10,
            },
        }
    }
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "SOS <no-reply@localhost>")
# The address e-mails link back to (safeguarding alerts), without a trailing slash.
SOS_SITE_URL = os.environ.get("SOS_SITE_URL", "").rstrip("/") or (
    "http://127.0.0.1:8000" if DEV_MODE else f"https://{ALLOWED_HOSTS[0]}"
)
# A reset link lasts 2 hours, not Django's default 3 days.
PASSWORD_RESET_TIMEOUT = 2 * 60 * 60

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "mentoring": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# Programme rules shared by forms and models. The windows of days the figures and pages
# count in (such as needing contact after 14 days) are in mentoring/metrics/windows.py.
SOS_TARGET_AGE_MIN = 16
SOS_TARGET_AGE_MAX = 25
# A mentor's DBS / vetting check is renewed this often (the programme's policy: a DBS
# certificate has no expiry of its own). Assigning a mentor past it asks for a confirmation.
SOS_VETTING_RENEWAL_YEARS = int(os.environ.get("SOS_VETTING_RENEWAL_YEARS", "3"))
# Personal details are removed this many years after a case closes (apply_retention).
SOS_RETENTION_YEARS = int(os.environ.get("SOS_RETENTION_YEARS", "6"))

# Sessions end after 30 minutes without activity and 12 hours after signing in.
SOS_SESSION_IDLE_SECONDS = 30 * 60
SOS_SESSION_MAX_SECONDS = 12 * 60 * 60
SESSION_COOKIE_AGE = SOS_SESSION_MAX_SECONDS
