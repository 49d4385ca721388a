"""`ehc serve`: a small site's Prefect server (UI, SQLite file) and one runner serving every deployment with its
schedule, started by one command and stopped by Ctrl-C."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from cli.main import app

EHC = str(Path(sys.executable).parent / "ehc")
AUTH = "site-admin:not-a-real-secret"


def test_serve_answers_help():
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "Ctrl-C" in result.output and "--dir" in result.output


def test_serve_refuses_a_file_for_its_folder(tmp_path):
    (tmp_path / "taken").write_text("")
    result = CliRunner().invoke(app, ["serve", "--dir", str(tmp_path / "taken")])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"error: --dir: {tmp_path / 'taken'} is a file, not a folder"]


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _until(predicate, timeout: float, what: str, proc: subprocess.Popen, out: Path):
    stop = time.monotonic() + timeout
    while time.monotonic() < stop:
        assert proc.poll() is None, f"ehc serve exited ({proc.returncode}):\n{out.read_text()[-3000:]}"
        try:
            value = predicate()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(0.5)
    raise TimeoutError(f"{what} not within {timeout}s:\n{out.read_text()[-3000:]}")


def test_serve_starts_a_server_and_serves_every_deployment_until_ctrl_c(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "EHC_"))}
    env |= {"PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1", "EHC_DATABASE_URL": f"sqlite:///{tmp_path / 'ehc.db'}",
            "PREFECT_SERVER_API_AUTH_STRING": AUTH}
    out = tmp_path / "serve.out"
    with out.open("wb") as sink:
        proc = subprocess.Popen([EHC, "serve", "--port", str(port), "--dir", str(tmp_path / "site")], env=env,
                                stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    started: list[int] = []
    try:
        _until(lambda: "Ctrl-C stops" in out.read_text(), 150, "the server", proc, out)
        started = _children(proc.pid)
        headers = {"Authorization": "Basic " + base64.b64encode(AUTH.encode()).decode()}

        def deployments() -> dict | None:
            found = httpx.post(f"{api}/deployments/filter", json={}, headers=headers, timeout=5).json()
            names = {d["name"]: d for d in found}
            return names if {"needs-assessment", "deadline-watch", "review-scheduler"} <= set(names) else None

        served = _until(deployments, 60, "the runner's deployments", proc, out)
        assert [s["schedule"]["cron"] for s in served["deadline-watch"]["schedules"]] == ["0 7 * * 1-5"]
        assert {s["schedule"]["timezone"] for d in served.values() for s in d["schedules"]} == {"Europe/London"}
        assert httpx.post(f"{api}/deployments/filter", json={}, timeout=5).status_code == 401
        text = out.read_text()
        assert f"Prefect UI http://127.0.0.1:{port}" in text and "API authentication on" in text
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5, follow_redirects=True).status_code == 200  # the UI

        os.kill(proc.pid, signal.SIGINT)  # Ctrl-C
        assert proc.wait(timeout=60) == 0, out.read_text()[-3000:]
        assert out.read_text().rstrip().endswith("stopped")
        try:
            httpx.get(f"{api}/health", timeout=2)
            raise AssertionError("the Prefect server still answers after ehc serve stopped")
        except httpx.ConnectError:
            pass
    finally:
        if proc.poll() is None:  # a failed test: stop it, and the server it started (ids read before the kill)
            started += _children(proc.pid)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            for pid in started:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
