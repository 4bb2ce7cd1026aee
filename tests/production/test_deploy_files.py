"""The deployment files hold together: compose.yaml (not run here: no Docker engine), the Dockerfile, the
systemd units, the environment example and the nginx example. Every variable they set is one the
settings read, and the example environment passes `check --deploy`."""

from __future__ import annotations

import configparser
import re

import pytest
import yaml

from .helpers import REPO, SANE, child_env, taizhang

SETTINGS_SOURCE = (REPO / "taizhang" / "settings.py").read_text()
# Read by something else than taizhang/settings.py: Django itself, prometheus_client, the scheduler's name.
OTHER_READERS = {"DJANGO_SETTINGS_MODULE", "PROMETHEUS_MULTIPROC_DIR", "TAIZHANG_WORKER_NAME"}


def read_by_settings(name: str) -> bool:
    return name in OTHER_READERS or f'"{name}"' in SETTINGS_SOURCE


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "compose.yaml").read_text())


def test_compose_starts_database_app_worker_and_broker(compose):
    services = compose["services"]
    assert set(services) == {"db", "app", "worker", "broker"}
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        assert service.get("restart") == "unless-stopped", name
    assert services["db"]["image"].startswith("postgres:") and "healthcheck" in services["db"]
    assert services["broker"]["image"].startswith("eclipse-mosquitto:")
    app, worker = services["app"], services["worker"]
    assert app["build"] == "." and worker["image"] == app["image"]  # one image, two commands
    assert app["command"][:2] == ["taizhang", "serve"] and "--migrate" in app["command"]
    assert worker["command"] == ["taizhang", "worker"]
    assert "/readyz" in " ".join(app["healthcheck"]["test"])
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert worker["depends_on"]["app"]["condition"] == "service_healthy"  # migrations applied first
    assert app["ports"] == ["127.0.0.1:8000:8000"]  # for nginx on the host, not the world


def test_compose_volumes_are_declared_and_the_broker_config_exists(compose):
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), (name, source)
            else:
                assert source in declared, (name, source)
    assert (REPO / "deploy" / "mosquitto" / "mosquitto.conf").read_text().count("allow_anonymous false") == 1


def test_compose_sets_only_variables_the_settings_read_and_needs_its_secrets(compose):
    for name in ("app", "worker"):
        env = compose["services"][name]["environment"]
        assert env["TAIZHANG_ENV"] == "production"
        unknown = [key for key in env if not read_by_settings(key) and key != "DATABASE_URL"]
        assert not unknown, unknown
    text = (REPO / "compose.yaml").read_text()
    for required in ("TAIZHANG_SECRET_KEY", "POSTGRES_PASSWORD", "TAIZHANG_ALLOWED_HOSTS"):
        assert re.search(r"\$\{" + required + r":\?", text), f"{required} must be given, not defaulted"


def test_dockerfile_builds_from_python_slim_with_cjk_fonts_and_pango():
    text = (REPO / "Dockerfile").read_text()
    assert text.splitlines()[2] == "FROM python:3.11-slim"
    assert "fonts-noto-cjk" in text and "libpango-1.0-0" in text
    assert "collectstatic" in text and "USER taizhang" in text
    assert 'CMD ["taizhang", "serve"' in text
    for name in set(re.findall(r"\b(TAIZHANG_[A-Z_]+)=", text)):
        assert read_by_settings(name), name


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((REPO / "deploy" / "systemd" / name).read_text())
    return parser


@pytest.mark.parametrize(
    ("name", "command"), [("taizhang-web.service", "serve"), ("taizhang-worker.service", "worker")]
)
def test_systemd_units(name, command):
    service = unit(name)["Service"]
    assert service["EnvironmentFile"] == "/etc/taizhang/taizhang.env"
    assert service["ExecStart"] == f"/opt/taizhang/.venv/bin/taizhang {command}"
    assert service["User"] == "taizhang" and service["KillSignal"] == "SIGTERM"
    assert service["Restart"] in ("on-failure", "always")
    assert unit(name)["Install"]["WantedBy"] == "multi-user.target"


def example_env() -> dict[str, str]:
    env = {}
    for line in (REPO / "deploy" / "taizhang.env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def test_env_example_names_only_real_settings_and_passes_the_deploy_check():
    env = example_env()
    assert all(read_by_settings(key) or key == "DATABASE_URL" for key in env), env
    commented = re.findall(
        r"^# (TAIZHANG_[A-Z_]+)=", (REPO / "deploy" / "taizhang.env.example").read_text(), re.M
    )
    assert all(read_by_settings(key) for key in commented), commented
    assert env["TAIZHANG_SECRET_KEY"] == "change-me"  # refused as is …
    refused = taizhang(["check"], child_env({**env, "DATABASE_URL": SANE["DATABASE_URL"]}))
    assert refused.returncode != 0 and "TAIZHANG_SECRET_KEY has 9 characters" in refused.stderr
    env.update(TAIZHANG_SECRET_KEY=SANE["TAIZHANG_SECRET_KEY"], DATABASE_URL=SANE["DATABASE_URL"])
    proc = taizhang(["check", "--deploy", "--fail-level", "WARNING"], child_env(env))  # … and fine with a key
    assert proc.returncode == 0, proc.stderr


def test_nginx_example_passes_what_the_app_trusts_and_protects_media():
    text = (REPO / "deploy" / "nginx.conf").read_text()
    for line in (
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Request-ID $request_id;",
        "location = /metrics { return 404; }",
    ):
        assert line in text, line
    protected = re.search(r"location /protected/ \{(.*?)\}", text, re.S)
    assert (
        protected
        and "internal;" in protected.group(1)
        and "alias /var/lib/taizhang/media/;" in protected.group(1)
    )
    assert example_env()["TAIZHANG_PROXY_SSL_HEADER"] == "X-Forwarded-Proto: https"
