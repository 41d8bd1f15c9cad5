"""OAuth 2.1 toward remote servers (MCP authorization), against a real protected server on loopback.

  * the server is fixtures/oauth_server.py: an authorization server and an MCP resource server
    built on the official Python SDK's auth support (its handlers, client authenticator, bearer
    middleware and protected resource metadata), over https with the PKI of fixtures/tls.py; it
    auto-approves authorization requests and logs every event (GET /test/events)
  * `plugboard auth login` runs as a person would run it with --no-browser; the test plays the
    browser: it opens the printed URL, follows the redirect to plugboard's loopback listener
  * plugboard serves the SDK's client over stdio; the token directory is `[auth] token_directory`

Every test ends by checking that no token or client secret appears in anything plugboard wrote
(its log, the login's output, `auth status`).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import ssl
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import anyio
import pytest

from conftest import DIRECT, PLUGBOARD_BIN, ServerProcess, Upstream, demo, remote, run

pytestmark = pytest.mark.skipif(DIRECT, reason="OAuth toward upstreams is plugboard's")

HERE = Path(__file__).resolve().parent
OAUTH_SERVER = HERE / "fixtures" / "oauth_server.py"
READY_RE = re.compile(r"^listening (https://127\.0\.0\.1:\d+)/mcp")
AUTHORIZE_RE = re.compile(r"^\s+(https://\S+/auth/authorize\?\S+)$", re.M)
CLIENT_SECRET = "pb-client-secret-5d21f0"


@dataclass
class OAuthServer:
    process: ServerProcess
    origin: str
    ca: Path

    @property
    def url(self) -> str:
        return self.origin + "/mcp"

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        u = urlsplit(self.origin)
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=ssl.create_default_context(cafile=str(self.ca)), timeout=10)
        try:
            data = None if body is None else json.dumps(body).encode()
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
            reply = conn.getresponse()
            text = reply.read().decode()
            assert reply.status < 300, f"{method} {path}: {reply.status} {text}"
            return json.loads(text) if text else None
        finally:
            conn.close()

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self._request("GET", "/test/events") if kind is None or e["kind"] == kind]

    def configure(self, **knobs: Any) -> None:
        self._request("POST", "/test/config", knobs)

    def revoke_all(self) -> None:
        self._request("POST", "/test/revoke-all", {})

    def publish_client_document(self, name: str, document: dict[str, Any]) -> str:
        self._request("PUT", f"/clients/{name}.json", document)
        return f"{self.origin}/clients/{name}.json"


@pytest.fixture
def oauth_server(tmp_path: Path, pki, request: pytest.FixtureRequest):
    """Starts fixtures/oauth_server.py over TLS: `start(*args)` -> OAuthServer."""
    started: list[OAuthServer] = []

    def start(*args: str) -> OAuthServer:
        log = tmp_path / f"oauth-server-{len(started)}.log"
        process = ServerProcess(
            [sys.executable, str(OAUTH_SERVER), "--port", "0", "--tls-cert", str(pki.cert("good")), "--tls-key", str(pki.key("good")),
             "--ca-file", str(pki.ca), *args],
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=tmp_path, log_path=log, patterns={"origin": READY_RE})
        server = OAuthServer(process, "", pki.ca)
        started.append(server)
        server.origin = process.wait_for("origin")
        return server

    yield start
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for server in started:
        server.process.stop(timeout=3)
        if failed:
            sys.stderr.write(f"\n--- {server.process.log_path.name} ---\n{server.process.log_text()[-3000:]}\n")


@dataclass
class Setup:
    """A config directory with OAuth-protected servers, its token directory, and what plugboard printed."""

    tmp_path: Path
    pki: Any
    upstreams: list[Upstream] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    @property
    def config_dir(self) -> Path:
        return self.tmp_path / "config"

    @property
    def token_dir(self) -> Path:
        return self.tmp_path / "state" / "tokens"

    @property
    def config(self) -> dict[str, Any]:
        return {"auth": {"token_directory": str(self.token_dir)}}

    def add(self, server: OAuthServer, name: str = "notes", protocol: str | None = "2025-11-25", **options: Any) -> Upstream:
        upstream = remote(server.url, name=name, protocol=protocol, ca_file=str(self.pki.ca), **options)
        self.upstreams.append(upstream)
        self.write()
        return upstream

    def write(self) -> None:
        from conftest import render_config

        self.config_dir.mkdir(exist_ok=True)
        (self.config_dir / "plugboard.toml").write_text(render_config(self.upstreams, **self.config))

    def secret_reference(self) -> str:
        """`${file:…}` naming a file that holds CLIENT_SECRET (the SDK starts plugboard with a minimal environment)."""
        path = self.tmp_path / "client-secret"
        path.write_text(CLIENT_SECRET + "\n")
        return "${file:" + str(path) + "}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k.lower() not in {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}}
        env["PB_CLIENT_SECRET"] = CLIENT_SECRET
        return env

    def command(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [PLUGBOARD_BIN, *args, "--config", str(self.config_dir)], capture_output=True, text=True, timeout=timeout, env=self.env())
        self.outputs += [done.stdout, done.stderr]
        return done

    def login(self, server: str = "notes", *extra: str, browser=None) -> subprocess.CompletedProcess:
        """Runs `plugboard auth login` and plays the browser: `browser(url)` (default: follow it)."""
        proc = subprocess.Popen(
            [PLUGBOARD_BIN, "auth", "login", server, "--config", str(self.config_dir), "--no-browser", "--timeout", "20s", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env())
        lines: list[str] = []
        found = threading.Event()

        def pump() -> None:
            for line in proc.stderr:
                lines.append(line)
                if AUTHORIZE_RE.match(line):
                    found.set()
            found.set()

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        found.wait(20)
        match = AUTHORIZE_RE.search("".join(lines))
        if match:
            (browser or self.follow)(match.group(1))
        try:
            proc.wait(timeout=25)
        finally:
            if proc.poll() is None:
                proc.kill()
        reader.join(5)
        out = proc.stdout.read()
        self.outputs += ["".join(lines), out]
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, "".join(lines))

    def follow(self, authorize_url: str) -> tuple[int, str]:
        """The authorization server's redirect, then plugboard's loopback page."""
        location = self.authorize(authorize_url)
        return loopback_get(location)

    def authorize(self, authorize_url: str) -> str:
        u = urlsplit(authorize_url)
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=ssl.create_default_context(cafile=str(self.pki.ca)), timeout=10)
        try:
            conn.request("GET", f"{u.path}?{u.query}")
            reply = conn.getresponse()
            reply.read()
            assert reply.status == 302, f"authorize answered {reply.status}"
            return reply.getheader("Location")
        finally:
            conn.close()

    def token_files(self) -> list[Path]:
        return sorted(self.token_dir.glob("*.json")) if self.token_dir.exists() else []

    def secrets(self) -> list[str]:
        found = [CLIENT_SECRET]
        for path in self.token_files():
            data = json.loads(path.read_text())
            found += [data[k] for k in ("access_token", "refresh_token", "client_secret") if data.get(k)]
        return found

    def assert_no_secrets(self, *more: str) -> None:
        texts = self.outputs + list(more)
        for secret in self.secrets():
            for text in texts:
                assert secret not in text, "a token or client secret appears in plugboard's output"


def loopback_get(url: str) -> tuple[int, str]:
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        conn.request("GET", f"{u.path}?{u.query}")
        reply = conn.getresponse()
        return reply.status, reply.read().decode()
    finally:
        conn.close()


@pytest.fixture
def setup(tmp_path: Path, pki, sut) -> Setup:
    return Setup(tmp_path, pki)


def text_of(result) -> str:
    assert not result.is_error, result
    return result.content[0].text


async def call(session, tool: str, **arguments: Any) -> str:
    return text_of(await session.call_tool(tool, arguments))


async def call_after_login(session, tool: str, within: float = 10, **arguments: Any) -> str:
    """The call's text once the running instance has read the token file a login just wrote
    (it checks every second); until then the call fails as before."""
    deadline = time.monotonic() + within
    while True:
        try:
            return await call(session, tool, **arguments)
        except Exception:
            if time.monotonic() > deadline:
                raise
            await anyio.sleep(0.3)


async def call_error(session, tool: str, **arguments: Any) -> str:
    try:
        result = await session.call_tool(tool, arguments)
    except Exception as error:  # the SDK raises on a JSON-RPC error
        return str(error)
    assert result.is_error, f"{tool} succeeded: {result}"
    return result.content[0].text


# --------------------------------------------------------------------------- the login and the calls


@pytest.mark.parametrize("protocol", ["2025-11-25", None], ids=["session-era", "modern"])
def test_login_then_calls_carry_the_token(setup: Setup, oauth_server, sut, protocol):
    server = oauth_server()
    setup.add(server, protocol=protocol)
    done = setup.login()
    assert done.returncode == 0, done.stderr
    assert "authorized: server 'notes'" in done.stderr

    [token_file] = setup.token_files()
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(setup.token_dir.stat().st_mode) == 0o700
    stored = json.loads(token_file.read_text())
    assert stored["issuer"] == server.origin + "/auth" and stored["resource"] == server.url

    [registration] = server.events("register")
    assert registration["application_type"] == "native"
    [authorization] = server.events("authorize")
    assert authorization["resource"] == server.url and authorization["code_challenge_method"] == "S256"
    assert all(t["resource"] == server.url for t in server.events("token"))

    async def body():
        async with sut.session(*setup.upstreams, config=setup.config) as session:
            who = json.loads(await call(session, "whoami"))
            assert who["client_id"] == stored["client_id"]
            assert await call(session, "echo", text="hi") == "hi"

    run(body)
    sent = [e["authorization"] for e in server.events("mcp") if e["authorization"]]
    assert sent and all(value.startswith("Bearer ") for value in sent)
    setup.assert_no_secrets(sut.stderr_text())


def test_an_expiring_token_is_refreshed_without_a_failed_call(setup: Setup, oauth_server, sut):
    server = oauth_server("--access-ttl", "3")
    setup.add(server)
    assert setup.login().returncode == 0

    async def body():
        async with sut.session(*setup.upstreams, config=setup.config) as session:
            deadline = time.monotonic() + 8
            calls = 0
            while time.monotonic() < deadline:
                assert await call(session, "echo", text=f"n{calls}") == f"n{calls}"
                calls += 1
                await anyio.sleep(0.2)
            assert calls > 20

    run(body)
    refreshes = [t for t in server.events("token") if t["grant_type"] == "refresh_token"]
    assert len(refreshes) >= 2 and all(t["status"] == 200 for t in refreshes)
    assert not [e for e in server.events("mcp") if e["status"] in (401, 403) and e["authorization"]], "a call went out with an expired token"
    setup.assert_no_secrets(sut.stderr_text())


def test_a_revoked_grant_fails_fast_until_the_next_login_and_other_servers_keep_serving(setup: Setup, oauth_server, sut):
    server = oauth_server()
    setup.add(server)
    setup.upstreams.append(demo())
    setup.write()
    assert setup.login().returncode == 0

    async def body():
        async with sut.session(*setup.upstreams, config=setup.config) as session:
            assert await call(session, "notes__echo", text="before") == "before"
            server.revoke_all()
            message = await call_error(session, "notes__echo", text="after")
            assert "plugboard auth login notes" in message, message
            started = time.monotonic()
            again = await call_error(session, "notes__echo", text="again")
            assert time.monotonic() - started < 1.0 and "plugboard auth login notes" in again
            assert await call(session, "demo__echo", text="still here") == "still here"

            # A new login takes effect in the running instance.
            assert setup.login().returncode == 0
            assert await call_after_login(session, "notes__echo", text="back") == "back"

    run(body, deadline=60)
    assert "invalid_grant" in sut.stderr_text()
    setup.assert_no_secrets(sut.stderr_text())


def test_insufficient_scope_asks_for_a_login_with_the_union_of_scopes(setup: Setup, oauth_server, sut):
    server = oauth_server()
    setup.add(server)
    assert setup.login().returncode == 0

    async def body():
        async with sut.session(*setup.upstreams, config=setup.config) as session:
            message = await call_error(session, "write_note", text="x")
            assert "notes:write" in message and "plugboard auth login notes" in message, message
            assert "notes:write" in setup.command("auth", "status").stdout
            assert setup.login().returncode == 0
            assert await call_after_login(session, "write_note", text="x") == "wrote x"
            assert await call(session, "echo", text="read still works") == "read still works"

    run(body, deadline=60)
    second = server.events("authorize")[-1]
    assert set(second["scope"].split()) >= {"notes:read", "notes:write"}
    setup.assert_no_secrets(sut.stderr_text())


# --------------------------------------------------------------------------- registration


def test_a_client_id_metadata_document(setup: Setup, oauth_server, sut):
    server = oauth_server("--registration", "cimd")
    port = free_port()
    document = server.publish_client_document("plugboard", {
        "client_id": f"{server.origin}/clients/plugboard.json", "client_name": "plugboard",
        "redirect_uris": [f"http://127.0.0.1:{port}/callback"], "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none"})
    setup.add(server, oauth={"client_metadata_url": document, "redirect_port": port})
    done = setup.login()
    assert done.returncode == 0, done.stderr
    assert "metadata-document" in done.stderr
    assert not server.events("register")
    assert server.events("cimd-fetch")

    async def body():
        async with sut.session(*setup.upstreams, config=setup.config) as session:
            assert json.loads(await call(session, "whoami"))["client_id"] == document

    run(body)
    setup.assert_no_secrets(sut.stderr_text())


def test_a_pre_registered_confidential_client(setup: Setup, oauth_server, sut):
    port = free_port()
    server = oauth_server("--registration", "none", "--client", f"pb-static:{CLIENT_SECRET}", "--access-ttl", "3",
                          "--redirect-uri", f"http://127.0.0.1:{port}/callback")
    setup.add(server, oauth={"client_id": "pb-static", "client_secret": setup.secret_reference(), "redirect_port": port,
                             "issuer": server.origin + "/auth"})
    done = setup.login()
    assert done.returncode == 0, done.stderr
    [stored] = [json.loads(p.read_text()) for p in setup.token_files()]
    assert "client_secret" not in stored, "a configured client secret is copied into the token file"

    async def body():
        async with sut.session(*setup.upstreams, config=setup.config) as session:
            assert json.loads(await call(session, "whoami"))["client_id"] == "pb-static"
            await anyio.sleep(3.5)
            assert await call(session, "echo", text="refreshed") == "refreshed"

    run(body)
    assert {t["auth_method"] for t in server.events("token")} == {"client_secret_basic"}
    assert any(t["grant_type"] == "refresh_token" and t["status"] == 200 for t in server.events("token"))
    # Logout authenticates with the configured secret, which the token file does not hold.
    done = setup.command("auth", "logout", "notes")
    assert done.returncode == 0, done.stderr
    assert [e["status"] for e in server.events("revoke")] == [200, 200]
    setup.assert_no_secrets(sut.stderr_text())


def test_no_way_to_register_says_what_to_configure(setup: Setup, oauth_server):
    server = oauth_server("--registration", "none")
    setup.add(server)
    done = setup.login()
    assert done.returncode == 1
    assert "client_id" in done.stderr and "[servers.notes.oauth]" in done.stderr
    assert not setup.token_files()


def test_client_credentials_need_no_login(setup: Setup, oauth_server, sut):
    server = oauth_server("--registration", "none", "--client", f"m2m:{CLIENT_SECRET}", "--client-credentials", "--access-ttl", "3")
    setup.add(server, oauth={"grant": "client_credentials", "client_id": "m2m", "client_secret": setup.secret_reference()})

    async def body():
        async with sut.session(*setup.upstreams, config=setup.config) as session:
            assert json.loads(await call(session, "whoami"))["client_id"] == "m2m"
            await anyio.sleep(3.5)
            assert await call(session, "echo", text="renewed") == "renewed"

    run(body)
    grants = [t for t in server.events("token") if t["status"] == 200]
    assert len(grants) >= 2 and {t["grant_type"] for t in grants} == {"client_credentials"}
    assert not server.events("authorize")
    setup.assert_no_secrets(sut.stderr_text())


# --------------------------------------------------------------------------- attacks


@pytest.mark.parametrize("mode", ["wrong", "absent"])
def test_a_tampered_or_missing_issuer_is_rejected_before_the_code_is_used(setup: Setup, oauth_server, mode):
    server = oauth_server("--iss", mode)
    setup.add(server)
    done = setup.login()
    assert done.returncode == 1
    assert "RFC 9207" in done.stderr
    assert not [t for t in server.events("token") if t["grant_type"] == "authorization_code"], "the code went to the token endpoint"
    assert not setup.token_files()


def test_a_redirect_with_another_state_is_ignored(setup: Setup, oauth_server):
    server = oauth_server()
    setup.add(server)
    forged: list[tuple[int, str]] = []

    def browser(url: str) -> None:
        location = setup.authorize(url)
        u = urlsplit(location)
        query = parse_qs(u.query)
        query["state"] = ["forged"]
        forged.append(loopback_get(urlunsplit(u._replace(query=urlencode({k: v[0] for k, v in query.items()})))))
        loopback_get(location)

    done = setup.login(browser=browser)
    assert forged and forged[0][0] == 400 and "does not match" in forged[0][1]
    assert done.returncode == 0, done.stderr
    assert len([t for t in server.events("token") if t["grant_type"] == "authorization_code"]) == 1


def test_a_token_is_sent_only_to_the_server_it_was_issued_for(setup: Setup, oauth_server, sut):
    first, second = oauth_server(), oauth_server()
    setup.add(first, name="a")
    setup.add(second, name="b")
    assert setup.login("a").returncode == 0
    token = json.loads(setup.token_files()[0].read_text())["access_token"]

    async def body():
        async with sut.session(*setup.upstreams, config=setup.config) as session:
            assert await call(session, "a__echo", text="x") == "x"
            message = await call_error(session, "b__echo", text="x")
            assert "plugboard auth login b" in message, message

    run(body)
    assert any(e["authorization"] == f"Bearer {token}" for e in first.events("mcp"))
    assert not [e for e in second.events("mcp") if e["authorization"]], "server b received a token"
    setup.assert_no_secrets(sut.stderr_text())


# --------------------------------------------------------------------------- status and logout


def test_status_and_logout(setup: Setup, oauth_server):
    server = oauth_server()
    setup.add(server)
    assert "not authorized" in setup.command("auth", "status").stdout
    assert setup.login().returncode == 0
    status = setup.command("auth", "status").stdout
    assert "notes: authorized by " + server.origin + "/auth" in status and "notes:read" in status and "refreshable" in status
    done = setup.command("auth", "logout", "notes")
    assert done.returncode == 0, done.stderr
    assert "revoked" in done.stderr
    assert {e["token_type_hint"] for e in server.events("revoke")} == {"refresh_token", "access_token"}
    assert not setup.token_files()
    setup.assert_no_secrets()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
