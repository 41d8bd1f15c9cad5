"""https toward remote servers and on plugboard's own endpoint, against real parts on loopback.

A throwaway PKI is made with the `openssl` CLI: a test CA, an unrelated CA, and server
certificates that are good, expired, for the wrong name, signed by the other CA, and a second
good one for rotation. The upstream is the official SDK 2.x server (fixtures/modern_server.py)
served by uvicorn over TLS; its `whoami` tool shows the headers plugboard sent. Clients speak
JSON-RPC to `plugboard run` over stdio, and the SDK's Streamable HTTP client reaches
plugboard's HTTPS endpoint with the test CA.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import DEMO_SERVER, PLUGBOARD_BIN, DIRECT, ServerProcess

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
PY2 = sys.executable
SECRET = "pb-secret-0c7a91e4"

pytestmark = pytest.mark.skipif(DIRECT, reason="needs plugboard")


# --------------------------------------------------------------------------- PKI


@dataclass
class Pki:
    root: Path

    def cert(self, name: str) -> Path:
        return self.root / f"{name}.pem"

    def key(self, name: str) -> Path:
        return self.root / f"{name}.key"

    @property
    def ca(self) -> Path:
        return self.root / "ca.pem"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _issue(root: Path, name: str, ca: str, san: str, start: str, end: str) -> None:
    """A leaf for `san`, signed by `ca`, valid from `start` to `end` (YYYYMMDDHHMMSSZ), via `openssl ca`."""
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", "/CN=plugboard test", cwd=root)
    db = root / f"{ca}-db"
    db.mkdir(exist_ok=True)
    (db / "index.txt").touch()
    if not (db / "serial").exists():
        (db / "serial").write_text("1000\n")
    (root / f"{name}.cnf").write_text(
        "[ca]\ndefault_ca = test\n[test]\n"
        f"database = {db}/index.txt\nserial = {db}/serial\nnew_certs_dir = {db}\n"
        f"certificate = {root}/{ca}.pem\nprivate_key = {root}/{ca}.key\n"
        "default_md = sha256\npolicy = any\nunique_subject = no\ncopy_extensions = none\nx509_extensions = leaf\n"
        "[any]\ncommonName = supplied\n"
        f"[leaf]\nsubjectAltName = {san}\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n"
    )
    _openssl("ca", "-batch", "-config", f"{name}.cnf", "-in", f"{name}.csr", "-out", f"{name}.pem", "-notext",
             "-startdate", start, "-enddate", end, cwd=root)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    root = tmp_path_factory.mktemp("pki")
    for ca in ("ca", "other-ca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.pem", "-days", "3",
                 "-subj", f"/CN=plugboard {ca}", cwd=root)
    now = time.gmtime()
    past = time.strftime("%Y%m%d%H%M%SZ", time.gmtime(time.time() - 3 * 86400))
    recent = time.strftime("%Y%m%d%H%M%SZ", time.gmtime(time.time() - 2 * 86400))
    soon = time.strftime("%Y%m%d%H%M%SZ", time.gmtime(time.time() + 2 * 86400))
    yesterday = time.strftime("%Y%m%d%H%M%SZ", time.gmtime(time.time() - 3600))
    local = "DNS:localhost,IP:127.0.0.1,IP:::1"
    _issue(root, "good", "ca", local, yesterday, soon)
    _issue(root, "good2", "ca", local, yesterday, soon)
    _issue(root, "expired", "ca", local, past, recent)
    _issue(root, "wronghost", "ca", "DNS:wrong.example", yesterday, soon)
    _issue(root, "other", "other-ca", local, yesterday, soon)
    del now
    return Pki(root)


# --------------------------------------------------------------------------- parts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Plugboard:
    """`plugboard run` on stdio with a hand-written config; JSON-RPC spoken directly."""

    def __init__(self, tmp: Path, toml: str, env: dict[str, str] | None = None):
        self.dir = tmp / f"etc-{time.monotonic_ns()}"
        self.dir.mkdir()
        (self.dir / "plugboard.toml").write_text(toml)
        self.stderr_path = self.dir / "stderr.log"
        self.proc = subprocess.Popen(
            [PLUGBOARD_BIN, "run", "--config", str(self.dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.stderr_path.open("w"), env={**os.environ, **(env or {})},
        )
        self.next_id = 1

    def request(self, method: str, params: dict, timeout: float = 20) -> dict:
        ident = self.next_id
        self.next_id += 1
        self.proc.stdin.write((json.dumps({"jsonrpc": "2.0", "id": ident, "method": method, "params": params}) + "\n").encode())
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"plugboard closed stdout:\n{self.log()[-3000:]}")
            message = json.loads(line)
            if message.get("id") == ident:
                return message
        raise AssertionError(f"no answer to {method} in {timeout}s")

    def initialize(self) -> dict:
        answer = self.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "https-test", "version": "1"}})
        self.proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        self.proc.stdin.flush()
        return answer

    def call(self, tool: str, arguments: dict | None = None) -> dict:
        return self.request("tools/call", {"name": tool, "arguments": arguments or {}})

    def log(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def status(self) -> str:
        """The SIGUSR1 status dump, as written to the log."""
        before = self.log().count("status {")
        self.proc.send_signal(__import__("signal").SIGUSR1)
        for _ in range(50):
            text = self.log()
            if text.count("status {") > before:
                return text[text.rindex("status {"):]
            time.sleep(0.1)
        raise AssertionError("no status dump after SIGUSR1")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def https_upstream(tmp: Path, pki: Pki, cert: str) -> tuple[ServerProcess, int]:
    """The SDK server over TLS with `cert`; returns it and its port."""
    server = ServerProcess(
        [PY2, str(FIXTURES / "modern_server.py"), "--transport", "http", "--port", "0",
         "--tls-cert", str(pki.cert(cert)), "--tls-key", str(pki.key(cert))],
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=tmp, log_path=tmp / f"upstream-{cert}.log",
        patterns={"url": re.compile(r"^listening (https://\S+)")},
    )
    url = server.wait_for("url")
    return server, int(url.rsplit(":", 1)[1].split("/")[0])


def remote_toml(port: int, extra: str = "", host: str = "localhost") -> str:
    return (
        '[log]\nlevel = "info"\n[servers.secure]\n'
        f'url = "https://{host}:{port}/mcp"\nrequest_timeout = "10s"\nrestart_backoff_initial = "200ms"\n' + extra
    )


def text_of(answer: dict) -> str:
    assert "result" in answer, answer
    return answer["result"]["content"][0]["text"]


def error_of(answer: dict) -> str:
    assert "error" in answer, answer
    return answer["error"]["message"]


# --------------------------------------------------------------------------- https upstreams


def test_calls_reach_an_https_server_with_headers_whose_secrets_stay_out_of_logs(tmp_path, pki):
    server, port = https_upstream(tmp_path, pki, "good")
    extra = f'ca_file = "{pki.ca}"\nheaders = {{ Authorization = "Bearer ${{env:PB_TEST_TOKEN}}", "X-Team" = "docs" }}\n'
    pb = Plugboard(tmp_path, remote_toml(port, extra), env={"PB_TEST_TOKEN": SECRET})
    try:
        pb.initialize()
        assert text_of(pb.call("echo", {"text": "over tls"})) == "over tls"
        seen = json.loads(text_of(pb.call("whoami")))
        assert seen == {"authorization": f"Bearer {SECRET}", "x-team": "docs"}
        status = pb.status()
        assert "secure" in status
        assert SECRET not in status
        assert SECRET not in pb.log()
    finally:
        pb.close()
        server.stop()


@pytest.mark.parametrize(
    "cert, extra, host, cause",
    [
        ("expired", "ca_file = \"{ca}\"\n", "localhost", r"certificate has expired"),
        ("other", "ca_file = \"{ca}\"\n", "localhost", r"unknown certificate authority"),
        ("wronghost", "ca_file = \"{ca}\"\n", "localhost", r"does not match the hostname localhost"),
        ("good", "", "localhost", r"unknown certificate authority"),  # a private CA is not in the system store
    ],
    ids=["expired", "unknown-ca", "wrong-host", "system-store"],
)
def test_a_certificate_that_fails_verification_fails_the_call_with_its_cause(tmp_path, pki, cert, extra, host, cause):
    server, port = https_upstream(tmp_path, pki, cert)
    pb = Plugboard(tmp_path, remote_toml(port, extra.format(ca=pki.ca), host=host))
    try:
        started = time.monotonic()
        # With one server behind it, plugboard's initialize is the first call that reaches it.
        answer = pb.initialize()
        message = error_of(answer if "error" in answer else pb.call("echo", {"text": "x"}))
        assert re.search(cause, message), message
        assert "secure" in message or "localhost" in message, message
        assert time.monotonic() - started < 8, "the call waited for its timeout instead of failing with the cause"
        assert re.search(cause, pb.log()), pb.log()[-2000:]
    finally:
        pb.close()
        server.stop()


def test_tls_verify_off_connects_to_an_unknown_ca_and_says_so_loudly(tmp_path, pki):
    server, port = https_upstream(tmp_path, pki, "other")
    pb = Plugboard(tmp_path, remote_toml(port, "tls_verify = false\n"))
    try:
        pb.initialize()
        assert text_of(pb.call("echo", {"text": "unverified"})) == "unverified"
        assert re.search(r"WARN.*verification is OFF", pb.log()), pb.log()[-2000:]
    finally:
        pb.close()
        server.stop()


def test_a_missing_secret_is_a_config_error_at_its_key(tmp_path):
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "plugboard.toml").write_text(
        '[servers.secure]\nurl = "https://localhost:1/mcp"\nheaders = { Authorization = "Bearer ${env:PB_NOPE_UNSET}" }\n'
    )
    env = {k: v for k, v in os.environ.items() if k != "PB_NOPE_UNSET"}
    checked = subprocess.run([PLUGBOARD_BIN, "check", "--config", str(etc)], capture_output=True, text=True, env=env, timeout=30)
    assert checked.returncode != 0
    assert re.search(r"plugboard\.toml:3:29: `headers\.Authorization`: the environment variable PB_NOPE_UNSET is not set", checked.stderr + checked.stdout)


# --------------------------------------------------------------------------- a forward proxy


def _tinyproxy(tmp: Path, tunnel_port: int) -> tuple[subprocess.Popen, int, Path]:
    binary = shutil.which("tinyproxy") or next((p for p in ("/usr/bin/tinyproxy", "/usr/sbin/tinyproxy") if Path(p).exists()), None)
    if binary is None:
        pytest.skip("tinyproxy is not installed (Tests/Interop/setup.sh installs it as root)")
    port = free_port()
    log = tmp / "tinyproxy.log"
    conf = tmp / "tinyproxy.conf"
    conf.write_text(f'Port {port}\nListen 127.0.0.1\nTimeout 30\nLogFile "{log}"\nLogLevel Connect\nMaxClients 20\nAllow 127.0.0.1\nConnectPort {tunnel_port}\n')
    proc = subprocess.Popen([binary, "-d", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, port, log


def test_a_forward_proxy_tunnels_https_and_no_proxy_bypasses_it(tmp_path, pki):
    server, port = https_upstream(tmp_path, pki, "good")
    proxy, proxy_port, proxy_log = _tinyproxy(tmp_path, port)
    try:
        pb = Plugboard(tmp_path, remote_toml(port, f'ca_file = "{pki.ca}"\nproxy = "http://127.0.0.1:{proxy_port}"\n'))
        try:
            pb.initialize()
            assert text_of(pb.call("echo", {"text": "via proxy"})) == "via proxy"
        finally:
            pb.close()
        assert re.search(rf"CONNECT localhost:{port}", proxy_log.read_text(errors="replace")), proxy_log.read_text(errors="replace")[-2000:]

        dead = free_port()
        env = {"HTTPS_PROXY": f"http://127.0.0.1:{dead}", "NO_PROXY": "localhost,127.0.0.1"}
        pb = Plugboard(tmp_path, remote_toml(port, f'ca_file = "{pki.ca}"\n'), env=env)
        try:
            pb.initialize()
            assert text_of(pb.call("echo", {"text": "bypassed"})) == "bypassed"
        finally:
            pb.close()

        pb = Plugboard(tmp_path, remote_toml(port, f'ca_file = "{pki.ca}"\n'), env={"HTTPS_PROXY": f"http://127.0.0.1:{dead}"})
        try:
            answer = pb.initialize()
            message = error_of(answer if "error" in answer else pb.call("echo", {"text": "x"}))
            assert re.search(rf"proxy http://127\.0\.0\.1:{dead} \(from HTTPS_PROXY\)", message), message
        finally:
            pb.close()
    finally:
        proxy.terminate()
        proxy.wait(5)
        server.stop()


# --------------------------------------------------------------------------- plugboard's HTTPS endpoint


def _front(tmp: Path, pki: Pki) -> tuple[ServerProcess, str, Path, Path]:
    """plugboard serving the demo server on an HTTPS listener; its URL and its cert/key paths."""
    cert = tmp / "live-cert.pem"
    key = tmp / "live-key.pem"
    shutil.copy(pki.cert("good"), cert)
    shutil.copy(pki.key("good"), key)
    etc = tmp / "front"
    etc.mkdir()
    (etc / "plugboard.toml").write_text(
        f'[log]\nlevel = "info"\n[http]\ntls_listen = "127.0.0.1:0"\ntls_cert_file = "{cert}"\ntls_key_file = "{key}"\n'
        f'[servers.demo]\ncommand = "node"\nargs = ["{DEMO_SERVER}"]\n'
    )
    front = ServerProcess(
        [PLUGBOARD_BIN, "run", "--config", str(etc)], env=dict(os.environ), cwd=tmp, log_path=tmp / "front.log",
        patterns={"url": re.compile(r"(?<!admin )listening on (https://\S+)")},
    )
    url = front.wait_for("url").replace("127.0.0.1", "localhost")
    return front, url, cert, key


def _served_fingerprint(url: str, ca: Path) -> str:
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    context = ssl.create_default_context(cafile=str(ca))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, context.wrap_socket(raw, server_hostname="localhost") as tls:
        return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


def _file_fingerprint(pem: Path) -> str:
    der = ssl.PEM_cert_to_DER_cert(pem.read_text())
    return hashlib.sha256(der).hexdigest()


async def _sdk_calls(url: str, ca: Path, count: int, stop: asyncio.Event | None = None) -> int:
    import httpx2
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    done = 0
    async with httpx2.AsyncClient(verify=ssl.create_default_context(cafile=str(ca)), timeout=httpx2.Timeout(10.0)) as http:
        async with streamable_http_client(url, http_client=http) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                while done < count or (stop is not None and not stop.is_set()):
                    result = await session.call_tool("echo", {"text": f"n{done}"})
                    assert not result.is_error and result.content[0].text == f"n{done}", result
                    done += 1
    return done


def test_the_sdk_client_reaches_the_https_endpoint_and_rotation_loses_no_call(tmp_path, pki):
    front, url, cert, key = _front(tmp_path, pki)
    try:
        assert _served_fingerprint(url, pki.ca) == _file_fingerprint(pki.cert("good"))

        async def scenario() -> list[int]:
            stop = asyncio.Event()
            callers = [asyncio.create_task(_sdk_calls(url, pki.ca, 5, stop)) for _ in range(4)]
            await asyncio.sleep(1.0)
            # certbot's way: new files written beside, then renamed over the live ones.
            shutil.copy(pki.cert("good2"), tmp_path / "next-cert.pem")
            shutil.copy(pki.key("good2"), tmp_path / "next-key.pem")
            os.replace(tmp_path / "next-key.pem", key)
            os.replace(tmp_path / "next-cert.pem", cert)
            deadline = time.monotonic() + 10
            while _served_fingerprint(url, pki.ca) != _file_fingerprint(pki.cert("good2")):
                assert time.monotonic() < deadline, "the new certificate was never served"
                await asyncio.sleep(0.2)
            await asyncio.sleep(0.5)
            stop.set()
            return await asyncio.gather(*callers)

        counts = asyncio.run(asyncio.wait_for(scenario(), 40))
        assert all(n >= 5 for n in counts), counts

        # A broken pair (good2's certificate with good's key) is refused; good2 keeps serving.
        shutil.copy(pki.key("good"), tmp_path / "bad-key.pem")
        os.replace(tmp_path / "bad-key.pem", key)
        deadline = time.monotonic() + 10
        while "was refused" not in front.log_text():
            assert time.monotonic() < deadline, front.log_text()[-2000:]
            time.sleep(0.2)
        assert _served_fingerprint(url, pki.ca) == _file_fingerprint(pki.cert("good2"))
        assert asyncio.run(asyncio.wait_for(_sdk_calls(url, pki.ca, 2), 20)) == 2
    finally:
        front.stop()
