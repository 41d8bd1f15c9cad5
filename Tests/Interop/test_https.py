"""https toward remote servers and on plugboard's own endpoint, against real parts on loopback.

  * the PKI is fixtures/tls.py's (the session-scoped `pki` fixture): a test CA, an unrelated CA,
    and leaves that are good, good2 (another key), expired, for the wrong name, or signed by the
    other CA
  * the upstream is fixtures/modern_server.py (the official SDK's Streamable HTTP server under
    uvicorn with TLS; the `https_upstream` fixture); its `whoami` shows the Authorization and
    X-Team headers plugboard sent
  * clients: the SDK over stdio, or JSON-RPC lines (conftest.RawProcess) where a failing
    upstream makes plugboard's own initialize fail; the SDK's Streamable HTTP client (httpx2
    with an ssl context trusting the test CA) on plugboard's HTTPS endpoint
  * a forward proxy: tinyproxy (Tests/Interop/setup.sh installs it as root; the test skips
    without it)

Config keys used: [servers.NAME] url = "https://…", ca_file, tls_verify, headers (with
`${env:NAME}`), proxy ("" = none), and the HTTPS_PROXY / NO_PROXY environment;
[http] tls_listen, tls_cert_file, tls_key_file.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from conftest import (
    ADMIN_LISTEN_RE,
    DIRECT,
    PLUGBOARD_BIN,
    READ_TIMEOUT,
    RawProcess,
    ServerProcess,
    Upstream,
    demo,
    http_get,
    remote,
    render_config,
    run,
)

pytestmark = pytest.mark.skipif(DIRECT, reason="https toward upstreams and on the endpoint is plugboard's")

SECRET = "pb-secret-0c7a91e4"
TOKEN_ENV = "PB_TEST_TOKEN"
HEADERS = {"Authorization": f"Bearer ${{env:{TOKEN_ENV}}}", "X-Team": "docs"}
#: Proxy settings of the outer environment are kept away from every plugboard started here.
PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
#: What a failed verification must say, one pattern per cause (case-insensitive).
CAUSES = {
    "expired": re.compile(r"expired", re.I),
    "unknown-ca": re.compile(r"unknown (ca|certificate authority)|not trusted|unable to get local issuer", re.I),
    "wrong-host": re.compile(r"hostname|does not match|mismatch", re.I),
}
TLS_LISTEN_RE = re.compile(r"(?<!admin )listening on (https://\S+)")
REFUSED = "certificate was refused"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_text(path: Path, pattern: re.Pattern | str, timeout: float = 10.0, after: int = 0) -> re.Match:
    """The first match of `pattern` in the file (from character `after` on), polled until `timeout`."""
    pattern = re.compile(pattern) if isinstance(pattern, str) else pattern
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text(errors="replace") if path.exists() else ""
        m = pattern.search(text, after)
        if m:
            return m
        if time.monotonic() > deadline:
            raise AssertionError(f"{pattern.pattern!r} not in {path.name} within {timeout}s:\n{text[-3000:]}")
        time.sleep(0.1)


# --------------------------------------------------------------------------- plugboard on stdio


@dataclass
class Stdio:
    """`plugboard run` on stdio for one config, spoken to in JSON-RPC lines."""

    raw: RawProcess
    config_dir: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def first_call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """initialize, then (if that worked) one tools/call; returns the first error or the call's answer.

        With one server behind it plugboard's own initialize is what first reaches it, so a
        server that cannot be reached fails the initialize."""
        answer = self.raw.initialize()
        if "error" in answer:
            return answer
        self.raw.send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
        return self.raw.recv_response(2, timeout=READ_TIMEOUT)


@pytest.fixture
def stdio_plugboard(tmp_path: Path, request: pytest.FixtureRequest):
    """`start(*upstreams, env={...}, args=[...], **render_config kwargs)` -> Stdio (a clean environment)."""
    started: list[Stdio] = []

    def start(*upstreams: Upstream, env: dict[str, str] | None = None, args: list[str] | None = None, **config: Any) -> Stdio:
        n = len(started)
        config_dir = tmp_path / f"config-{n}"
        config_dir.mkdir()
        (config_dir / "plugboard.toml").write_text(render_config(list(upstreams), **config))
        log_path = tmp_path / f"plugboard-{n}.log"
        raw = RawProcess([PLUGBOARD_BIN, "run", "--config", str(config_dir), "--no-watch", *(args or [])],
                         clean_env(**(env or {})), tmp_path, log_path)
        started.append(Stdio(raw, config_dir, log_path))
        return started[-1]

    yield start
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for s in started:
        if s.raw.proc.poll() is None:
            s.raw.close()
        if failed:
            sys.stderr.write(f"\n--- {s.log_path.name} ---\n{s.log()[-4000:]}\n")


def error_message(answer: dict[str, Any]) -> str:
    assert "error" in answer, f"expected a JSON-RPC error, got {answer}"
    return answer["error"]["message"]


def text_of(answer: dict[str, Any]) -> str:
    assert "result" in answer, f"expected a result, got {answer}"
    return "".join(c.get("text", "") for c in answer["result"]["content"])


# --------------------------------------------------------------------------- https upstreams


@pytest.mark.parametrize("protocol", [None, "2025-11-25"], ids=["auto", "session-era"])
def test_headers_reach_the_https_server_and_the_secret_stays_out_of_logs_and_status(tmp_path, pki, https_upstream, protocol):
    """(a) The SDK on stdio -> plugboard -> https with ca_file; env secret resolved, never shown."""
    upstream = https_upstream("good")
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    secure = remote(upstream.url(), name="secure", protocol=protocol, ca_file=str(pki.ca), headers=HEADERS)
    (config_dir / "plugboard.toml").write_text(render_config([secure]))
    log_path = tmp_path / "plugboard.log"
    pid_file, status_file = tmp_path / "plugboard.pid", tmp_path / "status.json"
    params = StdioServerParameters(
        command=PLUGBOARD_BIN,
        args=["run", "--config", str(config_dir), "--no-watch", "--admin", "127.0.0.1:0",
              "--pid-file", str(pid_file), "--status-file", str(status_file)],
        env={TOKEN_ENV: SECRET},  # over the SDK's safe default environment: no proxy variables
        cwd=str(tmp_path),
    )

    async def body() -> tuple[str, str, dict[str, Any]]:
        with log_path.open("a") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write, read_timeout_seconds=READ_TIMEOUT) as session:
                    await session.initialize()
                    echoed = await session.call_tool("echo", {"text": "over tls"})
                    assert not echoed.is_error and echoed.content[0].text == "over tls", echoed
                    seen = await session.call_tool("whoami", {})
                    assert not seen.is_error, seen
                    assert json.loads(seen.content[0].text) == {"authorization": f"Bearer {SECRET}", "x-team": "docs"}
                    # `plugboard status` signals the instance (SIGUSR1: the dump goes to the log too). It
                    # needs no secret of the configuration: the variable is not in its environment.
                    status = await anyio.to_thread.run_sync(lambda: subprocess.run(
                        [PLUGBOARD_BIN, "status", "--config", str(config_dir), "--pid-file", str(pid_file),
                         "--status-file", str(status_file)],
                        capture_output=True, text=True, timeout=10, env=clean_env()))
                    assert status.returncode == 0, status.stderr
                    admin = wait_for_text(log_path, ADMIN_LISTEN_RE).group(1)
                    reply = await anyio.to_thread.run_sync(lambda: http_get(admin + "/status"))
                    assert reply.status == 200, reply
                    return status.stdout, reply.body.decode(), reply.json()

    status_text, admin_text, admin_status = run(body)
    wait_for_text(log_path, r"status \{")
    log = log_path.read_text(errors="replace")
    assert "secure" in status_text and upstream.url() in status_text, status_text[:2000]
    assert admin_status["proxy"]["upstreams"]["secure"]["phase"] == "ready", admin_text[:2000]
    if protocol:
        assert admin_status["proxy"]["upstreams"]["secure"]["protocol"] == protocol, admin_text[:2000]
    assert "[upstream:secure]" in log, log[-2000:]
    for where, text in (("plugboard status", status_text), ("admin /status", admin_text), ("the log", log)):
        assert SECRET not in text, f"the secret shows in {where}"


@pytest.mark.parametrize(
    "cert, with_ca, cause",
    [
        ("expired", True, "expired"),
        ("other", True, "unknown-ca"),
        ("wronghost", True, "wrong-host"),
        ("good", False, "unknown-ca"),  # a private CA is in no system store
    ],
    ids=["expired", "unknown-ca", "wrong-host", "system-store"],
)
def test_a_certificate_that_fails_verification_fails_the_call_with_its_cause(pki, https_upstream, stdio_plugboard, cert, with_ca, cause):
    """(b) expired, (c) unknown CA, (d) wrong host: a JSON-RPC error naming the cause, at once."""
    upstream = https_upstream(cert)
    options = {"ca_file": str(pki.ca)} if with_ca else {}
    pb = stdio_plugboard(remote(upstream.url(), name="secure", protocol=None, **options))
    started = time.monotonic()
    message = error_message(pb.first_call("echo", {"text": "x"}))
    assert CAUSES[cause].search(message), message
    for other, pattern in CAUSES.items():
        if other != cause:
            assert not pattern.search(message), f"the {cause} failure also reads as {other}: {message}"
    assert "secure" in message, message
    assert time.monotonic() - started < 8, "the call waited for a timeout instead of failing with the cause"
    assert CAUSES[cause].search(pb.log()), pb.log()[-2000:]


def test_tls_verify_off_connects_to_an_unknown_ca_and_warns(https_upstream, stdio_plugboard):
    """(e) tls_verify = false accepts the `other` certificate (which test (c) shows failing)."""
    upstream = https_upstream("other")
    pb = stdio_plugboard(remote(upstream.url(), name="secure", protocol=None, tls_verify=False))
    assert text_of(pb.first_call("echo", {"text": "unverified"})) == "unverified"
    assert re.search(r"WARN.*verification is OFF", pb.log()), pb.log()[-2000:]


def test_a_missing_secret_is_a_config_error_at_its_key(tmp_path):
    """(f) `${env:NOPE_UNSET}` fails `plugboard check` and `plugboard run` with file:line:col and the key."""
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    line = 'headers = { Authorization = "Bearer ${env:PB_NOPE_UNSET}", "X-Team" = "docs" }'
    (config_dir / "plugboard.toml").write_text(f'[servers.secure]\nurl = "https://localhost:1/mcp"\n{line}\n')
    column = line.index('"Bearer') + 1  # where the value starts
    want = re.compile(rf"plugboard\.toml:3:{column}: `headers\.Authorization`: .*PB_NOPE_UNSET.* not set")
    env = clean_env()
    env.pop("PB_NOPE_UNSET", None)
    for argv in (["check", "--config", str(config_dir)], ["run", "--config", str(config_dir), "--no-watch"]):
        done = subprocess.run([PLUGBOARD_BIN, *argv], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=20)
        assert done.returncode != 0, f"plugboard {argv[0]} accepted a missing variable: {done.stdout}{done.stderr}"
        assert want.search(done.stderr + done.stdout), f"plugboard {argv[0]}: {done.stderr}{done.stdout}"
    # control: with the variable set the same file is valid
    done = subprocess.run([PLUGBOARD_BIN, "check", "--config", str(config_dir)], capture_output=True, text=True,
                          env={**env, "PB_NOPE_UNSET": "x"}, timeout=20)
    assert done.returncode == 0, done.stderr + done.stdout


# --------------------------------------------------------------------------- a forward proxy


@dataclass
class Tinyproxy:
    proc: subprocess.Popen
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def connects(self, target: str) -> int:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return len(re.findall(rf"CONNECT {re.escape(target)} ", text))


@pytest.fixture
def tinyproxy(tmp_path: Path):
    """`start(tunnel_port)` -> Tinyproxy on a free loopback port, allowing CONNECT to that port only."""
    binary = shutil.which("tinyproxy") or next((p for p in ("/usr/bin/tinyproxy", "/usr/sbin/tinyproxy") if Path(p).exists()), None)
    if binary is None:
        pytest.skip("tinyproxy is not installed (Tests/Interop/setup.sh installs it as root)")
    started: list[Tinyproxy] = []

    def start(tunnel_port: int) -> Tinyproxy:
        port = free_port()
        log_path = tmp_path / "tinyproxy.log"
        conf = tmp_path / "tinyproxy.conf"
        conf.write_text(
            f'Port {port}\nListen 127.0.0.1\nTimeout 30\nLogFile "{log_path}"\nLogLevel Connect\nMaxClients 20\n'
            f"Allow 127.0.0.1\nConnectPort {tunnel_port}\n"
        )
        out = (tmp_path / "tinyproxy.out").open("w")
        proc = subprocess.Popen([binary, "-d", "-c", str(conf)], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        started.append(Tinyproxy(proc, port, log_path))
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return started[-1]
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"tinyproxy did not listen on {port}: {(tmp_path / 'tinyproxy.out').read_text()}") from None
                time.sleep(0.05)

    yield start
    for t in started:
        t.proc.terminate()
        try:
            t.proc.wait(5)
        except subprocess.TimeoutExpired:
            t.proc.kill()
            t.proc.wait(5)


def test_a_forward_proxy_tunnels_https_and_no_proxy_bypasses_it(pki, https_upstream, stdio_plugboard, tinyproxy):
    """(i) `proxy =` and HTTPS_PROXY go through tinyproxy's CONNECT; NO_PROXY and `proxy = ""` bypass a dead one."""
    upstream = https_upstream("good")
    proxy = tinyproxy(upstream.port)
    target = f"localhost:{upstream.port}"
    dead = f"http://127.0.0.1:{free_port()}"

    def secure(**options: Any) -> Upstream:
        return remote(upstream.url(), name="secure", protocol=None, ca_file=str(pki.ca), **options)

    pb = stdio_plugboard(secure(proxy=proxy.url))
    assert text_of(pb.first_call("echo", {"text": "via proxy"})) == "via proxy"
    assert proxy.connects(target) >= 1, proxy.log_path.read_text(errors="replace")[-2000:]

    before = proxy.connects(target)
    pb = stdio_plugboard(secure(), env={"HTTPS_PROXY": proxy.url})
    assert text_of(pb.first_call("echo", {"text": "via HTTPS_PROXY"})) == "via HTTPS_PROXY"
    assert proxy.connects(target) > before, "HTTPS_PROXY was not used"

    # control: a dead HTTPS_PROXY fails the call and is named, so the bypasses below are real
    pb = stdio_plugboard(secure(), env={"HTTPS_PROXY": dead})
    message = error_message(pb.first_call("echo", {"text": "x"}))
    assert re.search(rf"{re.escape(dead.removeprefix('http://'))} \(from HTTPS_PROXY\)", message), message

    pb = stdio_plugboard(secure(), env={"HTTPS_PROXY": dead, "NO_PROXY": "localhost,127.0.0.1"})
    assert text_of(pb.first_call("echo", {"text": "bypassed"})) == "bypassed"

    pb = stdio_plugboard(secure(proxy=""), env={"HTTPS_PROXY": dead})
    assert text_of(pb.first_call("echo", {"text": "no proxy"})) == "no proxy"


# --------------------------------------------------------------------------- plugboard's HTTPS endpoint


@dataclass
class Front:
    """plugboard serving the demo stdio server on an HTTPS listener, with live cert/key files."""

    server: ServerProcess
    url: str  # https://localhost:PORT/mcp
    cert: Path
    key: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].split("/")[0])

    def log(self) -> str:
        return self.server.log_text()


@pytest.fixture
def https_front(tmp_path: Path, pki, request: pytest.FixtureRequest):
    fronts: list[Front] = []

    def start() -> Front:
        cert, key = tmp_path / "live" / "cert.pem", tmp_path / "live" / "key.pem"
        cert.parent.mkdir()
        shutil.copy(pki.cert("good"), cert)
        shutil.copy(pki.key("good"), key)
        config_dir = tmp_path / "front"
        config_dir.mkdir()
        http = {"tls_listen": "127.0.0.1:0", "tls_cert_file": str(cert), "tls_key_file": str(key)}
        (config_dir / "plugboard.toml").write_text(render_config([demo()], http=http))
        server = ServerProcess(
            [PLUGBOARD_BIN, "run", "--config", str(config_dir), "--no-watch"], env=clean_env(), cwd=tmp_path,
            log_path=tmp_path / "front.log", patterns={"url": TLS_LISTEN_RE},
        )
        url = server.wait_for("url")
        assert url.startswith("https://127.0.0.1:"), url
        fronts.append(Front(server, url.replace("127.0.0.1", "localhost"), cert, key))
        return fronts[-1]

    yield start
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for f in fronts:
        f.server.stop()
        if failed:
            sys.stderr.write(f"\n--- front.log ---\n{f.log()[-4000:]}\n")


def served_fingerprint(port: int, ca: Path) -> str:
    """SHA-256 of the certificate a new TLS connection to 127.0.0.1:port gets (verified for localhost)."""
    context = ssl.create_default_context(cafile=str(ca))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, context.wrap_socket(raw, server_hostname="localhost") as tls:
        return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


@asynccontextmanager
async def sdk_https_session(url: str, ca: Path):
    """An initialized SDK session over Streamable HTTP; the httpx2 client trusts `ca` only."""
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    verify = ssl.create_default_context(cafile=str(ca))
    async with httpx2.AsyncClient(verify=verify, trust_env=False, timeout=httpx2.Timeout(10.0, read=READ_TIMEOUT)) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write, read_timeout_seconds=READ_TIMEOUT) as session:
                with anyio.fail_after(READ_TIMEOUT):
                    await session.initialize()
                yield session


async def echo(session: ClientSession, text: str) -> None:
    result = await session.call_tool("echo", {"text": text})
    assert not result.is_error and result.content[0].text == text, result


def test_the_sdk_client_reaches_the_https_endpoint(pki, https_front):
    """(g) `[http] tls_listen` + tls_cert_file/tls_key_file: the SDK client over https with the test CA."""
    front = https_front()
    assert served_fingerprint(front.port, pki.ca) == pki.fingerprint("good")

    async def body() -> None:
        async with sdk_https_session(front.url, pki.ca) as session:
            tools = {t.name for t in (await session.list_tools()).tools}
            assert "echo" in tools, tools
            await echo(session, "over https")

    run(body)

    # it is TLS, and verified: the system store does not know the test CA, and plain HTTP gets no MCP answer
    with pytest.raises(ssl.SSLCertVerificationError):
        with socket.create_connection(("127.0.0.1", front.port), timeout=5) as raw:
            ssl.create_default_context().wrap_socket(raw, server_hostname="localhost").close()
    with socket.create_connection(("127.0.0.1", front.port), timeout=5) as raw:
        raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        raw.settimeout(5)
        try:
            got = raw.recv(100)
        except (ConnectionResetError, socket.timeout):
            got = b""
        assert not got.startswith(b"HTTP/1.1 200"), got
    # the admin endpoints are on the TLS listener too
    context = ssl.create_default_context(cafile=str(pki.ca))
    conn = http.client.HTTPSConnection("localhost", front.port, context=context, timeout=10)
    try:
        conn.request("GET", "/healthz")
        assert conn.getresponse().status == 200
    finally:
        conn.close()


def replace_file(source: Path, live: Path) -> None:
    """certbot's way: write beside the live file, then rename over it."""
    staged = live.with_name(f".{live.name}.new")
    shutil.copy(source, staged)
    os.replace(staged, live)


def test_certificate_rotation_under_load_loses_no_call(pki, https_front):
    """(h) good -> good2 while 4 SDK clients call in a loop; then a broken pair is refused and good2 stays."""
    front = https_front()
    assert served_fingerprint(front.port, pki.ca) == pki.fingerprint("good")
    good2 = pki.fingerprint("good2")

    async def body() -> tuple[list[int], list[int]]:
        counts = [0, 0, 0, 0]
        at_rotation: list[int] = []
        stop = anyio.Event()

        async def caller(i: int) -> None:
            async with sdk_https_session(front.url, pki.ca) as session:
                while not stop.is_set():
                    await echo(session, f"c{i} n{counts[i]}")
                    counts[i] += 1

        async with anyio.create_task_group() as tg:
            for i in range(4):
                tg.start_soon(caller, i)
            with anyio.fail_after(10):
                while min(counts) < 3:
                    await anyio.sleep(0.05)
            await anyio.to_thread.run_sync(replace_file, pki.cert("good2"), front.cert)
            await anyio.to_thread.run_sync(replace_file, pki.key("good2"), front.key)
            with anyio.fail_after(10):
                while await anyio.to_thread.run_sync(served_fingerprint, front.port, pki.ca) != good2:
                    await anyio.sleep(0.2)
            at_rotation = list(counts)
            with anyio.fail_after(10):
                while any(n < r + 3 for n, r in zip(counts, at_rotation)):
                    await anyio.sleep(0.05)
            stop.set()
        return counts, at_rotation

    counts, at_rotation = run(body)
    assert all(n >= r + 3 for n, r in zip(counts, at_rotation)), (counts, at_rotation)

    async def fresh(text: str) -> None:
        async with sdk_https_session(front.url, pki.ca) as session:
            await echo(session, text)

    run(fresh, "after rotation")

    # A broken pair (good2's certificate with good's key) is refused; good2 keeps serving.
    refusals = front.log().count(REFUSED)
    replace_file(pki.key("good"), front.key)
    deadline = time.monotonic() + 10
    while front.log().count(REFUSED) <= refusals:
        assert time.monotonic() < deadline, f"no {REFUSED!r} in the log:\n{front.log()[-2000:]}"
        time.sleep(0.1)
    assert served_fingerprint(front.port, pki.ca) == good2
    run(fresh, "after a refused pair")

    # and the watch goes on: completing the pair (good's certificate) is taken up
    replace_file(pki.cert("good"), front.cert)
    deadline = time.monotonic() + 10
    while served_fingerprint(front.port, pki.ca) != pki.fingerprint("good"):
        assert time.monotonic() < deadline, f"the mended pair was never served:\n{front.log()[-2000:]}"
        time.sleep(0.2)
