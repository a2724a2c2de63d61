"""
Settings: production is the default, development mode is explicit, and the site speaks
UK English with DD/MM/YYYY dates and serves its own Bootstrap.

Settings are read once per process, so the environment-driven ones are checked in a fresh
Python process each.
"""

import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.utils import get_app_template_dirs
from django.utils import formats

from ..helpers import PROJECT_ROOT

PRINT_SETTINGS = (
    "from django.conf import settings; "
    "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)"
)


# What the environment running the tests may hold that would change the settings tested.
NOT_INHERITED = {
    "SOS_DEV_MODE",
    "SECRET_KEY",
    "DEBUG",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "SOS_REPLICA_URL",
    "SOS_FIGURES_CACHE",
}


def run_python(*args, **env_overrides):
    """Run Python in the project folder with a clean, production-like environment."""
    env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED}
    env["DJANGO_SETTINGS_MODULE"] = "sos.settings"
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_refuses_to_start_without_secret_key_outside_dev_mode():
    """Production with no SECRET_KEY stops at once with a message naming it."""
    result = run_python("manage.py", "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "The SECRET_KEY environment variable is required" in result.stderr


def test_check_passes_in_production_with_secret_key():
    """Given a SECRET_KEY, the production configuration passes the system checks."""
    result = run_python("manage.py", "check", SECRET_KEY="a-long-random-test-value-" * 3)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_defaults_are_debug_off_and_secure_cookies():
    """No dev mode: DEBUG off, session and CSRF cookies sent over HTTPS only."""
    result = run_python("-c", PRINT_SETTINGS, SECRET_KEY="a-long-random-test-value-" * 3)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True"]


def test_dev_mode_turns_debug_on_without_secret_key():
    """SOS_DEV_MODE=1 alone gives DEBUG on and plain-HTTP cookies for localhost."""
    result = run_python("-c", PRINT_SETTINGS, SOS_DEV_MODE="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "False"]


def test_unclear_debug_value_is_refused_by_name():
    """DEBUG=maybe is an error that names DEBUG, not a silent guess."""
    result = run_python("-c", PRINT_SETTINGS, SOS_DEV_MODE="1", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be 1 or 0 (true/false), not 'maybe'." in result.stderr


def test_site_uses_london_time_and_uk_english():
    """Dates and times are London's; the language is en-gb."""
    assert settings.TIME_ZONE == "Europe/London"
    assert settings.LANGUAGE_CODE == "en-gb"


def test_date_field_reads_day_first():
    """25/12/2024 is Christmas Day, as a coordinator types it."""
    field = forms.DateField()
    assert field.clean("25/12/2024") == datetime.date(2024, 12, 25)


def test_date_field_refuses_month_first():
    """12/25/2024 is not a date in the UK, rather than quietly being read wrongly."""
    with pytest.raises(forms.ValidationError):
        forms.DateField().clean("12/25/2024")


def test_short_date_format_is_day_month_year():
    """Dates are shown as DD/MM/YYYY."""
    assert formats.date_format(datetime.date(2024, 12, 25), "SHORT_DATE_FORMAT") == "25/12/2024"


def test_bootstrap_is_served_from_our_static_files():
    """Bootstrap's CSS comes from an installed app, not from a CDN."""
    assert finders.find("bootstrap/css/bootstrap.min.css") is not None
    assert finders.find("bootstrap/js/bootstrap.bundle.min.js") is not None


CDN_PATTERN = re.compile(
    r"cdn\.|jsdelivr|unpkg|cdnjs|bootstrapcdn|googleapis|gstatic|cloudflare", re.IGNORECASE
)


def project_template_files():
    """Every file in the project's own template folders (not third-party apps')."""
    folders = [Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]]
    folders += [Path(folder) for folder in get_app_template_dirs("templates")]
    return [
        path
        for folder in folders
        if folder.is_relative_to(PROJECT_ROOT)
        for path in folder.rglob("*")
        if path.is_file()
    ]


def test_no_template_or_settings_file_loads_from_a_cdn():
    """Pages work offline and leak no visits to third parties: no CDN anywhere."""
    templates = project_template_files()
    assert len(templates) >= 10, "the project's templates were not found"
    files = [PROJECT_ROOT / "sos" / "settings.py", *templates]
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in files
        if CDN_PATTERN.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


PRINT_FIGURES_CACHE = (
    "from django.conf import settings; f = settings.CACHES['figures']; "
    "print(f['BACKEND'], f.get('LOCATION'), f.get('KEY_PREFIX', ''))"
)


def test_figures_cache_is_process_memory_unless_a_redis_is_given():
    result = run_python("-c", PRINT_FIGURES_CACHE, SOS_DEV_MODE="1")
    assert result.returncode == 0, result.stderr
    backend, location = result.stdout.split()[:2]
    assert (backend, location) == ("django.core.cache.backends.locmem.LocMemCache", "sos-figures")


def test_figures_cache_on_redis_is_keyed_by_the_database():
    """One Redis may serve two SOS databases: their figures never share a key."""
    prefixes = []
    for database in ("postgres://db.example/sos", "postgres://db.example/sos_staging"):
        result = run_python(
            "-c",
            PRINT_FIGURES_CACHE,
            SOS_DEV_MODE="1",
            SOS_FIGURES_CACHE="redis://cache.example:6379/0",
            DATABASE_URL=database,
        )
        assert result.returncode == 0, result.stderr
        backend, location, prefix = result.stdout.split()
        assert backend == "django.core.cache.backends.redis.RedisCache"
        assert location == "redis://cache.example:6379/0"
        prefixes.append(prefix)
    assert prefixes[0] != prefixes[1]


def test_figures_cache_that_is_not_redis_is_refused_by_name():
    result = run_python(
        "-c", PRINT_FIGURES_CACHE, SOS_DEV_MODE="1", SOS_FIGURES_CACHE="memcached://x:11211"
    )
    assert result.returncode != 0
    assert "SOS_FIGURES_CACHE must be a Redis address" in result.stderr


PRINT_DATABASES = (
    "import json; from django.conf import settings; print(json.dumps({"
    "'databases': {alias: {k: db.get(k) for k in ('HOST', 'OPTIONS', 'TEST')} "
    "for alias, db in settings.DATABASES.items()}, "
    "'routers': settings.DATABASE_ROUTERS, 'replica_url': settings.REPLICA_URL}))"
)


def test_no_read_replica_unless_one_is_given():
    result = run_python("-c", PRINT_DATABASES, SOS_DEV_MODE="1")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert list(printed["databases"]) == ["default"]
    assert printed["replica_url"] == ""


def test_a_read_replica_reads_like_the_primary_and_gives_up_quickly():
    """
    Same planner settings as the primary, short timeouts (a replica that stops answering
    is left for the primary within seconds), a mirror of the test database in tests.
    """
    result = run_python(
        "-c",
        PRINT_DATABASES,
        SOS_DEV_MODE="1",
        DATABASE_URL="postgres://sos@primary.example:5432/sos",
        SOS_REPLICA_URL="postgres://sos@replica.example:5432/sos",
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    default, replica = printed["databases"]["default"], printed["databases"]["replica"]
    assert printed["replica_url"] == "postgres://sos@replica.example:5432/sos"
    assert replica["HOST"] == "replica.example"
    assert "jit=off" in default["OPTIONS"]["options"]
    assert replica["OPTIONS"]["connect_timeout"] == 3
    assert replica["OPTIONS"]["keepalives"] == 1
    assert replica["OPTIONS"]["tcp_user_timeout"] == 10_000
    assert (
        replica["OPTIONS"]["options"] == f"{default['OPTIONS']['options']} -c statement_timeout=30s"
    )
    assert replica["TEST"] == {"MIRROR": "default"}
    assert printed["routers"] == ["mentoring.replica.Router"]


def test_a_read_replica_of_another_kind_of_database_is_refused_by_name():
    result = run_python(
        "-c",
        PRINT_DATABASES,
        SOS_DEV_MODE="1",
        DATABASE_URL="sqlite:///never-opened.sqlite3",
        SOS_REPLICA_URL="postgres://sos@replica.example:5432/sos",
    )
    assert result.returncode != 0
    assert "SOS_REPLICA_URL must be a replica of DATABASE_URL" in result.stderr
