"""plugboard over HTTP: the Streamable HTTP frontend (spec 2025-11-25) and remote upstreams.

Sections:
  * SDK client -> plugboard `[http]` -> two demo stdio upstreams (alpha, beta), aggregated
  * raw HTTP (http.client / sockets): the transport's rules, security limits, resumption,
    older protocol versions
  * admin endpoints: /healthz /readyz /metrics /status
  * the reverse: plugboard (stdio) -> contrib/demo-http-server over Streamable HTTP and legacy SSE

With PLUGBOARD_DIRECT=1 the HTTP server under test is contrib/demo-http-server (the Python
SDK's own server) and the remote-upstream tests connect the SDK to it directly: that
validates these tests. Tests of plugboard-only behaviour are marked `requires_proxy`.
"""

from __future__ import annotations

import json
import re
import socket
import time
from contextlib import asynccontextmanager

import anyio
import mcp_types as types
import pytest
from mcp import ClientSession

from conftest import (
    DIRECT,
    READ_TIMEOUT,
    MCPConnection,
    demo,
    http_client_transport,
    http_get,
    raw_exchange,
    read_sse,
    remote,
    requires_proxy,
    run,
    status_of,
    wait_ready,
)
from test_transparent import DEMO_TOOLS, all_tools, text_of

TOKEN_ENV = "PLUGBOARD_TEST_HTTP_TOKEN"
HTTP_TOOLS = {"add", "whoami", "slow", "ask_model"}  # contrib/demo-http-server


class Calls:
    """The tool calls the HTTP SUT offers: two aggregated demo servers, or (DIRECT) the demo HTTP server."""

    @staticmethod
    def progress(steps: int, delay_ms: int, server: str = "alpha") -> tuple[str, dict]:
        if DIRECT:
            return "slow", {"ms": steps * delay_ms, "steps": steps}
        return f"{server}__progress", {"steps": steps, "delay_ms": delay_ms}

    @staticmethod
    def sample(prompt: str, server: str = "alpha") -> tuple[str, dict]:
        return ("ask_model", {"prompt": prompt}) if DIRECT else (f"{server}__sample", {"prompt": prompt})

    @staticmethod
    def cheap() -> tuple[str, dict]:
        return ("add", {"a": 1, "b": 2}) if DIRECT else ("alpha__echo", {"text": "x"})


def two_demos():
    return demo("alpha"), demo("beta")


def sampled(prefix: str = "sampled: "):
    async def callback(ctx, params: types.CreateMessageRequestParams):
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text=prefix + params.messages[0].content.text), model="m"
        )

    return callback


class ResponseLog:
    """Every HTTP response the SDK client got (method, status, headers)."""

    def __init__(self):
        self.seen: list[tuple[str, int, dict[str, str]]] = []

    def __call__(self, response) -> None:
        self.seen.append((response.request.method, response.status_code, {k.lower(): v for k, v in response.headers.items()}))

    def session_ids(self) -> set[str]:
        return {h["mcp-session-id"] for _, _, h in self.seen if "mcp-session-id" in h}


@asynccontextmanager
async def sdk_session(url: str, log: ResponseLog | None = None, headers: dict[str, str] | None = None, **kwargs):
    """An initialized SDK ClientSession over Streamable HTTP (DELETEs the session on exit)."""
    async with http_client_transport(url, headers=headers, on_response=log) as (read, write):
        async with ClientSession(read, write, read_timeout_seconds=READ_TIMEOUT, **kwargs) as session:
            with anyio.fail_after(READ_TIMEOUT):
                await session.initialize()
            yield session


# =========================================================================== SDK client -> [http]


def test_sdk_initialize_issues_session_id(http_sut):
    sut = http_sut(*two_demos())
    log = ResponseLog()

    async def body():
        async with sdk_session(sut.url, log) as s:
            assert s.initialize_result.protocol_version == "2025-11-25"
            await s.send_ping()

    run(body)
    ids = log.session_ids()
    assert len(ids) == 1, f"one session id expected, saw {ids} in {log.seen}"
    sid = ids.pop()
    assert re.fullmatch(r"[\x21-\x7e]{16,}", sid), f"session id must be visible ASCII and hard to guess: {sid!r}"
    init = log.seen[0]
    assert init[0] == "POST" and init[1] == 200 and init[2].get("mcp-session-id") == sid


@requires_proxy
def test_sdk_aggregated_list_and_call(http_sut):
    sut = http_sut(*two_demos())

    async def body():
        async with sdk_session(sut.url) as s:
            names = {t.name for t in await all_tools(s)}
            assert {f"alpha__{n}" for n in DEMO_TOOLS} | {f"beta__{n}" for n in DEMO_TOOLS} <= names, names
            assert "echo" not in names
            assert text_of(await s.call_tool("alpha__echo", {"text": "über http"})) == "über http"
            add = await s.call_tool("beta__add", {"a": 20, "b": 22})
            assert add.structured_content == {"sum": 42}
            big = await s.call_tool("beta__payload", {"bytes": 200_000})
            assert len(text_of(big)) == 200_000

    run(body)


@requires_proxy
def test_sdk_over_ipv6_loopback(http_sut):
    sut = http_sut(*two_demos(), http={"listen": ["[::1]:0"]})
    assert sut.url.startswith("http://[::1]:"), sut.url

    async def body():
        async with sdk_session(sut.url) as s:
            assert text_of(await s.call_tool("alpha__echo", {"text": "v6"})) == "v6"

    run(body)


def test_sdk_progress_over_sse(http_sut):
    sut = http_sut(*two_demos())
    log = ResponseLog()

    async def body():
        seen = []

        async def on_progress(progress, total, message):
            seen.append((progress, total, message))

        async with sdk_session(sut.url, log) as s:
            name, args = Calls.progress(4, 30, server="beta")
            res = await s.call_tool(name, args, progress_callback=on_progress)
            assert not res.is_error, text_of(res)
        assert [p for p, _, _ in seen] == [1, 2, 3, 4]
        assert all(t == 4 for _, t, _ in seen)
        assert seen[-1][2] == "step 4/4"

    run(body)
    streamed = [s for m, s, h in log.seen if m == "POST" and h.get("content-type", "").startswith("text/event-stream")]
    assert streamed, f"the progress notifications should have come on an SSE answer: {log.seen}"


def test_sdk_sampling_round_trip(http_sut):
    """The upstream's sampling/createMessage reaches the client on the call's SSE stream; the answer (a POST) goes back."""
    sut = http_sut(*two_demos())
    log = ResponseLog()

    async def body():
        prompts = []

        async def callback(ctx, params):
            prompts.append(params.messages[0].content.text)
            return await sampled()(ctx, params)

        async with sdk_session(sut.url, log, sampling_callback=callback) as s:
            name, args = Calls.sample("hello over http")
            res = await s.call_tool(name, args)
            assert not res.is_error, text_of(res)
            assert text_of(res) == "sampled: hello over http"
        assert prompts == ["hello over http"]

    run(body)
    # notifications/initialized and the client's answer to the server's request: POSTs acknowledged with 202
    assert sum(1 for m, s, _ in log.seen if m == "POST" and s == 202) >= 2, log.seen


def test_sdk_session_delete_then_404(http_sut):
    sut = http_sut(*two_demos())
    log = ResponseLog()

    async def body():
        async with sdk_session(sut.url, log) as s:
            await s.send_ping()

    run(body)
    (sid,) = log.session_ids()
    deletes = [(m, s) for m, s, _ in log.seen if m == "DELETE"]
    assert deletes and deletes[0][1] in (200, 204), f"DELETE answered {deletes}"
    with MCPConnection(sut.url) as c:
        c.session_id, c.protocol_version = sid, "2025-11-25"
        r = c.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert r.status == 404, f"request on a deleted session: {r}"
        r = c.request("DELETE")
        assert r.status == 404, f"second DELETE: {r}"


async def two_sessions_sampling_at_once(url: str, calls: dict[str, tuple[str, dict]]) -> None:
    """Two SDK sessions, each with one sampling call in flight at the same time (each sampling
    callback waits until the other's has been entered); each must see only its own request."""
    got: dict[str, list[str]] = {label: [] for label in calls}
    both_in = anyio.Event()

    def callback_for(label):
        async def callback(ctx, params):
            got[label].append(params.messages[0].content.text)
            if all(got.values()):
                both_in.set()
            with anyio.move_on_after(5):  # on timeout the assertion below says where the requests went
                await both_in.wait()
            return await sampled(f"{label}: ")(ctx, params)

        return callback

    results: dict[str, str] = {}

    async def client(label):
        async with sdk_session(url, sampling_callback=callback_for(label)) as s:
            name, args = calls[label]
            try:
                results[label] = text_of(await s.call_tool(name, args))
            except Exception as e:  # noqa: BLE001 - reported with the routing below
                results[label] = f"failed: {e}"

    async with anyio.create_task_group() as tg:
        for label in calls:
            tg.start_soon(client, label)
    assert got == {label: [args["prompt"]] for label, (_, args) in calls.items()}, f"sampling requests reached {got}"
    assert results == {label: f"{label}: {args['prompt']}" for label, (_, args) in calls.items()}, results


def test_sdk_two_concurrent_sessions_get_their_own_sampling(http_sut):
    """Two sessions, each with a sampling call in flight on its own upstream.

    (Two sessions sampling through the same *stdio* upstream at once cannot be told apart:
    JSON-RPC does not link a server's request to the call that caused it.)"""
    sut = http_sut(*two_demos())
    run(two_sessions_sampling_at_once, sut.url, {"one": Calls.sample("prompt of one", "alpha"), "two": Calls.sample("prompt of two", "beta")})


# =========================================================================== raw HTTP: transport rules


def init_body(version: str = "2025-11-25", id: int = 1) -> dict:
    return {
        "jsonrpc": "2.0", "id": id, "method": "initialize",
        "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
    }


def test_bad_origin_is_403(http_sut):
    sut = http_sut(*two_demos())
    with MCPConnection(sut.url) as c:
        r = c.post(init_body(), {"Origin": "http://evil.example"})
        assert r.status == 403, f"foreign Origin: {r}"
        assert "mcp-session-id" not in r.headers
        r = c.post(init_body(), {"Origin": "http://evil.example:80"})
        assert r.status == 403, f"foreign Origin with port: {r}"
    with MCPConnection(sut.url, headers={"Origin": f"http://localhost:{sut.port}"}) as c:
        assert c.initialize()["protocolVersion"] == "2025-11-25"
        assert c.rpc("ping")["result"] == {}
    with MCPConnection(sut.url, headers={"Origin": "http://127.0.0.1:3000"}) as c:
        c.initialize()


@requires_proxy
def test_allowed_origins_setting(http_sut):
    sut = http_sut(*two_demos(), http={"allowed_origins": ["https://app.example.com"]})
    with MCPConnection(sut.url, headers={"Origin": "https://app.example.com"}) as c:
        c.initialize()
        assert c.rpc("ping")["result"] == {}
    with MCPConnection(sut.url) as c:
        r = c.post(init_body(), {"Origin": "https://other.example.com"})
        assert r.status == 403, r
        r = c.post(init_body(), {"Origin": "http://app.example.com"})  # scheme is part of the origin
        assert r.status == 403, r


@requires_proxy
def test_bearer_token(http_sut):
    token = "s3cret-" + "x" * 24
    sut = http_sut(*two_demos(), http={"auth_token_env": TOKEN_ENV}, env={TOKEN_ENV: token})
    with MCPConnection(sut.url) as c:
        r = c.post(init_body())
        assert r.status == 401, f"no Authorization: {r}"
        assert r.headers.get("www-authenticate", "").lower().startswith("bearer"), f"401 needs WWW-Authenticate: Bearer: {r}"
        r = c.post(init_body(), {"Authorization": "Bearer wrong-token"})
        assert r.status == 401, f"wrong token: {r}"
        assert r.headers.get("www-authenticate", "").lower().startswith("bearer"), r
        r = c.post(init_body(), {"Authorization": f"Bearer {token}x"})
        assert r.status == 401, f"token with a suffix: {r}"
        r = c.post(init_body(), {"Authorization": f"Basic {token}"})
        assert r.status == 401, f"not a bearer token: {r}"
    with MCPConnection(sut.url, token=token) as c:
        c.initialize()
        assert c.rpc("tools/call", {"name": "alpha__echo", "arguments": {"text": "authorized"}})["result"]["content"][0]["text"] == "authorized"
        r = c.post({"jsonrpc": "2.0", "id": 99, "method": "ping"}, {"Authorization": None})
        assert r.status == 401, f"a session id is no substitute for the token: {r}"
    # probes stay open to load balancers
    assert http_get(sut.admin_url + "/healthz").status == 200

    async def body():
        async with sdk_session(sut.url, headers={"Authorization": f"Bearer {token}"}) as s:
            assert text_of(await s.call_tool("beta__echo", {"text": "sdk"})) == "sdk"

    run(body)


def test_post_without_session_id_is_400(http_sut):
    sut = http_sut(*two_demos())
    with MCPConnection(sut.url) as c:
        c.initialize()
        r = c.post({"jsonrpc": "2.0", "id": 5, "method": "tools/list"}, {"Mcp-Session-Id": None})
        assert r.status == 400, f"POST without Mcp-Session-Id after initialize: {r}"
        r = c.request("GET", headers={"Mcp-Session-Id": None, "Accept": "text/event-stream"})
        assert r.status == 400, f"GET without Mcp-Session-Id: {r}"
        assert c.rpc("tools/list")["result"]["tools"], "the session itself still works"


def test_unknown_session_is_404(http_sut):
    sut = http_sut(*two_demos())
    with MCPConnection(sut.url) as c:
        c.initialize()
        good = c.session_id
        for sid in ["0" * 32, good[:-1] + ("0" if good[-1] != "0" else "1")]:
            c.session_id = sid
            r = c.post({"jsonrpc": "2.0", "id": 7, "method": "ping"})
            assert r.status == 404, f"POST with unknown session {sid}: {r}"
            r = c.request("GET", headers={"Accept": "text/event-stream"})
            assert r.status == 404, f"GET with unknown session {sid}: {r}"
        c.session_id = good
        assert c.rpc("ping")["result"] == {}


def test_unsupported_protocol_version_header_is_400(http_sut):
    sut = http_sut(*two_demos())
    with MCPConnection(sut.url) as c:
        c.initialize()
        r = c.post({"jsonrpc": "2.0", "id": 3, "method": "ping"}, {"MCP-Protocol-Version": "1999-01-01"})
        assert r.status == 400, f"MCP-Protocol-Version 1999-01-01: {r}"
        assert c.rpc("ping")["result"] == {}


@pytest.mark.parametrize("accept", ["application/json", "text/event-stream", "text/html", None])
def test_post_accept_must_list_json_and_sse(http_sut, accept):
    sut = http_sut(*two_demos())
    with MCPConnection(sut.url) as c:
        r = c.post(init_body(), {"Accept": accept})
        assert r.status == 406, f"POST with Accept {accept!r}: {r}"
        c.initialize()


@requires_proxy
def test_oversized_body_is_413(http_sut):
    sut = http_sut(*two_demos(), http={"max_body_bytes": 65536})
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "x" * 200_000}}).encode()
    head = (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{sut.port}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json, text/event-stream\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    raw = raw_exchange("127.0.0.1", sut.port, head + body)
    assert status_of(raw) == 413, f"200 KB body with max_body_bytes = 65536: {raw[:300]!r}"
    # just under the limit is fine
    with MCPConnection(sut.url) as c:
        c.initialize()
        r = c.rpc("tools/call", {"name": "alpha__echo", "arguments": {"text": "y" * 60_000}})
        assert len(r["result"]["content"][0]["text"]) == 60_000


@requires_proxy
def test_oversized_headers_are_431(http_sut):
    sut = http_sut(*two_demos(), http={"max_header_bytes": 8192})
    req = (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{sut.port}\r\nX-Filler: {'a' * 10_000}\r\n"
        "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    ).encode()
    raw = raw_exchange("127.0.0.1", sut.port, req)
    assert status_of(raw) == 431, f"10 KB header with max_header_bytes = 8192: {raw[:300]!r}"
    many = "".join(f"X-H{i}: {'b' * 100}\r\n" for i in range(100))
    raw = raw_exchange("127.0.0.1", sut.port, f"GET /healthz HTTP/1.1\r\nHost: x\r\n{many}\r\n".encode())
    assert status_of(raw) == 431, f"100 headers of 100 bytes: {raw[:300]!r}"


@requires_proxy
def test_slow_loris_connection_is_closed(http_sut):
    sut = http_sut(*two_demos(), http={"header_timeout": "1s"})
    with socket.create_connection(("127.0.0.1", sut.port), timeout=8) as s:
        s.sendall(f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{sut.port}\r\nAccept: appl".encode())
        t0 = time.monotonic()
        # others are served meanwhile
        with MCPConnection(sut.url) as c:
            c.initialize()
            assert c.rpc("ping")["result"] == {}
        got = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
        except ConnectionResetError:
            pass
        except socket.timeout:
            pytest.fail(f"connection with a partial request head still open after {time.monotonic() - t0:.1f}s")
        waited = time.monotonic() - t0
    assert 0.5 <= waited <= 5, f"closed after {waited:.1f}s with header_timeout = 1s"
    assert got == b"" or status_of(got) == 408, f"only a 408 (or nothing) may precede the close: {got[:200]!r}"


def test_resume_sse_stream_with_last_event_id(http_sut):
    """A slow call's SSE answer is dropped after the first progress event; GET with
    Last-Event-ID on the session replays the rest, final response included."""
    sut = http_sut(*two_demos())
    steps = 5
    name, args = Calls.progress(steps, 300)
    c = MCPConnection(sut.url)
    c.initialize()
    call = {"jsonrpc": "2.0", "id": 42, "method": "tools/call", "params": {"name": name, "arguments": args, "_meta": {"progressToken": "tok-r"}}}
    resp = c.open("POST", call)
    assert resp.status == 200 and resp.getheader("Content-Type", "").startswith("text/event-stream"), (resp.status, resp.getheaders())
    first = None
    last_id = None
    for ev in read_sse(resp.readline):
        if ev.id:
            last_id = ev.id
        if ev.data.strip():
            first = ev.json()
            break
    assert first and first.get("method") == "notifications/progress" and first["params"]["progress"] == 1, first
    assert last_id, "the event carrying the first progress notification has no id: nothing to resume from"
    # drop the connection mid-stream
    resp.close()
    c.close()
    time.sleep(0.4)  # let at least one event be produced while nobody listens

    with MCPConnection(sut.url) as r:
        r.session_id, r.protocol_version = c.session_id, c.protocol_version
        again = r.open("GET", headers={"Accept": "text/event-stream", "Last-Event-ID": last_id, "Content-Type": None})
        assert again.status == 200, (again.status, again.read()[:300])
        rest = []
        ids = []
        for ev in read_sse(again.readline):
            if ev.id:
                ids.append(ev.id)
            if ev.data.strip():
                msg = ev.json()
                rest.append(msg)
                if msg.get("id") == 42:
                    break
        again.close()
    progress = [m["params"]["progress"] for m in rest if m.get("method") == "notifications/progress"]
    assert progress == list(range(2, steps + 1)), f"replayed progress {progress} (expected 2..{steps}, no repeats, no gaps): {rest}"
    assert rest and rest[-1].get("id") == 42 and "result" in rest[-1], f"the final response was not replayed: {rest}"
    assert last_id not in ids, f"the event {last_id} the client had already seen was sent again"
    assert len(set(ids)) == len(ids), f"duplicate event ids {ids}"


def test_resume_with_unknown_event_id_does_not_replay(http_sut):
    sut = http_sut(*two_demos())
    with MCPConnection(sut.url) as c:
        c.initialize()
        r = c.open("GET", headers={"Accept": "text/event-stream", "Last-Event-ID": "999-999", "Content-Type": None})
        if r.status == 200:  # allowed: an empty stream; it must not replay anything
            r.close()
            c.reconnect()
        else:
            assert r.status in (400, 404), (r.status, r.read()[:200])
            r.read()


@pytest.mark.parametrize("version", ["2025-03-26", "2025-06-18"])
def test_older_protocol_versions(http_sut, version):
    sut = http_sut(*two_demos())
    with MCPConnection(sut.url) as c:
        result = c.initialize(version)
        assert result["protocolVersion"] == version
        assert c.protocol_version == version  # later requests carry MCP-Protocol-Version: <version>
        tools = c.rpc("tools/list")["result"]["tools"]
        assert tools
        name, args = Calls.cheap()
        res = c.rpc("tools/call", {"name": name, "arguments": args})
        assert "result" in res and not res["result"].get("isError"), res
        if version < "2025-06-18":
            # 2025-03-26 clients do not send the header at all; the server assumes their version
            assert c.rpc("ping", headers={"MCP-Protocol-Version": None})["result"] == {}


# =========================================================================== admin endpoints


def prometheus_samples(text: str) -> tuple[dict[str, str], dict[str, float]]:
    """(# TYPE by metric name, value by `name{labels}`)."""
    types_, samples = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            types_[name] = kind
        elif line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            samples[key] = float(value)
    return types_, samples


def counters_of(text: str) -> dict[str, float]:
    types_, samples = prometheus_samples(text)
    return {k: v for k, v in samples.items() if types_.get(re.split(r"[{ ]", k)[0]) == "counter" and k.startswith("plugboard_")}


def check_admin(admin_url: str, mcp_url: str) -> None:
    assert http_get(admin_url + "/healthz").status == 200
    wait_ready(admin_url)
    before = http_get(admin_url + "/metrics")
    assert before.status == 200, before
    assert before.headers.get("content-type", "").startswith("text/plain"), before.headers
    text = before.body.decode()
    assert re.search(r"(?m)^# TYPE plugboard_\w+ (counter|gauge|histogram)$", text), text[:1000]
    assert re.search(r"(?m)^# HELP plugboard_\w+ ", text), "metrics should carry # HELP lines"
    for line in text.splitlines():
        assert line.startswith("#") or re.fullmatch(r'[a-zA-Z_:][\w:]*(\{.*\})? -?[\d.e+-]+|[a-zA-Z_:][\w:]*(\{.*\})? (NaN|\+Inf|-Inf)', line), f"not Prometheus text: {line!r}"
    counters0 = counters_of(text)
    with MCPConnection(mcp_url) as c:
        c.initialize()
        for i in range(5):
            assert c.rpc("tools/call", {"name": "alpha__echo", "arguments": {"text": str(i)}})["result"]["content"][0]["text"] == str(i)
    counters1 = counters_of(http_get(admin_url + "/metrics").body.decode())
    grown = {k: counters1[k] - counters0.get(k, 0) for k in counters1 if counters1[k] - counters0.get(k, 0) >= 5}
    assert grown, f"no plugboard_ counter grew by the 5 calls: before {counters0}, after {counters1}"
    status = http_get(admin_url + "/status")
    assert status.status == 200 and status.headers.get("content-type", "").startswith("application/json"), status
    assert isinstance(status.json(), dict) and status.json(), status


@requires_proxy
def test_admin_endpoints_on_the_mcp_listener(http_sut):
    sut = http_sut(*two_demos())
    assert sut.admin_url == sut.origin
    check_admin(sut.admin_url, sut.url)
    r = http_get(sut.origin + "/nope")
    assert r.status == 404, r


@requires_proxy
def test_admin_endpoints_on_their_own_listener(http_sut):
    sut = http_sut(*two_demos(), admin={"listen": "127.0.0.1:0"})
    assert sut.admin_url != sut.origin
    check_admin(sut.admin_url, sut.url)
    assert http_get(sut.origin + "/healthz").status == 404, "with [admin] listen the MCP listener should not serve /healthz"
    with MCPConnection(sut.admin_url + "/mcp") as c:
        r = c.post(init_body())
        assert r.status in (404, 405) and "mcp-session-id" not in r.headers, f"the admin listener must not serve MCP: {r}"


# =========================================================================== plugboard as the client of HTTP servers

TRANSPORTS = [pytest.param(None, id="streamable-http-default"), pytest.param("sse", id="legacy-sse")]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_remote_upstream(sut, demo_http, transport):
    url = demo_http("sse" if transport == "sse" else "streamable-http", name="remote")

    async def body():
        progress = []
        prompts = []

        async def on_progress(p, total, message):
            progress.append((p, total, message))

        async def callback(ctx, params):
            prompts.append(params.messages[0].content.text)
            return await sampled("model says: ")(ctx, params)

        async with sut.session(remote(url, transport=transport), sampling_callback=callback) as s:
            names = {t.name for t in (await s.list_tools()).tools}
            assert HTTP_TOOLS <= names, names
            add = await s.call_tool("add", {"a": 40, "b": 2})
            assert text_of(add) == "42"
            who = json.loads(text_of(await s.call_tool("whoami", {})))
            assert who == {"name": "remote", "port": int(url.split(":")[2].split("/")[0]), "transport": transport or "streamable-http"}
            res = await s.call_tool("slow", {"ms": 120, "steps": 3}, progress_callback=on_progress)
            assert text_of(res) == "slept 120 ms"
            assert [(p, t) for p, t, _ in progress] == [(1, 3), (2, 3), (3, 3)]
            asked = await s.call_tool("ask_model", {"prompt": "ping?"})
            assert text_of(asked) == "model says: ping?", text_of(asked)
            assert prompts == ["ping?"]
            # calls in parallel over the one upstream connection
            results = {}

            async def one(i):
                results[i] = text_of(await s.call_tool("add", {"a": i, "b": i}))

            async with anyio.create_task_group() as tg:
                for i in range(10):
                    tg.start_soon(one, i)
            assert results == {i: str(2 * i) for i in range(10)}

    run(body)


@requires_proxy
def test_remote_upstreams_aggregated_with_stdio(sut, demo_http):
    web = demo_http("streamable-http", name="web")
    legacy = demo_http("sse", name="legacy")

    async def body():
        async with sut.session(demo("local"), remote(web, "web"), remote(legacy, "old", transport="sse"), sampling_callback=sampled()) as s:
            names = {t.name for t in await all_tools(s)}
            assert {"local__echo", "web__add", "web__whoami", "old__add", "old__ask_model"} <= names, names
            assert json.loads(text_of(await s.call_tool("web__whoami", {})))["name"] == "web"
            assert json.loads(text_of(await s.call_tool("old__whoami", {})))["name"] == "legacy"
            assert text_of(await s.call_tool("local__echo", {"text": "stdio"})) == "stdio"
            assert text_of(await s.call_tool("old__ask_model", {"prompt": "a"})) == "sampled: a"
            assert text_of(await s.call_tool("web__ask_model", {"prompt": "b"})) == "sampled: b"

    run(body)


@requires_proxy
def test_http_frontend_to_http_upstream(http_sut, demo_http):
    """HTTP all the way: SDK -> plugboard [http] -> demo HTTP server, sampling included."""
    url = demo_http("streamable-http", name="far")
    sut = http_sut(remote(url, "far"), demo("near"))

    async def body():
        async with sdk_session(sut.url, sampling_callback=sampled("far: ")) as s:
            assert json.loads(text_of(await s.call_tool("far__whoami", {})))["name"] == "far"
            assert text_of(await s.call_tool("far__ask_model", {"prompt": "x"})) == "far: x"

    run(body)


@requires_proxy
def test_two_sessions_sampling_through_one_http_upstream(http_sut, demo_http):
    """Two sessions sample through the same Streamable HTTP upstream at once. Unlike stdio, the
    upstream says which call a sampling request belongs to: it arrives on that call's SSE stream."""
    url = demo_http("streamable-http", name="far")
    sut = http_sut(remote(url, "far"), demo("near"))
    run(two_sessions_sampling_at_once, sut.url, {
        "one": ("far__ask_model", {"prompt": "prompt of one"}),
        "two": ("far__ask_model", {"prompt": "prompt of two"}),
    })
