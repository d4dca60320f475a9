"""Production settings (DJANGO_DEBUG=0): a clean `check --deploy`, and `migrate` before
`collectstatic`, each in a fresh process as a deployment runs them."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TRIAGE_"))}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="triage.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PYTHONWARNINGS="error",
    )
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_deploy_check_finds_nothing_to_warn_about(production_env):
    result = manage(production_env, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_migrate_works_before_collectstatic(production_env, tmp_path):
    result = manage(production_env, "migrate", "--noinput")

    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "db.sqlite3").exists()


def settings_of(env: dict[str, str], *names: str) -> list[str]:
    code = "from django.conf import settings as s; " + "; ".join(
        f"print(repr(getattr(s, {name!r}, None)))" for name in names
    )
    result = manage(env, "shell", "--no-imports", "-c", code)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_production_defaults_are_https_only(production_env):
    assert settings_of(
        production_env,
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_PROXY_SSL_HEADER",
        "TRIAGE_PROXY_COUNT",
    ) == ["True", "31536000", "True", "True", "('HTTP_X_FORWARDED_PROTO', 'https')", "1"]


def test_the_environment_changes_them(production_env):
    production_env.update(
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_HSTS_SECONDS="3600",
        DJANGO_SECURE_PROXY_SSL_HEADER="X-Scheme: https",
        TRIAGE_PROXY_COUNT="2",
    )

    assert settings_of(
        production_env,
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_PROXY_SSL_HEADER",
        "TRIAGE_PROXY_COUNT",
    ) == ["False", "3600", "('HTTP_X_SCHEME', 'https')", "2"]


def test_without_a_proxy_header_none_is_trusted(production_env):
    production_env["DJANGO_SECURE_PROXY_SSL_HEADER"] = ""

    assert settings_of(production_env, "SECURE_PROXY_SSL_HEADER") == ["None"]


def test_development_serves_plain_http(client, db):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response
