"""The proxy core as plugboard's supervised child (`[core] isolate = true`), seen by official SDK
clients: a core killed (SIGKILL) or stopped (SIGSTOP) mid-call is replaced; the call it held is
answered with an error; the next call is served; a stdio client stays connected throughout, in
both eras; over Streamable HTTP the port stays the same and a connection made while no core runs
waits in the backlog and is then served.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client, types
from mcp.client.stdio import StdioServerParameters

from conftest import DIRECT, PLUGBOARD_BIN, ServerProcess, MCP_LISTEN_RE, demo, render_config

pytestmark = pytest.mark.skipif(DIRECT, reason="the core's supervision is plugboard's (PLUGBOARD_DIRECT=1 has no proxy)")

MODES = ["2026-07-28", "legacy"]
CALL_TIMEOUT = 15.0


def text_of(result) -> str:
    return "".join(c.text for c in result.content if isinstance(c, types.TextContent))


def write_config(tmp_path: Path, http: bool = False, **core: object) -> Path:
    directory = tmp_path / "config"
    directory.mkdir(exist_ok=True)
    (directory / "plugboard.toml").write_text(
        render_config([demo()], core={"isolate": True, **core}, http={"listen": ["127.0.0.1:0"]} if http else None))
    return directory


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def core_of(config: Path, timeout: float = 10.0) -> int:
    """The core: the plugboard process running `config` whose parent runs it too."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = {pid for pid in map(int, filter(str.isdigit, os.listdir("/proc"))) if f"run --config {config} " in command_line(pid)}
        cores = [pid for pid in runs if any(pid in children(parent) for parent in runs)]
        if len(cores) == 1:
            return cores[0]
        time.sleep(0.05)
    raise AssertionError(f"no single core for {config}")


async def error_of_held_call(client: Client, fault) -> str:
    """Starts a 20 s call, applies `fault` to the core once it is held, returns the error it got."""
    failure: list[str] = []

    async def held():
        try:
            result = await client.call_tool("slow", {"ms": 20_000})
            failure.append(f"answered: {text_of(result)}" if not result.is_error else text_of(result))
        except Exception as error:  # noqa: BLE001 - the error is what the test reads
            failure.append(str(error))

    with anyio.fail_after(CALL_TIMEOUT):
        async with anyio.create_task_group() as group:
            group.start_soon(held)
            await anyio.sleep(0.5)
            await anyio.to_thread.run_sync(fault)
    return failure[0]


@pytest.mark.parametrize("mode", MODES)
def test_stdio_client_stays_connected_through_a_killed_core(tmp_path: Path, mode: str):
    config = write_config(tmp_path)
    params = StdioServerParameters(command=PLUGBOARD_BIN, args=["run", "--config", str(config), "--no-watch"], cwd=str(tmp_path))

    async def body():
        async with Client(params, mode=mode, read_timeout_seconds=CALL_TIMEOUT, cache=None) as client:
            assert text_of(await client.call_tool("echo", {"text": "before"})) == "before"
            first = core_of(config)
            error = await error_of_held_call(client, lambda: os.kill(first, signal.SIGKILL))
            assert "core stopped while serving tools/call" in error, error
            with anyio.fail_after(CALL_TIMEOUT):
                assert text_of(await client.call_tool("echo", {"text": "after"})) == "after"
            assert core_of(config) != first

    anyio.run(body)


@pytest.mark.parametrize("mode", MODES)
def test_stdio_client_stays_connected_through_a_stopped_core(tmp_path: Path, mode: str):
    config = write_config(tmp_path, health_check_interval="200ms", health_check_timeout="1s")
    params = StdioServerParameters(command=PLUGBOARD_BIN, args=["run", "--config", str(config), "--no-watch"], cwd=str(tmp_path))

    async def body():
        async with Client(params, mode=mode, read_timeout_seconds=CALL_TIMEOUT, cache=None) as client:
            first = core_of(config)
            started = time.monotonic()
            error = await error_of_held_call(client, lambda: os.kill(first, signal.SIGSTOP))
            assert "health check" in error, error
            assert time.monotonic() - started < 5, "a stopped core is found out within its health-check deadline"
            with anyio.fail_after(CALL_TIMEOUT):
                assert text_of(await client.call_tool("echo", {"text": "after"})) == "after"

    anyio.run(body)


@pytest.mark.parametrize("mode", MODES)
def test_http_clients_reach_the_new_core_on_the_same_port(tmp_path: Path, mode: str):
    """The outer process holds the listening socket: a connection made while no core runs (a
    1 s restart backoff here) waits in the backlog and is served by the next core."""
    config = write_config(tmp_path, http=True, restart_backoff_initial="1s")
    server = ServerProcess(
        [PLUGBOARD_BIN, "run", "--config", str(config), "--no-watch"], env=dict(os.environ), cwd=tmp_path,
        log_path=tmp_path / "plugboard.log", patterns={"url": MCP_LISTEN_RE})
    try:
        url = server.wait_for("url")

        async def body():
            async with Client(url, mode=mode, read_timeout_seconds=CALL_TIMEOUT, cache=None) as client:
                assert text_of(await client.call_tool("echo", {"text": "before"})) == "before"
            first = core_of(config)
            os.kill(first, signal.SIGKILL)
            killed = time.monotonic()
            with anyio.fail_after(CALL_TIMEOUT):
                async with Client(url, mode=mode, read_timeout_seconds=CALL_TIMEOUT, cache=None) as client:
                    assert text_of(await client.call_tool("echo", {"text": "after"})) == "after"
            waited = time.monotonic() - killed
            assert waited >= 0.9, f"served after {waited:.2f} s: before the new core could have started"
            assert core_of(config) != first

        anyio.run(body)
        assert server.proc.poll() is None, "plugboard itself kept running"
    finally:
        assert server.stop() == 0, server.log_text()[-3000:]
