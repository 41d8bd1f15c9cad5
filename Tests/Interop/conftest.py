"""Fixtures for the plugboard MCP interop suite.

The system under test is `PLUGBOARD_BIN run --config DIR`, spoken to over stdio with the
official MCP Python SDK. With PLUGBOARD_DIRECT=1 the "system under test" is the single
upstream server itself (no proxy), which validates the tests and the demo server; tests
that need a proxy (aggregation, restarts) are skipped in that mode.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEMO_SERVER = ROOT / "contrib" / "demo-server" / "server.mjs"
DOCS_SERVER = ROOT / "contrib" / "demo-docs" / "server.mjs"
VENV_BIN = Path(sys.executable).parent
DIRECT = os.environ.get("PLUGBOARD_DIRECT") == "1"
PLUGBOARD_BIN = os.environ.get("PLUGBOARD_BIN") or str(ROOT / ".build" / "debug" / "plugboard")

#: Per-request read timeout handed to the SDK session (seconds).
READ_TIMEOUT = 15.0
#: Upper bound for a whole test body run under anyio.
TEST_DEADLINE = 30.0

requires_proxy = pytest.mark.skipif(DIRECT, reason="needs plugboard (PLUGBOARD_DIRECT=1 tests the demo server only)")


def pytest_configure(config: pytest.Config) -> None:
    # SDK 2.x flags roots/logging/subscribe as deprecated in 2026-07-28; they are still core in 2025-11-25.
    config.addinivalue_line("filterwarnings", "ignore::mcp.shared.exceptions.MCPDeprecationWarning")
    if getattr(config.option, "timeout", None) is None:
        config.option.timeout = 60  # pytest-timeout backstop per test


def pytest_sessionstart(session: pytest.Session) -> None:
    if not DIRECT and not os.access(PLUGBOARD_BIN, os.X_OK):
        pytest.exit(
            f"PLUGBOARD_BIN={PLUGBOARD_BIN!r} is not an executable; build plugboard first "
            "or run with PLUGBOARD_DIRECT=1 to validate the tests against the demo server",
            returncode=2,
        )


def pytest_report_header(config: pytest.Config) -> str:
    return f"plugboard interop: {'DIRECT (demo server, no proxy)' if DIRECT else PLUGBOARD_BIN}"


# --------------------------------------------------------------------------- upstream specs


@dataclass
class Upstream:
    """One `[servers.<name>]` entry."""

    name: str
    command: str
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


def demo(name: str = "demo", **env: str) -> Upstream:
    return Upstream(name, "node", [str(DEMO_SERVER)], {"DEMO_SERVER_NAME": name, **env})


def docs(name: str = "docs") -> Upstream:
    return Upstream(name, "node", [str(DOCS_SERVER)], {"DEMO_SERVER_NAME": name})


def time_server(name: str = "time") -> Upstream:
    return Upstream(name, str(VENV_BIN / "mcp-server-time"), ["--local-timezone", "UTC"])


def git_server(repo: Path, name: str = "git") -> Upstream:
    return Upstream(name, str(VENV_BIN / "mcp-server-git"), ["--repository", str(repo)])


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def render_config(upstreams: list[Upstream], mode: str = "auto", separator: str = "__", request_timeout: str = "10s") -> str:
    lines = [
        "[expose]",
        f"mode = {_toml_value(mode)}",
        f"separator = {_toml_value(separator)}",
        "",
        "[limits]",
        f"request_timeout = {_toml_value(request_timeout)}",
    ]
    for u in upstreams:
        lines += ["", f"[servers.{u.name}]", f"command = {_toml_value(u.command)}", f"args = {_toml_value(u.args)}"]
        if u.env:
            lines.append(f"env = {_toml_value(u.env)}")
    return "\n".join(lines) + "\n"


class SUT:
    """Builds the command line of the system under test for a set of upstreams."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.stderr_path = tmp_path / "sut-stderr.log"

    def command(self, *upstreams: Upstream, **config: Any) -> tuple[str, list[str], dict[str, str]]:
        if DIRECT:
            if len(upstreams) != 1:
                pytest.skip("aggregation needs plugboard")
            u = upstreams[0]
            return u.command, list(u.args), dict(u.env)
        cfg_dir = self.tmp_path / "config"
        cfg_dir.mkdir(exist_ok=True)
        (cfg_dir / "plugboard.toml").write_text(render_config(list(upstreams), **config))
        return PLUGBOARD_BIN, ["run", "--config", str(cfg_dir)], {}

    def params(self, *upstreams: Upstream, **config: Any) -> StdioServerParameters:
        cmd, args, env = self.command(*upstreams, **config)
        return StdioServerParameters(command=cmd, args=args, env=env or None, cwd=str(self.tmp_path))

    def stderr_text(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    @asynccontextmanager
    async def session(self, *upstreams: Upstream, config: dict[str, Any] | None = None, **session_kwargs: Any):
        """An initialized SDK ClientSession connected to the SUT."""
        params = self.params(*upstreams, **(config or {}))
        with self.stderr_path.open("a") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write, read_timeout_seconds=READ_TIMEOUT, **session_kwargs) as session:
                    with anyio.fail_after(READ_TIMEOUT):
                        await session.initialize()
                    yield session

    def raw(self, *upstreams: Upstream, **config: Any) -> "RawProcess":
        cmd, args, env = self.command(*upstreams, **config)
        return RawProcess([cmd, *args], {**os.environ, **env}, self.tmp_path, self.stderr_path)


@pytest.fixture
def sut(tmp_path: Path, request: pytest.FixtureRequest) -> SUT:
    s = SUT(tmp_path)
    yield s
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        sys.stderr.write(f"\n--- SUT stderr ({s.stderr_path}) ---\n{s.stderr_text()[-4000:]}\n")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    rep = yield
    setattr(item, "rep_" + rep.when, rep)
    return rep


def run(fn, *args: Any, deadline: float = TEST_DEADLINE) -> Any:
    """Run an async test body with a hard deadline."""

    async def bounded():
        with anyio.fail_after(deadline):
            return await fn(*args)

    return anyio.run(bounded)


# --------------------------------------------------------------------------- raw JSON lines


class RawProcess:
    """Speaks newline-delimited JSON-RPC to a subprocess without the SDK."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, stderr_path: Path):
        self._err = stderr_path.open("a")
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err, cwd=cwd, env=env, bufsize=0
        )
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def send_line(self, line: str | bytes) -> None:
        assert self.proc.stdin
        data = line.encode() if isinstance(line, str) else line
        self.proc.stdin.write(data if data.endswith(b"\n") else data + b"\n")
        self.proc.stdin.flush()

    def send(self, msg: dict[str, Any]) -> None:
        self.send_line(json.dumps(msg))

    def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        """Next message (each stdout line must be one JSON object)."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no message within {timeout}s") from None
        if line is None:
            raise EOFError("stdout closed")
        return json.loads(line)

    def recv_response(self, id: Any, timeout: float = 10.0, skip_notifications: bool = True) -> dict[str, Any]:
        """Next response with this id, skipping notifications (and failing on other responses)."""
        deadline = time.monotonic() + timeout
        while True:
            msg = self.recv(max(0.01, deadline - time.monotonic()))
            if "method" in msg and skip_notifications:
                continue
            if msg.get("id") == id:
                return msg
            raise AssertionError(f"unexpected message while waiting for id {id!r}: {msg}")

    def initialize(self, version: str = "2025-11-25", id: Any = 1) -> dict[str, Any]:
        self.send(
            {
                "jsonrpc": "2.0",
                "id": id,
                "method": "initialize",
                "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
            }
        )
        resp = self.recv_response(id)
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return resp

    def close(self) -> int | None:
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            return self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=5)
        finally:
            self._err.close()

    def __enter__(self) -> "RawProcess":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@pytest.fixture
def raw_sut(sut: SUT):
    procs: list[RawProcess] = []

    def start(*upstreams: Upstream, **config: Any) -> RawProcess:
        p = sut.raw(*upstreams, **config)
        procs.append(p)
        return p

    yield start
    for p in procs:
        if p.proc.poll() is None:
            p.close()
