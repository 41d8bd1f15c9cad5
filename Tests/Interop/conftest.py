"""Fixtures for the plugboard MCP interop suite.

The system under test is `PLUGBOARD_BIN run --config DIR`, spoken to over stdio with the
official MCP Python SDK. With PLUGBOARD_DIRECT=1 the "system under test" is the single
upstream server itself (no proxy), which validates the tests and the demo server; tests
that need a proxy (aggregation, restarts) are skipped in that mode.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

import anyio
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEMO_SERVER = ROOT / "contrib" / "demo-server" / "server.mjs"
DOCS_SERVER = ROOT / "contrib" / "demo-docs" / "server.mjs"
DEMO_HTTP_SERVER = ROOT / "contrib" / "demo-http-server" / "server.py"
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
    command: str | None = None
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    #: A remote server instead of a command: `url` plus `transport` ("streamable-http" or "sse").
    url: str | None = None
    transport: str | None = None
    #: `protocol` of the server entry: "auto" (plugboard's default), or a pinned revision.
    protocol: str | None = None
    #: More keys of a remote entry, written as given: `headers`, `ca_file`, `tls_verify`, `proxy`, ...
    options: dict[str, Any] = field(default_factory=dict)


def demo(name: str = "demo", **env: str) -> Upstream:
    return Upstream(name, "node", [str(DEMO_SERVER)], {"DEMO_SERVER_NAME": name, **env})


def docs(name: str = "docs") -> Upstream:
    return Upstream(name, "node", [str(DOCS_SERVER)], {"DEMO_SERVER_NAME": name})


def time_server(name: str = "time") -> Upstream:
    return Upstream(name, str(VENV_BIN / "mcp-server-time"), ["--local-timezone", "UTC"])


def git_server(repo: Path, name: str = "git") -> Upstream:
    return Upstream(name, str(VENV_BIN / "mcp-server-git"), ["--repository", str(repo)])


def remote(url: str, name: str = "web", transport: str | None = None, protocol: str | None = "2025-11-25", **options: Any) -> Upstream:
    """A remote upstream; by default pinned to 2025-11-25. The demo HTTP server is a dual-era
    SDK 2.x server whose `ask_model` samples through the session-era back-channel, which a
    2026-07-28 request has not got; these tests cover plugboard's session-era HTTP client
    (test_eras.py covers modern HTTP upstreams). `options` are further keys of the entry, e.g.
    `ca_file=...`, `headers={...}`."""
    return Upstream(name, url=url, transport=transport, protocol=protocol, options=options)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _toml_key(k: str) -> str:
    return k if _BARE_KEY.fullmatch(k) else json.dumps(k)


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
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def render_config(
    upstreams: list[Upstream],
    mode: str = "auto",
    separator: str = "__",
    request_timeout: str = "10s",
    http: dict[str, Any] | None = None,
    admin: dict[str, Any] | None = None,
    auth: dict[str, Any] | None = None,
    core: dict[str, Any] | None = None,
) -> str:
    lines = [
        "[expose]",
        f"mode = {_toml_value(mode)}",
        f"separator = {_toml_value(separator)}",
        "",
        "[limits]",
        f"request_timeout = {_toml_value(request_timeout)}",
    ]
    for table, values in (("http", http), ("admin", admin), ("auth", auth), ("core", core)):
        if values is not None:
            lines += ["", f"[{table}]", *(f"{k} = {_toml_value(v)}" for k, v in values.items())]
    for u in upstreams:
        lines += ["", f"[servers.{u.name}]"]
        if u.url:
            lines.append(f"url = {_toml_value(u.url)}")
            if u.transport:
                lines.append(f"transport = {_toml_value(u.transport)}")
            if u.protocol:
                lines.append(f"protocol = {_toml_value(u.protocol)}")
            lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in u.options.items()]
            continue
        lines += [f"command = {_toml_value(u.command)}", f"args = {_toml_value(u.args)}"]
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
        """An initialized SDK ClientSession connected to the SUT.

        With PLUGBOARD_DIRECT=1 and a single remote upstream, the SDK connects to it over HTTP.
        """
        if DIRECT and len(upstreams) == 1 and upstreams[0].url:
            transport = http_client_transport(upstreams[0].url, upstreams[0].transport)
        else:
            transport = self._stdio(self.params(*upstreams, **(config or {})))
        async with transport as (read, write):
            async with ClientSession(read, write, read_timeout_seconds=READ_TIMEOUT, **session_kwargs) as session:
                with anyio.fail_after(READ_TIMEOUT):
                    await session.initialize()
                yield session

    @asynccontextmanager
    async def _stdio(self, params: StdioServerParameters):
        with self.stderr_path.open("a") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write):
                yield read, write

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


# --------------------------------------------------------------------------- HTTP


#: Per-operation timeout of raw HTTP connections (seconds).
HTTP_TIMEOUT = 10.0
#: `listening on http://HOST:PORT/mcp` (not the admin line) and `admin listening on http://HOST:PORT`.
MCP_LISTEN_RE = re.compile(r"(?<!admin )listening on (http://\S+)")
ADMIN_LISTEN_RE = re.compile(r"admin listening on (http://[^\s/]+)")
DEMO_HTTP_LISTEN_RE = re.compile(r"^listening (http://\S+)")


@asynccontextmanager
async def http_client_transport(url: str, transport: str | None = None, headers: dict[str, str] | None = None, on_response=None):
    """The SDK's client transport for `url`: Streamable HTTP, or the legacy SSE one.

    `on_response(response)` sees every HTTP response (Streamable HTTP only), e.g. to read headers.
    """
    import httpx2
    from mcp.client.sse import sse_client
    from mcp.client.streamable_http import streamable_http_client

    if transport == "sse":
        async with sse_client(url, headers=headers, timeout=HTTP_TIMEOUT) as (read, write):
            yield read, write
        return

    async def hook(response):
        if on_response:
            on_response(response)

    timeout = httpx2.Timeout(HTTP_TIMEOUT, read=READ_TIMEOUT * 2)
    async with httpx2.AsyncClient(headers=headers, timeout=timeout, event_hooks={"response": [hook]}) as client:
        async with streamable_http_client(url, http_client=client) as (read, write):
            yield read, write


class ServerProcess:
    """A server process that announces its URL on a line of stdout or stderr.

    Both streams are copied to `log_path` by reader threads (pipes never fill), and the first
    match of each pattern in `patterns` is kept in `found`.
    """

    def __init__(self, argv: list[str], *, env: dict[str, str], cwd: Path, log_path: Path, patterns: dict[str, re.Pattern]):
        self.argv = argv
        self.log_path = log_path
        self.patterns = patterns
        self.found: dict[str, str] = {}
        self._changed = threading.Condition()
        self._log = log_path.open("a", buffering=1)
        self._log.write(f"$ {' '.join(argv)}\n")
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env, text=True,
            errors="replace",
        )
        self._readers = [threading.Thread(target=self._pump, args=(s,), daemon=True) for s in (self.proc.stdout, self.proc.stderr)]
        for t in self._readers:
            t.start()

    def _pump(self, stream) -> None:
        for line in stream:
            self._log.write(line)
            with self._changed:
                for key, pattern in self.patterns.items():
                    m = pattern.search(line)
                    if m and key not in self.found:
                        self.found[key] = m.group(1)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, key: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        with self._changed:
            while key not in self.found:
                if self.proc.poll() is not None and not any(t.is_alive() for t in self._readers):
                    raise AssertionError(f"{self.argv[0]} exited ({self.proc.returncode}) before announcing {key}:\n{self.log_text()[-3000:]}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.argv[0]} did not announce {key} within {timeout}s:\n{self.log_text()[-3000:]}")
                self._changed.wait(min(left, 0.2))
            return self.found[key]

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        for t in self._readers:
            t.join(timeout=2)
        self._log.close()
        return self.proc.returncode


@dataclass
class HTTPInstance:
    """A running HTTP server under test: plugboard with `[http]`, or (DIRECT) the demo HTTP server."""

    server: ServerProcess
    url: str  # the MCP endpoint, e.g. http://127.0.0.1:PORT/mcp
    admin_url: str  # where /healthz etc. live: the [admin] listener, else the MCP listener's origin

    @property
    def origin(self) -> str:
        u = urlsplit(self.url)
        return f"{u.scheme}://{u.netloc}"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port

    def log_text(self) -> str:
        return self.server.log_text()

    def connect(self, **kwargs: Any) -> "MCPConnection":
        return MCPConnection(self.url, **kwargs)


def start_demo_http(log_dir: Path, transport: str = "streamable-http", name: str = "demo-http") -> ServerProcess:
    server = ServerProcess(
        [sys.executable, str(DEMO_HTTP_SERVER), "--port", "0", "--transport", transport, "--name", name],
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=log_dir, log_path=log_dir / f"{name}-{transport}.log",
        patterns={"url": DEMO_HTTP_LISTEN_RE},
    )
    server.wait_for("url")
    return server


@pytest.fixture
def http_sut(tmp_path: Path, request: pytest.FixtureRequest):
    """Starts HTTP servers under test: `start(*upstreams, http={...}, admin={...}, env={...}, name=...)`.

    plugboard runs with `[http] listen = ["127.0.0.1:0"]` plus the given `[http]` keys; its URL
    is parsed from stderr. With PLUGBOARD_DIRECT=1 the demo HTTP server (Python SDK) stands in
    and the upstreams and settings are ignored: only tests of plain Streamable HTTP behaviour
    should run then (mark the others `requires_proxy`).
    """
    started: list[HTTPInstance] = []

    def start(*upstreams: Upstream, http: dict[str, Any] | None = None, admin: dict[str, Any] | None = None,
              env: dict[str, str] | None = None, name: str = "sut", **config: Any) -> HTTPInstance:
        if DIRECT:
            server = start_demo_http(tmp_path, name=name)
            url = server.found["url"]
            inst = HTTPInstance(server, url, url.rsplit("/", 1)[0])
        else:
            cfg_dir = tmp_path / f"config-{name}"
            cfg_dir.mkdir(exist_ok=True)
            http_table = {"listen": ["127.0.0.1:0"], **(http or {})}
            (cfg_dir / "plugboard.toml").write_text(render_config(list(upstreams), http=http_table, admin=admin, **config))
            patterns = {"url": MCP_LISTEN_RE}
            if admin and admin.get("listen"):
                patterns["admin"] = ADMIN_LISTEN_RE
            server = ServerProcess(
                [PLUGBOARD_BIN, "run", "--config", str(cfg_dir), "--no-watch"], env={**os.environ, **(env or {})}, cwd=tmp_path,
                log_path=tmp_path / f"{name}-stderr.log", patterns=patterns,
            )
            inst = HTTPInstance(server, server.wait_for("url"), "")
            inst.admin_url = server.wait_for("admin") if "admin" in patterns else inst.origin
        started.append(inst)
        return inst

    yield start
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for inst in started:
        inst.server.stop()
        if failed:
            sys.stderr.write(f"\n--- {inst.server.log_path.name} ---\n{inst.log_text()[-4000:]}\n")


@pytest.fixture
def demo_http(tmp_path: Path):
    """Starts contrib/demo-http-server: `start(transport="streamable-http"|"sse", name=...)` -> URL."""
    servers: list[ServerProcess] = []

    def start(transport: str = "streamable-http", name: str = "demo-http") -> str:
        server = start_demo_http(tmp_path, transport, name)
        servers.append(server)
        return server.found["url"]

    yield start
    for s in servers:
        s.stop()


# --------------------------------------------------------------------------- TLS

HTTPS_SERVER = HERE / "fixtures" / "modern_server.py"
HTTPS_READY_RE = re.compile(r"^listening https://127\.0\.0\.1:(\d+)/mcp")


def _fixture_module(name: str):
    """Imports fixtures/NAME.py (the fixtures directory is not a package)."""
    spec = importlib.util.spec_from_file_location(f"interop_fixtures_{name}", HERE / "fixtures" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


#: fixtures/tls.py: `make_pki`, `Pki`, `fingerprint(pem_path)`.
TLS = _fixture_module("tls")


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory):
    """The throwaway PKI of fixtures/tls.py (CA, other CA, good/good2/expired/wronghost/other leaves), made once."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    return TLS.make_pki(tmp_path_factory.mktemp("pki"))


@dataclass
class HTTPSUpstream:
    """fixtures/modern_server.py (dual-era) over TLS, serving one of the PKI's leaves."""

    server: ServerProcess
    port: int

    def url(self, host: str = "localhost") -> str:
        return f"https://{host}:{self.port}/mcp"

    def log_text(self) -> str:
        return self.server.log_text()


@pytest.fixture
def https_upstream(tmp_path: Path, pki, request: pytest.FixtureRequest):
    """Starts the SDK server over TLS: `start("good"|"expired"|"wronghost"|"other"|"good2")` -> HTTPSUpstream."""
    started: list[HTTPSUpstream] = []

    def start(cert: str = "good") -> HTTPSUpstream:
        server = ServerProcess(
            [sys.executable, str(HTTPS_SERVER), "--transport", "http", "--port", "0",
             "--tls-cert", str(pki.cert(cert)), "--tls-key", str(pki.key(cert))],
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=tmp_path, log_path=tmp_path / f"https-upstream-{cert}.log",
            patterns={"port": HTTPS_READY_RE},
        )
        upstream = HTTPSUpstream(server, 0)
        started.append(upstream)
        upstream.port = int(server.wait_for("port"))
        return upstream

    yield start
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for upstream in started:
        upstream.server.stop()
        if failed:
            sys.stderr.write(f"\n--- {upstream.server.log_path.name} ---\n{upstream.log_text()[-3000:]}\n")


def wait_ready(admin_url: str, timeout: float = 15.0, token: str | None = None) -> None:
    """Polls GET /readyz until 200."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = http_get(admin_url + "/readyz", token=token)
            if last.status == 200:
                return
        except OSError as e:
            last = e
        time.sleep(0.1)
    raise AssertionError(f"{admin_url}/readyz not 200 within {timeout}s; last answer: {last}")


# --------------------------------------------------------------------------- raw Streamable HTTP


@dataclass
class SSEEvent:
    id: str | None
    event: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


def read_sse(readline: Callable[[], bytes]) -> Iterator[SSEEvent]:
    """SSE events from a line source until EOF (comments and retry fields skipped)."""
    ev_id, ev_type, data, seen_field = None, None, [], False
    while True:
        raw = readline()
        if not raw:
            return
        line = raw.decode("utf-8").rstrip("\r\n")
        if line == "":
            if seen_field:
                yield SSEEvent(ev_id, ev_type, "\n".join(data))
            ev_id, ev_type, data, seen_field = None, None, [], False
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
            seen_field = True
        elif name == "id":
            ev_id = value
            seen_field = True
        elif name == "event":
            ev_type = value
            seen_field = True


@dataclass
class HTTPReply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    events: list[SSEEvent]  # when the body was an event stream

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The JSON-RPC messages carried: the JSON body, or each SSE event with data."""
        if self.events:
            return [e.json() for e in self.events if e.data.strip()]
        ctype = self.headers.get("content-type", "")
        if self.body and ctype.startswith("application/json"):
            body = json.loads(self.body)
            return body if isinstance(body, list) else [body]
        return []

    def json(self) -> Any:
        return json.loads(self.body)

    def __str__(self) -> str:
        return f"HTTP {self.status} {self.headers} {self.body[:500]!r}"


def _reply(resp: http.client.HTTPResponse) -> HTTPReply:
    headers = {k.lower(): v for k, v in resp.getheaders()}
    if headers.get("content-type", "").startswith("text/event-stream"):
        events = list(read_sse(resp.readline))
        return HTTPReply(resp.status, headers, b"", events)
    return HTTPReply(resp.status, headers, resp.read(), [])


def http_get(url: str, token: str | None = None, timeout: float = HTTP_TIMEOUT, headers: dict[str, str] | None = None) -> HTTPReply:
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        conn.request("GET", u.path or "/", headers=h)
        return _reply(conn.getresponse())
    finally:
        conn.close()


class MCPConnection:
    """One keep-alive HTTP/1.1 connection speaking Streamable HTTP by hand (no SDK).

    Remembers the `Mcp-Session-Id` from the initialize answer and sends it (and the negotiated
    `MCP-Protocol-Version`) on later requests. A header given as None is left out.
    """

    def __init__(self, url: str, *, token: str | None = None, timeout: float = HTTP_TIMEOUT, headers: dict[str, str] | None = None):
        u = urlsplit(url)
        self.url, self.host, self.port, self.path = url, u.hostname, u.port, u.path
        self.timeout = timeout
        self.token = token
        self.extra = dict(headers or {})
        self.session_id: str | None = None
        self.protocol_version: str | None = None
        self._ids = iter(range(1, 1 << 30))
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def headers(self, extra: dict[str, str | None] | None = None) -> dict[str, str]:
        h: dict[str, str | None] = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        if self.session_id:
            h["Mcp-Session-Id"] = self.session_id
        if self.protocol_version:
            h["MCP-Protocol-Version"] = self.protocol_version
        h.update(self.extra)
        h.update(extra or {})
        return {k: v for k, v in h.items() if v is not None}

    def open(self, method: str, body: Any = None, headers: dict[str, str | None] | None = None) -> http.client.HTTPResponse:
        """Sends a request and returns the response unread (to read an event stream bit by bit)."""
        data = None if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            self.conn.request(method, self.path, body=data, headers=self.headers(headers))
            return self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # a keep-alive connection the server closed meanwhile: one retry on a fresh one
            self.reconnect()
            self.conn.request(method, self.path, body=data, headers=self.headers(headers))
            return self.conn.getresponse()

    def request(self, method: str, body: Any = None, headers: dict[str, str | None] | None = None) -> HTTPReply:
        resp = self.open(method, body, headers)
        reply = _reply(resp)
        if resp.will_close:
            self.reconnect()
        return reply

    def post(self, message: dict[str, Any], headers: dict[str, str | None] | None = None) -> HTTPReply:
        return self.request("POST", message, headers)

    def next_id(self) -> int:
        return next(self._ids)

    def rpc(self, method: str, params: dict[str, Any] | None = None, headers: dict[str, str | None] | None = None) -> dict[str, Any]:
        """Sends a request and returns its response message (asserting HTTP 200)."""
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id(), "method": method}
        if params is not None:
            msg["params"] = params
        reply = self.post(msg, headers)
        assert reply.status == 200, f"{method}: {reply}"
        answers = [m for m in reply.messages if m.get("id") == msg["id"] and "method" not in m]
        assert len(answers) == 1, f"{method}: expected one response with id {msg['id']}, got {reply.messages}"
        return answers[0]

    def initialize(self, version: str = "2025-11-25", capabilities: dict[str, Any] | None = None,
                   headers: dict[str, str | None] | None = None) -> dict[str, Any]:
        """initialize + notifications/initialized; returns the initialize result."""
        self.session_id = None
        self.protocol_version = None
        msg = {
            "jsonrpc": "2.0", "id": self.next_id(), "method": "initialize",
            "params": {"protocolVersion": version, "capabilities": capabilities or {}, "clientInfo": {"name": "raw-http", "version": "0"}},
        }
        reply = self.post(msg, headers)
        assert reply.status == 200, f"initialize: {reply}"
        self.session_id = reply.headers.get("mcp-session-id")
        assert self.session_id, f"initialize answer has no Mcp-Session-Id: {reply}"
        result = reply.messages[-1]["result"]
        self.protocol_version = result["protocolVersion"]
        note = self.post({"jsonrpc": "2.0", "method": "notifications/initialized"}, headers)
        assert note.status == 202, f"notifications/initialized: {note}"
        return result

    def reconnect(self) -> None:
        self.conn.close()
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "MCPConnection":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def raw_exchange(host: str, port: int, data: bytes, *, timeout: float = HTTP_TIMEOUT) -> bytes:
    """Writes `data` on a fresh TCP connection; reads one response (head + Content-Length body),
    or until the server closes the connection or `timeout` passes."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything
        got = b""
        try:
            while True:
                head, sep, body = got.partition(b"\r\n\r\n")
                if sep:
                    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                    if m and len(body) >= int(m.group(1)):
                        return got
                chunk = s.recv(65536)
                if not chunk:
                    return got
                got += chunk
        except (ConnectionResetError, socket.timeout):
            return got


def status_of(raw: bytes) -> int | None:
    m = re.match(rb"HTTP/1\.[01] (\d{3})", raw)
    return int(m.group(1)) if m else None
