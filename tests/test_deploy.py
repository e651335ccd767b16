"""Static checks of the container deployment, which no test here can run (no container engine).

The Dockerfile and docker-compose.yml repeat names that live in Python: CLI commands, settings
fields, health routes, the package's extras and build inputs. These tests read both files and hold
every such name against the code, so a renamed command or setting breaks a test, not a deployment.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
EXCHANGE_SERVICES = ("migrate", "hub", "worker")
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - inside a container the hub must listen beyond loopback


@cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def service(name: str) -> dict[str, Any]:
    svc = compose()["services"][name]
    assert isinstance(svc, dict)
    return svc


@cache
def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """Instructions as (KEYWORD, arguments) per build stage, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    stages: list[list[tuple[str, str]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        assert stages, "Dockerfile must start with FROM"
        stages[-1].append((keyword.upper(), " ".join(args.split())))
    return stages


def exec_form(args: str) -> list[str]:
    return list(json.loads(args)) if args.startswith("[") else shlex.split(args)


def exchange_commands() -> list[list[str]]:
    """Every `exchange ...` invocation the deployment files run or tell a reader to run."""
    commands: list[list[str]] = []
    for name in EXCHANGE_SERVICES:
        commands.append(exec_form(json.dumps(service(name)["command"])))
    for stage in dockerfile_stages():
        commands += [exec_form(args) for keyword, args in stage if keyword in ("CMD", "ENTRYPOINT")]
    for path in (COMPOSE, DOCKERFILE):
        commands += [shlex.split(m) for m in re.findall(r"`(exchange(?: [^`]*)?)`", path.read_text("utf-8"))]
    unique = {tuple(c): c for c in commands if c and c[0] == "exchange"}
    return list(unique.values())


def test_compose_services_exist() -> None:
    assert set(compose()["services"]) >= {"db", "mail", "migrate", "hub", "worker"}


def test_db_is_postgres_16_with_healthcheck_and_named_volume() -> None:
    db = service("db")
    assert db["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose()["volumes"]


def test_mail_catcher_receives_the_smtp_url() -> None:
    assert "mailpit" in service("mail")["image"]
    smtp = make_url(compose()["x-exchange-env"]["EXCHANGE_SMTP_URL"].replace("smtp://", "smtp+x://", 1))
    assert (smtp.host, smtp.port) == ("mail", 1025)


def test_exchange_services_share_one_image_and_the_env_anchor() -> None:
    assert "x-exchange-env: &exchange-env" in COMPOSE.read_text(encoding="utf-8")
    env = compose()["x-exchange-env"]
    images = {service(name)["image"] for name in EXCHANGE_SERVICES}
    assert len(images) == 1
    for name in EXCHANGE_SERVICES:
        assert service(name)["environment"] == env, name
        assert service(name)["build"] == "."


def test_startup_order() -> None:
    assert service("migrate")["depends_on"]["db"]["condition"] == "service_healthy"
    assert service("migrate")["restart"] == "no"
    for name in ("hub", "worker"):
        deps = service(name)["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully", name
        assert deps["db"]["condition"] == "service_healthy", name


def test_hub_serves_on_port_8000_on_all_interfaces() -> None:
    hub = service("hub")
    assert hub["command"][:6] == ["exchange", "serve", "--host", ALL_INTERFACES, "--port", "8000"]
    assert hub["command"][6:] == ["--workers", "2"]  # PostgreSQL: several processes share the writes
    assert "8000:8000" in hub["ports"]


def test_hub_healthcheck_uses_python_not_curl() -> None:
    test = service("hub")["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    assert "urllib.request" in test[3]
    assert "127.0.0.1:8000/readyz" in test[3]


def test_database_url_uses_psycopg_and_matches_the_db_service() -> None:
    url = make_url(compose()["x-exchange-env"]["EXCHANGE_DATABASE_URL"])
    db_env = service("db")["environment"]
    assert url.drivername == "postgresql+psycopg"
    assert (url.host, url.port) == ("db", 5432)
    assert url.username == db_env["POSTGRES_USER"]
    assert url.password == db_env["POSTGRES_PASSWORD"]
    assert url.database == db_env["POSTGRES_DB"]


def test_every_exchange_variable_is_a_settings_field() -> None:
    from exchange.core.settings import Settings

    prefix = Settings.model_config.get("env_prefix", "")
    assert prefix == "EXCHANGE_"
    known = {f"{prefix}{name}".upper() for name in Settings.model_fields}
    used = set()
    for path in (COMPOSE, DOCKERFILE):
        used |= set(re.findall(r"\bEXCHANGE_[A-Z0-9_]+\b", path.read_text(encoding="utf-8")))
    assert used, "expected the deployment to configure Exchange"
    assert used <= known, sorted(used - known)


@pytest.mark.parametrize("command", exchange_commands(), ids=" ".join)
def test_every_exchange_command_exists(command: list[str]) -> None:
    from typer.testing import CliRunner

    from exchange.cli import app

    result = CliRunner().invoke(app, [*command[1:], "--help"])
    assert result.exit_code == 0, result.output


def test_the_deployment_runs_all_three_roles() -> None:
    commands = {" ".join(c[:3]) for c in exchange_commands()}
    assert {"exchange db upgrade", "exchange worker"} <= commands
    assert any(c.startswith("exchange serve") for c in commands)


def test_console_script_target_exists() -> None:
    import importlib

    target = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]["exchange"]
    module, _, attr = target.partition(":")
    assert callable(getattr(importlib.import_module(module), attr))


def test_health_paths_are_app_routes() -> None:
    from exchange.app import create_app
    from exchange.core.settings import Settings

    app = create_app(Settings(database_url="sqlite://"))
    paths = {getattr(route, "path", None) for route in app.routes}
    probe = service("hub")["healthcheck"]["test"][3]
    match = re.search(r"https?://[^/'\"]+(/[^'\"?\s]*)", probe)
    assert match
    assert match.group(1) in paths
    assert {"/healthz", "/readyz"} <= paths


def test_dockerfile_base_images_are_python_311_or_newer() -> None:
    froms = [args.split() for stage in dockerfile_stages() for kw, args in stage if kw == "FROM"]
    stage_names = {words[2] for words in froms if len(words) == 3 and words[1].upper() == "AS"}
    assert froms
    for base in (words[0] for words in froms if words[0] not in stage_names):
        match = re.fullmatch(r"python:(\d+)\.(\d+)(?:[.\-][\w.\-]*)?", base)
        assert match, base
        assert (int(match.group(1)), int(match.group(2))) >= (3, 11), base


def test_dockerfile_installs_the_postgres_extra() -> None:
    runs = " ".join(args for stage in dockerfile_stages() for kw, args in stage if kw == "RUN")
    match = re.search(r"pip install [^&;]*?[\"']?\.\[([\w,\- ]+)\]", runs)
    assert match, runs
    assert "postgres" in {e.strip() for e in match.group(1).split(",")}


def test_dockerfile_runs_as_non_root() -> None:
    final = dockerfile_stages()[-1]
    users = [args for kw, args in final if kw == "USER"]
    assert users, "final stage must switch to a non-root USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def wheel_inputs() -> list[str]:
    """What hatchling reads to build the wheel: pyproject, the readme, packages and forced includes."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    return [
        "pyproject.toml",
        project["project"]["readme"],
        *wheel["packages"],
        *wheel.get("force-include", {}),
    ]


def test_dockerfile_copies_every_wheel_input() -> None:
    copied: set[str] = set()
    for kw, args in dockerfile_stages()[0]:
        if kw == "COPY" and "--from" not in args:
            copied |= {Path(src).as_posix().rstrip("/") for src in exec_form(args)[:-1]}
    for needed in wheel_inputs():
        assert (ROOT / needed).exists(), needed
        assert needed in copied or "." in copied, needed


def _ignored(path: str, patterns: list[str]) -> bool:
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        pat = pattern.lstrip("/").removeprefix("**/")
        anywhere = pattern.startswith("**/")
        for candidate in candidates:
            tails = ["/".join(candidate.split("/")[i:]) for i in range(candidate.count("/") + 1)]
            if any(fnmatch.fnmatch(t, pat) for t in (tails if anywhere else [candidate])):
                return True
    return False


def test_dockerignore_keeps_every_wheel_input() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text("utf-8").splitlines()
        if line.strip() and not line.startswith(("#", "!"))
    ]
    for needed in wheel_inputs():
        root = ROOT / needed
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for file in files:
            rel = file.relative_to(ROOT).as_posix()
            if "__pycache__" in rel or rel.endswith(".pyc"):
                continue
            assert not _ignored(rel, patterns), rel
    assert _ignored(".env", patterns)
    assert _ignored(".git/config", patterns)
