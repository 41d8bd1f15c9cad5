"""plugboard between protocol eras: MCP 2026-07-28 ("modern") beside the initialize handshake ("legacy").

Sections:
  * the 3x3 era matrix, over plugboard's stdio frontend and its Streamable HTTP frontend:
    clients  legacy = SDK 1.x (`fixtures/legacy_client.py` in .venv-legacy, prints JSON),
             dual   = SDK 2.x `Client(mode="auto")`, modern = SDK 2.x `Client(mode="2026-07-28")`;
    servers  legacy = fixtures/legacy_server.py (SDK 1.x), dual / modern = fixtures/modern_server.py
             --era dual / --era modern, as stdio children of plugboard (and once per client and
             server era as HTTP upstreams behind the HTTP frontend).
    Every cell checks tools/list, echo, resources/read, prompts/get, an elicitation and a sampling
    round trip, progress, the tools list-changed notification after add_tool and 20 concurrent calls.
  * raw modern requests against a legacy upstream: plugboard's signed requestState (tampered,
    correct, replayed, bound to other arguments, expired by [limits] input_timeout)
  * raw HTTP rules of the modern frontend (headers, versions, status codes, server/discover)
  * plugboard's list cache in front of a modern server's public ttlMs

Each cell logs the lines between the client and plugboard (stdio frontend) and between plugboard
and its stdio upstream through fixtures/wire_tee.py; a failure report shows them with plugboard's
stderr (debug level).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, types
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from conftest import (
    DEMO_HTTP_LISTEN_RE,
    DIRECT,
    HERE,
    MCP_LISTEN_RE,
    PLUGBOARD_BIN,
    ROOT,
    MCPConnection,
    RawProcess,
    ServerProcess,
    _toml_value,
    http_get,
)

pytestmark = pytest.mark.skipif(DIRECT, reason="the era bridge is plugboard's (PLUGBOARD_DIRECT=1 has no proxy)")

FIXTURES = HERE / "fixtures"
PY2 = sys.executable  # .venv: mcp 2.x
PY1 = str(ROOT / ".venv-legacy" / "bin" / "python")  # mcp 1.x
MODERN = "2026-07-28"
LEGACY = "2025-11-25"
#: Seconds per check (each request, each notification awaited).
CHECK_TIMEOUT = 10.0
#: Seconds for a whole matrix cell.
CELL_DEADLINE = 45.0
CONCURRENT = 20
BASE_TOOLS = {"echo", "ask_name", "ask_llm", "slow", "add_tool"}
CLIENT_INFO = {"name": "raw-eras", "version": "0"}


def modern_meta(version: str = MODERN, capabilities: dict[str, Any] | None = None) -> dict[str, Any]:
    """The per-request `_meta` envelope of a 2026-07-28 client."""
    return {
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
        "io.modelcontextprotocol/clientCapabilities": (
            {"sampling": {}, "elicitation": {"form": {}}} if capabilities is None else capabilities
        ),
    }


def server_command(era: str, transport: str = "stdio") -> list[str]:
    if era == "legacy":
        argv = [PY1, str(FIXTURES / "legacy_server.py")]
    else:
        argv = [PY2, str(FIXTURES / "modern_server.py"), "--era", era]
    return argv + (["--transport", "http", "--port", "0"] if transport == "http" else [])


# --------------------------------------------------------------------------- the system under test


class Eras:
    """plugboard with one upstream (`up`), its config, its processes and its logs, for one test."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.stderr_path = tmp_path / "sut-stderr.log"
        self.client_wire = tmp_path / "wire-client.log"
        self.upstream_wire = tmp_path / "wire-upstream.log"
        self.servers: list[ServerProcess] = []
        self.raws: list[RawProcess] = []
        self.sut_http: ServerProcess | None = None

    # ---- config

    def upstream(self, era: str, transport: str = "stdio", protocol: str | None = None) -> dict[str, Any]:
        """A `[servers.up]` table; an HTTP upstream is started here (its log: upstream-http.log)."""
        table: dict[str, Any] = {}
        if transport == "http":
            server = ServerProcess(
                server_command(era, "http"), env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=self.tmp,
                log_path=self.tmp / "upstream-http.log", patterns={"url": DEMO_HTTP_LISTEN_RE},
            )
            self.servers.append(server)
            table["url"] = server.wait_for("url", timeout=20)
        else:
            argv = [PY2, str(FIXTURES / "wire_tee.py"), str(self.upstream_wire), "--", *server_command(era)]
            table["command"], table["args"] = argv[0], argv[1:]
        if protocol:
            table["protocol"] = protocol
        return table

    def config(self, server: dict[str, Any], *, http: bool = False, limits: dict[str, Any] | None = None) -> Path:
        lines = ["[log]", 'level = "debug"', "", "[limits]", 'request_timeout = "10s"']
        lines += [f"{k} = {_toml_value(v)}" for k, v in (limits or {}).items()]
        if http:
            lines += ["", "[http]", 'listen = ["127.0.0.1:0"]']
        lines += ["", "[servers.up]", *(f"{k} = {_toml_value(v)}" for k, v in server.items())]
        cfg = self.tmp / "config"
        cfg.mkdir(exist_ok=True)
        (cfg / "plugboard.toml").write_text("\n".join(lines) + "\n")
        return cfg

    # ---- frontends

    def stdio_argv(self, cfg: Path) -> list[str]:
        """plugboard on stdio, behind a tee that logs the client side."""
        return [PY2, str(FIXTURES / "wire_tee.py"), str(self.client_wire), "--", PLUGBOARD_BIN, "run", "--config", str(cfg), "--no-watch"]

    def start_http(self, cfg: Path) -> str:
        """plugboard with its HTTP frontend; returns the MCP endpoint URL."""
        assert self.sut_http is None
        self.sut_http = ServerProcess(
            [PLUGBOARD_BIN, "run", "--config", str(cfg), "--no-watch"], env=dict(os.environ), cwd=self.tmp,
            log_path=self.stderr_path, patterns={"url": MCP_LISTEN_RE},
        )
        return self.sut_http.wait_for("url", timeout=20)

    def raw_stdio(self, cfg: Path) -> RawProcess:
        raw = RawProcess([PLUGBOARD_BIN, "run", "--config", str(cfg), "--no-watch"], dict(os.environ), self.tmp, self.stderr_path)
        self.raws.append(raw)
        return raw

    def wait_probed(self, url: str, timeout: float = 15.0) -> None:
        """Until plugboard knows its upstream's era (its probe is over), plus a moment for what follows it."""
        deadline = time.monotonic() + timeout
        while self.status(url)["upstreams"]["up"]["phase"] == "probing":
            assert time.monotonic() < deadline, f"upstream still probing after {timeout}s"
            time.sleep(0.02)
        time.sleep(0.2)

    def status(self, url: str) -> dict[str, Any]:
        """`proxy` of the HTTP listener's /status."""
        reply = http_get(url.rsplit("/", 1)[0] + "/status")
        assert reply.status == 200, reply
        return reply.json()["proxy"]

    # ---- teardown and reports

    def close(self) -> None:
        for raw in self.raws:
            if raw.proc.poll() is None:
                raw.close()
        if self.sut_http:
            self.sut_http.stop()
        for server in self.servers:
            server.stop()

    @staticmethod
    def _tail(path: Path, limit: int) -> str:
        try:
            text = path.read_text(errors="replace")
        except FileNotFoundError:
            return "(none)"
        return text if len(text) <= limit else "…" + text[-limit:]

    @staticmethod
    def _wire(path: Path, limit: int) -> str:
        """A wire log from its start: the 20 concurrent echo calls left out, long lines clipped."""
        try:
            lines = path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(none)"
        kept, size = [], 0
        for line in lines:
            if re.search(r'"text":\s*"c\d+"', line):
                continue
            line = line if len(line) <= 700 else line[:700] + "…"
            if size + len(line) > limit:
                kept.append(f"… ({len(lines)} lines in all)")
                break
            kept.append(line)
            size += len(line) + 1
        return "\n".join(kept)

    def report(self, limit: int = 12000) -> str:
        parts = [
            f"--- plugboard stderr ({self.stderr_path}) ---\n{self._tail(self.stderr_path, 6000)}",
            f"--- client <-> plugboard ({self.client_wire}) ---\n{self._wire(self.client_wire, limit)}",
            f"--- plugboard <-> upstream ({self.upstream_wire}) ---\n{self._wire(self.upstream_wire, limit)}",
        ]
        if (self.tmp / "upstream-http.log").exists():
            parts.append(f"--- HTTP upstream log ---\n{self._tail(self.tmp / 'upstream-http.log', 2000)}")
        return "\n".join(parts)

    def wire_lines(self, direction: str) -> list[dict[str, Any]]:
        """The JSON messages the upstream tee logged in one direction ("C->S": plugboard to upstream)."""
        out = []
        for line in self._tail(self.upstream_wire, 10**9).splitlines():
            parts = line.lstrip().split(" ", 2)
            if len(parts) == 3 and parts[1] == direction and parts[2].startswith("{"):
                try:
                    out.append(json.loads(parts[2]))
                except ValueError:
                    pass
        return out


@pytest.fixture
def eras(tmp_path: Path):
    e = Eras(tmp_path)
    yield e
    e.close()


# --------------------------------------------------------------------------- the SDK 2.x client's checks


async def on_elicit(ctx, params):
    return types.ElicitResult(action="accept", content={"name": "Ada"})


async def on_sample(ctx, params):
    return types.CreateMessageResult(
        role="assistant", content=types.TextContent(type="text", text="forty-two"), model="fake-model", stop_reason="endTurn"
    )


def text_of(result) -> str:
    return "".join(c.text for c in result.content if isinstance(c, types.TextContent))


def describe(e: BaseException) -> str:
    while isinstance(e, BaseExceptionGroup) and len(e.exceptions) == 1:
        e = e.exceptions[0]
    err = getattr(e, "error", None)
    extra = f" (code {err.code}, data {err.data!r})" if err is not None and hasattr(err, "code") else ""
    return f"{type(e).__name__}: {e}{extra}"


async def sdk2_observe(target: Any, mode: str, out: dict[str, Any]) -> None:
    """The matrix checks with the SDK 2.x client (the same observations as fixtures/legacy_client.py)."""
    errors: dict[str, str] = out.setdefault("errors", {})
    notes: list[str] = []
    changed = anyio.Event()

    async def handler(message) -> None:
        if isinstance(message, Exception):
            notes.append(f"exception: {describe(message)}")
            return
        method = getattr(message, "method", None)
        notes.append(str(method))
        if method == "notifications/tools/list_changed":
            changed.set()

    async def check(name: str, fn) -> None:
        t0 = time.monotonic()
        try:
            with anyio.fail_after(CHECK_TIMEOUT):
                out[name] = await fn()
        except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the others
            errors[name] = describe(e)
        out.setdefault("seconds", {})[name] = round(time.monotonic() - t0, 3)

    client = Client(
        target, mode=mode, read_timeout_seconds=CHECK_TIMEOUT, elicitation_callback=on_elicit, sampling_callback=on_sample,
        message_handler=handler, cache=None,
    )
    async with client as c:
        out["protocolVersion"] = c.protocol_version
        out["era"] = "modern" if c.protocol_version in MODERN_PROTOCOL_VERSIONS else "legacy"
        out["serverName"] = c.server_info.name if c.server_info else None

        async def tools():
            return sorted(t.name for t in (await c.list_tools()).tools)

        async def echo():
            return text_of(await c.call_tool("echo", {"text": "hi there"}))

        async def resource():
            return (await c.read_resource("mem://note")).contents[0].text

        async def prompt():
            return (await c.get_prompt("greet", {"name": "Bob"})).messages[0].content.text

        async def ask_name():
            return text_of(await c.call_tool("ask_name", {}))

        async def ask_llm():
            return text_of(await c.call_tool("ask_llm", {"question": "6*7?"}))

        async def slow():
            seen: list[float] = []

            async def on_progress(progress, total, message):
                seen.append(progress)

            result = await c.call_tool("slow", {"steps": 3}, progress_callback=on_progress)
            out["progress"] = seen
            return text_of(result)

        async def list_changed():
            if out["era"] == "modern":
                async with c.listen(tools_list_changed=True) as sub:
                    await c.call_tool("add_tool", {})
                    with anyio.fail_after(5):
                        event = await sub.__anext__()
                    out["listen_event"] = type(event).__name__
                    return type(event).__name__ == "ToolsListChanged"
            await c.call_tool("add_tool", {})
            with anyio.fail_after(5):
                await changed.wait()
            return True

        async def extra():
            return text_of(await c.call_tool("extra", {}))

        async def concurrent():
            answers: list[str | None] = [None] * CONCURRENT

            async def one(i: int) -> None:
                answers[i] = text_of(await c.call_tool("echo", {"text": f"c{i}"}))

            async with anyio.create_task_group() as tg:
                for i in range(CONCURRENT):
                    tg.start_soon(one, i)
            return answers

        for name, fn in [
            ("tools", tools), ("echo", echo), ("resource", resource), ("prompt", prompt), ("ask_name", ask_name),
            ("ask_llm", ask_llm), ("slow", slow), ("list_changed", list_changed), ("extra", extra), ("concurrent", concurrent),
        ]:
            await check(name, fn)
        out["notifications"] = notes


def run_sdk2(target_factory, mode: str) -> dict[str, Any]:
    out: dict[str, Any] = {"errors": {}}

    async def body():
        with anyio.fail_after(CELL_DEADLINE):
            await sdk2_observe(target_factory(), mode, out)

    try:
        anyio.run(body)
    except BaseException as e:  # noqa: BLE001 - reported with the observations
        out["errors"]["session"] = describe(e)
    return out


def run_sdk1(*args: str) -> dict[str, Any]:
    """fixtures/legacy_client.py (SDK 1.x) with these arguments; its JSON observations."""
    argv = [PY1, str(FIXTURES / "legacy_client.py"), "--timeout", str(CHECK_TIMEOUT), *args]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=CELL_DEADLINE)
    except subprocess.TimeoutExpired as e:
        return {"errors": {"session": f"legacy_client.py did not finish within {CELL_DEADLINE}s"}, "stderr": str(e.stderr)[-2000:]}
    lines = done.stdout.strip().splitlines()
    try:
        out = json.loads(lines[-1])
    except (IndexError, ValueError):
        return {"errors": {"session": f"legacy_client.py exited {done.returncode} without JSON"}, "stderr": done.stderr[-3000:]}
    if out["errors"]:
        out["stderr"] = done.stderr[-3000:]
    return out


def problems(obs: dict[str, Any], client: str) -> list[str]:
    """What is wrong with one cell's observations."""
    found = [f"{name}: {err}" for name, err in obs.get("errors", {}).items()]
    errors = obs.get("errors", {})

    def expect(key: str, want: Any) -> None:
        if key not in errors and "session" not in errors and obs.get(key) != want:
            found.append(f"{key}: got {obs.get(key)!r}, want {want!r}")

    if "tools" not in errors and "session" not in errors and not BASE_TOOLS <= set(obs.get("tools") or []):
        found.append(f"tools: got {obs.get('tools')!r}, want at least {sorted(BASE_TOOLS)}")
    expect("echo", "hi there")
    expect("resource", "a note")
    expect("prompt", "Hello, Bob!")
    expect("ask_name", "hello Ada")
    expect("ask_llm", "llm said: forty-two")
    expect("slow", "done 3")
    if "slow" not in errors and "session" not in errors:
        expect("progress", [1, 2, 3])
    expect("list_changed", True)
    expect("extra", "extra")
    expect("concurrent", [f"c{i}" for i in range(CONCURRENT)])
    if "session" not in errors:
        want_era = {"legacy": "legacy", "modern": "modern"}.get(client)
        if want_era and obs.get("era") != want_era:
            found.append(f"era: got {obs.get('era')!r}, want {want_era!r}")
        if client == "legacy" and obs.get("protocolVersion") != LEGACY:
            found.append(f"protocolVersion: got {obs.get('protocolVersion')!r}, want {LEGACY!r}")
    for dropped in obs.get("dropped") or []:
        found.append(f"the 1.x client got a message it could not validate (and dropped): {dropped}")
    return found


# --------------------------------------------------------------------------- the matrix

CLIENTS = {"legacy": None, "dual": "auto", "modern": MODERN}
SERVERS = ["legacy", "dual", "modern"]
CELLS = [
    pytest.param(client, server, frontend, "stdio", id=f"{client}-client/{server}-server/{frontend}-frontend")
    for frontend in ("stdio", "http")
    for server in SERVERS
    for client in CLIENTS
] + [
    pytest.param(client, server, "http", "http", id=f"{client}-client/{server}-server-over-http/http-frontend")
    for server in SERVERS
    for client in CLIENTS
]


@pytest.mark.parametrize("client,server,frontend,upstream_transport", CELLS)
def test_era_matrix(eras: Eras, client: str, server: str, frontend: str, upstream_transport: str):
    cfg = eras.config(eras.upstream(server, upstream_transport), http=frontend == "http")
    t0 = time.monotonic()
    if frontend == "stdio":
        argv = eras.stdio_argv(cfg)
        if client == "legacy":
            obs = run_sdk1("--stdio", json.dumps(argv), "--errlog", str(eras.stderr_path))
        else:
            with eras.stderr_path.open("a") as errlog:
                params = StdioServerParameters(command=argv[0], args=argv[1:], cwd=str(eras.tmp))
                obs = run_sdk2(lambda: stdio_client(params, errlog=errlog), CLIENTS[client])
    else:
        url = eras.start_http(cfg)
        # The steady state: the upstream's era is known before the client arrives. (Over stdio
        # the client is always there first: it starts plugboard.)
        eras.wait_probed(url)
        obs = run_sdk1("--url", url) if client == "legacy" else run_sdk2(lambda: url, CLIENTS[client])
    elapsed = time.monotonic() - t0
    print(f"\n{client} client -> {server} server ({upstream_transport}) via {frontend}: era {obs.get('era')} "
          f"protocol {obs.get('protocolVersion')} in {elapsed:.1f}s")
    found = problems(obs, client)
    if found:
        eras.close()  # flush the logs
        shown = {k: v for k, v in obs.items() if k not in ("stderr",)}
        pytest.fail(
            f"{client} client -> plugboard ({frontend}) -> {server} server ({upstream_transport}):\n  "
            + "\n  ".join(found)
            + f"\nobservations: {json.dumps(shown, indent=None)[:3000]}\n"
            + (f"client stderr: {obs['stderr']}\n" if obs.get("stderr") else "")
            + eras.report(),
            pytrace=False,
        )


# --------------------------------------------------------------------------- raw modern requests


class RawModern:
    """Modern (2026-07-28) JSON-RPC by hand, over plugboard's stdio or its HTTP frontend.

    `request()` returns (HTTP status or None on stdio, the response message)."""

    def __init__(self, eras: Eras, frontend: str, cfg: Path):
        self.frontend = frontend
        self.ids = iter(range(1, 1 << 30))
        if frontend == "stdio":
            self.raw = eras.raw_stdio(cfg)
            self.url = None
        else:
            self.url = eras.start_http(cfg)
            self.conn = MCPConnection(self.url)

    def request(self, method: str, params: dict[str, Any] | None = None, *, meta: dict[str, Any] | None = None,
                headers: dict[str, str | None] | None = None) -> tuple[int | None, dict[str, Any]]:
        params = dict(params or {})
        params["_meta"] = modern_meta() if meta is None else meta
        msg = {"jsonrpc": "2.0", "id": next(self.ids), "method": method, "params": params}
        if self.frontend == "stdio":
            self.raw.send(msg)
            return None, self.raw.recv_response(msg["id"], timeout=CHECK_TIMEOUT)
        h: dict[str, str | None] = {"MCP-Protocol-Version": MODERN, "Mcp-Method": method}
        name = params.get("uri") if method == "resources/read" else params.get("name")
        if method in ("tools/call", "prompts/get", "resources/read") and isinstance(name, str):
            h["Mcp-Name"] = name
        h.update(headers or {})
        reply = self.conn.post(msg, h)
        answers = [m for m in reply.messages if m.get("id") == msg["id"] and "method" not in m]
        assert len(answers) == 1, f"{method}: expected one response with id {msg['id']}: {reply}"
        return reply.status, answers[0]

    def close(self) -> None:
        if self.frontend == "http":
            self.conn.close()


def flip_middle(state: str) -> str:
    """The state with one base64url character in its middle changed (still well-formed)."""
    i = len(state) // 2
    while state[i] not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789":
        i += 1
    return state[:i] + ("B" if state[i] == "A" else "A") + state[i + 1 :]


def input_required(msg: dict[str, Any], method: str) -> tuple[str, str]:
    """(the inputRequests key, the requestState) of an InputRequiredResult asking for `method`."""
    assert "result" in msg, f"expected an InputRequiredResult, got {msg}"
    result = msg["result"]
    assert result.get("resultType") == "input_required", result
    state = result.get("requestState")
    assert isinstance(state, str) and state.startswith("pb1."), f"plugboard's requestState expected: {result}"
    requests = result.get("inputRequests") or {}
    assert len(requests) == 1, result
    key, req = next(iter(requests.items()))
    assert req.get("method") == method, result
    return key, state


def error_of(status: int | None, msg: dict[str, Any], code: int, http_status: int = 400, what: str = "") -> dict[str, Any]:
    assert "error" in msg, f"{what}: expected error {code}, got {msg}"
    assert msg["error"]["code"] == code, f"{what}: {msg}"
    if status is not None:
        assert status == http_status, f"{what}: HTTP {status} for {msg}"
    print(f"\n{what}: HTTP {status} {msg['error']}")
    return msg["error"]


@pytest.mark.parametrize("frontend", ["stdio", "http"])
def test_signed_request_state(eras: Eras, frontend: str):
    """A legacy upstream's mid-call elicitation/sampling becomes an InputRequiredResult with a signed requestState."""
    cfg = eras.config(eras.upstream("legacy"), http=frontend == "http")
    pb = RawModern(eras, frontend, cfg)
    accept = {"action": "accept", "content": {"name": "Ada"}}
    try:
        status, first = pb.request("tools/call", {"name": "ask_name", "arguments": {}})
        key, state = input_required(first, "elicitation/create")
        assert status in (None, 200)

        # (a) tampered: one character flipped
        status, msg = pb.request("tools/call", {"name": "ask_name", "arguments": {}, "inputResponses": {key: accept},
                                                "requestState": flip_middle(state)})
        err = error_of(status, msg, -32602, what="(a) tampered")
        assert "integrity" in err["message"], err

        # (b) the genuine retry
        status, msg = pb.request("tools/call", {"name": "ask_name", "arguments": {}, "inputResponses": {key: accept},
                                                "requestState": state})
        assert "result" in msg and msg["result"].get("resultType", "complete") == "complete", msg
        assert text_of_raw(msg) == "hello Ada", msg

        # (c) replayed
        status, msg = pb.request("tools/call", {"name": "ask_name", "arguments": {}, "inputResponses": {key: accept},
                                                "requestState": state})
        error_of(status, msg, -32602, what="(c) replayed")

        # (d) a state bound to other arguments, or to another tool
        status, first = pb.request("tools/call", {"name": "ask_llm", "arguments": {"question": "6*7?"}})
        llm_key, llm_state = input_required(first, "sampling/createMessage")
        sampled = {"role": "assistant", "content": {"type": "text", "text": "forty-two"}, "model": "m", "stopReason": "endTurn"}
        status, msg = pb.request("tools/call", {"name": "ask_llm", "arguments": {"question": "7*8?"},
                                                "inputResponses": {llm_key: sampled}, "requestState": llm_state})
        error_of(status, msg, -32602, what="(d) other arguments")
        status, msg = pb.request("tools/call", {"name": "echo", "arguments": {"text": "x"},
                                                "inputResponses": {llm_key: sampled}, "requestState": llm_state})
        error_of(status, msg, -32602, what="(d) other tool")
        # the refused retries did not spend the genuine one
        status, msg = pb.request("tools/call", {"name": "ask_llm", "arguments": {"question": "6*7?"},
                                                "inputResponses": {llm_key: sampled}, "requestState": llm_state})
        assert text_of_raw(msg) == "llm said: forty-two", msg
        if pb.url:
            bridge = eras.status(pb.url)["bridge"]
            print(f"\nbridge after the requestState checks: {bridge}")
            assert bridge["rejectedRequestStates"] == 4, bridge
            assert bridge["heldCalls"] == 0, bridge
    except AssertionError as e:
        pb.close()
        eras.close()
        pytest.fail(f"{frontend} frontend, legacy upstream: {e}\n{eras.report()}", pytrace=False)
    pb.close()


def text_of_raw(msg: dict[str, Any]) -> str | None:
    content = (msg.get("result") or {}).get("content")
    if not isinstance(content, list):
        return None
    return "".join(c.get("text", "") for c in content if c.get("type") == "text")


def test_held_call_expires(eras: Eras):
    """With input_timeout = 1s, a held call the client never retries is cancelled upstream and counted."""
    cfg = eras.config(eras.upstream("legacy"), http=True, limits={"input_timeout": "1s"})
    pb = RawModern(eras, "http", cfg)
    try:
        status, first = pb.request("tools/call", {"name": "ask_name", "arguments": {}})
        key, state = input_required(first, "elicitation/create")
        assert eras.status(pb.url)["bridge"]["heldCalls"] == 1
        deadline = time.monotonic() + 8
        while True:
            bridge = eras.status(pb.url)["bridge"]
            if bridge["heldCallsExpired"] >= 1 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        print(f"\nbridge after input_timeout: {bridge}")
        assert bridge["heldCallsExpired"] == 1, bridge
        assert bridge["heldCalls"] == 0, bridge
        # the upstream saw its call cancelled (and its elicitation request answered with an error)
        sent = eras.wire_lines("C->S")
        calls = [m for m in sent if m.get("method") == "tools/call" and m["params"].get("name") == "ask_name"]
        assert len(calls) == 1, sent
        cancels = [m for m in sent if m.get("method") == "notifications/cancelled"]
        assert [m["params"]["requestId"] for m in cancels] == [calls[0]["id"]], sent
        asked = [m for m in eras.wire_lines("S->C") if m.get("method") == "elicitation/create"]
        assert len(asked) == 1
        answers = [m for m in sent if m.get("id") == asked[0]["id"] and "method" not in m]
        assert len(answers) == 1 and "error" in answers[0], answers
        # a late retry is refused
        status, msg = pb.request("tools/call", {"name": "ask_name", "arguments": {},
                                                "inputResponses": {key: {"action": "accept", "content": {"name": "Ada"}}},
                                                "requestState": state})
        error_of(status, msg, -32602, what="(e) retry after expiry")
    except AssertionError as e:
        pb.close()
        eras.close()
        pytest.fail(f"held call expiry: {e}\n{eras.report()}", pytrace=False)
    pb.close()


# --------------------------------------------------------------------------- raw HTTP of the modern frontend


def test_modern_http_frontend_rules(eras: Eras):
    """The 2026-07-28 Streamable HTTP rules, each checked on its own (every failure is reported)."""
    cfg = eras.config(eras.upstream("dual"), http=True)
    url = eras.start_http(cfg)
    failures: list[str] = []

    def tools_list(version: str = MODERN) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": modern_meta(version)}}

    echo = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "x"}, "_meta": modern_meta()}}

    def http_error(reply, status: int, code: int) -> dict[str, Any]:
        assert reply.status == status and reply.headers.get("content-type", "").startswith("application/json"), f"want HTTP {status} with JSON error {code}: {reply}"
        body = reply.json()
        assert body.get("error", {}).get("code") == code, f"want HTTP {status} with error {code}: {reply}"
        return body["error"]

    def stateless(c: MCPConnection) -> None:
        r = c.post(tools_list(), {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list"})
        assert r.status == 200, r
        assert "mcp-session-id" not in r.headers, f"a modern answer must not carry Mcp-Session-Id: {r}"
        assert r.messages[0]["result"].get("resultType") == "complete", r
        assert BASE_TOOLS <= {t["name"] for t in r.messages[0]["result"]["tools"]}, r
        r = c.post(echo, {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "echo"})
        assert r.status == 200 and text_of_raw(r.messages[0]) == "x", r
        assert "mcp-session-id" not in r.headers, r

    def method_mismatch(c: MCPConnection) -> None:
        http_error(c.post(echo, {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list", "Mcp-Name": "echo"}), 400, -32020)

    def name_mismatch(c: MCPConnection) -> None:
        http_error(c.post(echo, {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "add_tool"}), 400, -32020)

    def no_version_header(c: MCPConnection) -> None:
        http_error(c.post(tools_list(), {"Mcp-Method": "tools/list"}), 400, -32020)

    def unsupported_version(c: MCPConnection) -> None:
        # a client of a later revision: its version in `_meta` and, consistently, in the header
        err = http_error(c.post(tools_list("2099-01-01"), {"MCP-Protocol-Version": "2099-01-01", "Mcp-Method": "tools/list"}), 400, -32022)
        supported = (err.get("data") or {}).get("supported")
        assert isinstance(supported, list) and MODERN in supported, f"data.supported must list {MODERN}: {err}"

    def ping(c: MCPConnection) -> None:
        msg = {"jsonrpc": "2.0", "id": 3, "method": "ping", "params": {"_meta": modern_meta()}}
        http_error(c.post(msg, {"MCP-Protocol-Version": MODERN, "Mcp-Method": "ping"}), 404, -32601)

    def get_stream(c: MCPConnection) -> None:
        r = c.request("GET", None, {"MCP-Protocol-Version": MODERN, "Content-Type": None})
        assert r.status == 405, f"GET with MCP-Protocol-Version {MODERN} and no session: {r}"

    def discover(c: MCPConnection) -> None:
        msg = {"jsonrpc": "2.0", "id": 4, "method": "server/discover", "params": {"_meta": modern_meta()}}
        r = c.post(msg, {"MCP-Protocol-Version": MODERN, "Mcp-Method": "server/discover"})
        assert r.status == 200, r
        versions = r.messages[0]["result"]["supportedVersions"]
        print(f"\nserver/discover supportedVersions: {versions}")
        assert MODERN in versions and LEGACY in versions, r

    for check in (stateless, method_mismatch, name_mismatch, no_version_header, unsupported_version, ping, get_stream, discover):
        with MCPConnection(url) as c:
            try:
                check(c)
            except (AssertionError, KeyError, IndexError, ValueError) as e:
                failures.append(f"{check.__name__}: {type(e).__name__}: {e}")
    if failures:
        eras.close()
        pytest.fail("modern HTTP frontend:\n  " + "\n  ".join(failures) + "\n" + eras.report(), pytrace=False)


# --------------------------------------------------------------------------- the list cache


def test_list_cache_serves_modern_public_pages(eras: Eras):
    """modern_server's tools/list is public for 60 s: plugboard answers repeats from its cache."""
    cfg = eras.config(eras.upstream("modern"), http=True)
    url = eras.start_http(cfg)
    n = 50

    async def body():
        with anyio.fail_after(CELL_DEADLINE):
            async with Client(url, mode=MODERN, cache=None, read_timeout_seconds=CHECK_TIMEOUT) as c:
                for _ in range(n):
                    assert BASE_TOOLS <= {t.name for t in (await c.list_tools()).tools}

    anyio.run(body)
    cache = eras.status(url)["listCache"]
    upstream_lists = [m for m in eras.wire_lines("C->S") if m.get("method") == "tools/list"]
    print(f"\n{n} tools/list through plugboard: listCache {cache}; the upstream saw {len(upstream_lists)} tools/list")
    if cache["hits"] < n - 1:
        eras.close()
        pytest.fail(f"listCache {cache} after {n} tools/list (want hits >= {n - 1}); upstream tools/list: {len(upstream_lists)}\n"
                    + eras.report(), pytrace=False)


@pytest.mark.parametrize("mode", ["2026-07-28", "legacy"])
def test_shipped_plugins_work_unchanged_in_both_eras(mode):
    """The default etc/ (guard on the demo server, curate on the docs server) under a modern and
    a legacy SDK client: curate cuts the page and says so in its metadata, guard blocks."""
    from mcp import Client

    params = StdioServerParameters(command=PLUGBOARD_BIN, args=["run", "--config", str(ROOT / "etc")], cwd=str(ROOT))

    async def body():
        async with Client(params, mode=mode, read_timeout_seconds=20, cache=None) as client:
            expected = "2026-07-28" if mode != "legacy" else "2025-11-25"
            assert client.protocol_version == expected
            page = await client.call_tool(
                "docs__get-library-docs", {"context7CompatibleLibraryID": "/fetchwave/fetchwave", "topic": "retry with backoff"})
            text = "".join(getattr(c, "text", "") for c in page.content)
            assert not page.is_error and "retry" in text.lower(), text[:500]
            assert "curated by plugboard" in text, text[-500:]
            blocked = await client.call_tool("demo__crash", {})
            assert blocked.is_error and "guard" in "".join(getattr(c, "text", "") for c in blocked.content)

    anyio.run(body)
