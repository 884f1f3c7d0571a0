"""Docker does not run here, so docker-compose.yml is checked against the Makefile: the
containers must run the very commands `make run` runs."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from cloudfreedom import devserver

ROOT = Path(__file__).resolve().parents[2]


def makefile_targets() -> dict[str, list[str]]:
    targets: dict[str, list[str]] = {}
    current = None
    for line in (ROOT / "Makefile").read_text().splitlines():
        match = re.match(r"^([a-z][a-z-]*):", line)
        if match:
            current = match.group(1)
            targets[current] = []
        elif line.startswith("\t") and current:
            targets[current].append(line.strip())
    return targets


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_five_services_with_healthchecks_and_volumes() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("postgres", "redis", "web"):
        assert "healthcheck" in services[name], name
    assert any("pgdata" in v for v in services["postgres"]["volumes"])
    assert any("redisdata" in v for v in services["redis"]["volumes"])
    for name in ("web", "worker", "beat"):
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_services_run_the_makefile_targets() -> None:
    services = compose()["services"]
    targets = makefile_targets()
    for service, target in [
        ("web", "web"),
        ("worker", "worker"),
        ("beat", "beat"),
        ("migrate", "migrate"),
    ]:
        assert services[service]["command"] == ["make", target]
        assert targets.get(target), f"Makefile lacks target {target}"


def _normalise(command: list[str]) -> list[str]:
    """Drop interpreter paths and the options that differ on purpose (bind address, files)."""
    words = [Path(w).name if "/" in w else w for w in command]
    out: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word in {"--host", "--port", "--schedule"}:
            skip = True
            continue
        out.append(word)
    return out


def test_make_run_starts_the_same_processes_as_the_makefile_targets() -> None:
    targets = makefile_targets()
    started = devserver.process_commands({"PORT": "8000"}, Path("/venv/bin"), Path("/data"))
    for name in ("web", "worker", "beat"):
        make_command = shlex.split(targets[name][0].replace("$(BIN)/", ""))
        assert _normalise(started[name]) == _normalise(make_command), name


def test_the_image_never_copies_local_state_or_secrets() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".venv/", ".data/", ".env", ".git/"):
        assert entry in ignored, entry


def test_the_web_process_runs_the_asgi_lifespan() -> None:
    """Startup opens the pools and shutdown drains background work (cloudfreedom/asgi.py):
    with `--lifespan off` neither ran and SIGTERM lost in-flight usage records."""
    assert "--lifespan on" in makefile_targets()["web"][0]
    web = devserver.process_commands({}, Path("/venv/bin"), Path("/data"))["web"]
    assert web[web.index("--lifespan") + 1] == "on"


def test_the_filesystem_broker_keeps_its_files_under_data(tmp_path: Path) -> None:
    """kombu's default control folder is ./control, which ended up committed."""
    env = {
        **os.environ,
        "REDIS_URL": "",
        "CLOUDFREEDOM_DATA_DIR": str(tmp_path),
        "CLOUDFREEDOM_SECRETS_FILE": str(tmp_path / "secrets.json"),
        "DJANGO_SETTINGS_MODULE": "cloudfreedom.settings.local",
        "PYTHONPATH": str(ROOT),
    }
    code = (
        "import django; django.setup(); from django.conf import settings; import json; "
        "print(json.dumps(settings.CELERY_BROKER_TRANSPORT_OPTIONS))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    folders = json.loads(done.stdout.strip().splitlines()[-1])
    for name in ("data_folder_in", "data_folder_out", "data_folder_processed", "control_folder"):
        assert Path(folders[name]).is_relative_to(tmp_path), name
    tracked = subprocess.run(
        ["git", "ls-files", "control"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    assert tracked == ""
