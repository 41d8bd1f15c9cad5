"""Single upstream (transparent mode): tool names pass through unchanged.

These tests also run with PLUGBOARD_DIRECT=1 against the demo server itself.
"""

from __future__ import annotations

import time

import anyio
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from conftest import DIRECT, demo, run, time_server

DEMO_TOOLS = {"echo", "add", "payload", "slow", "progress", "sample", "elicit", "roots", "log", "crash", "fail", "notify_changed"}


def text_of(result: types.CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def all_tools(session) -> list[types.Tool]:
    tools: list[types.Tool] = []
    cursor = None
    for _ in range(100):
        page = await session.list_tools(params=types.PaginatedRequestParams(cursor=cursor) if cursor else None)
        tools += page.tools
        cursor = page.next_cursor
        if not cursor:
            return tools
    raise AssertionError("pagination did not terminate")


def test_initialize_list_and_call(sut):
    async def body():
        async with sut.session(demo()) as s:
            init = s.initialize_result
            assert init.protocol_version == "2025-11-25"
            assert init.capabilities.tools is not None
            if DIRECT:
                assert init.server_info.name == "demo"
            names = {t.name for t in await all_tools(s)}
            assert DEMO_TOOLS <= names, names
            assert text_of(await s.call_tool("echo", {"text": "héllo wörld"})) == "héllo wörld"
            add = await s.call_tool("add", {"a": 2, "b": 40})
            assert text_of(add) == "42"
            assert add.structured_content == {"sum": 42}
            big = await s.call_tool("payload", {"bytes": 100_000})
            assert len(text_of(big).encode()) == 100_000
            await s.send_ping()

    run(body)


def test_transparent_with_other_server(sut):
    """A single non-demo upstream is also exposed unchanged."""

    async def body():
        async with sut.session(time_server()) as s:
            names = {t.name for t in (await s.list_tools()).tools}
            assert {"get_current_time", "convert_time"} <= names
            res = await s.call_tool("get_current_time", {"timezone": "UTC"})
            assert not res.is_error
            assert "UTC" in text_of(res)

    run(body)


def test_progress_notifications(sut):
    async def body():
        seen: list[tuple[float, float | None, str | None]] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append((progress, total, message))

        async with sut.session(demo()) as s:
            res = await s.call_tool("progress", {"steps": 4, "delay_ms": 20}, progress_callback=on_progress)
            assert "4 progress notifications" in text_of(res)
        assert [p for p, _, _ in seen] == [1, 2, 3, 4]
        assert all(t == 4 for _, t, _ in seen)
        assert seen[-1][2] == "step 4/4"

    run(body)


def test_cancellation_then_session_still_works(sut):
    """Cancelling the SDK call sends notifications/cancelled; the session stays usable."""

    async def body():
        async with sut.session(demo()) as s:
            t0 = time.monotonic()
            with anyio.move_on_after(0.5) as scope:
                await s.call_tool("slow", {"ms": 5000})
            assert scope.cancelled_caught
            assert text_of(await s.call_tool("echo", {"text": "after cancel"})) == "after cancel"
            # concurrent calls still multiplex fine
            results: dict[int, str] = {}

            async def one(i: int) -> None:
                results[i] = text_of(await s.call_tool("echo", {"text": str(i)}))

            async with anyio.create_task_group() as tg:
                for i in range(20):
                    tg.start_soon(one, i)
            assert results == {i: str(i) for i in range(20)}
            assert time.monotonic() - t0 < 4.5, "cancelled call was waited for"
        if DIRECT:
            assert "cancelled: caller cancelled" in sut.stderr_text()

    run(body)


def test_sampling(sut):
    async def body():
        calls: list[types.CreateMessageRequestParams] = []

        async def sampling_callback(ctx, params: types.CreateMessageRequestParams):
            calls.append(params)
            return types.CreateMessageResult(
                role="assistant",
                content=types.TextContent(type="text", text="sampled: " + params.messages[0].content.text),
                model="test-model",
                stop_reason="endTurn",
            )

        async with sut.session(demo(), sampling_callback=sampling_callback) as s:
            res = await s.call_tool("sample", {"prompt": "say hi"})
            assert not res.is_error, text_of(res)
            assert text_of(res) == "sampled: say hi"
        assert len(calls) == 1
        assert calls[0].max_tokens == 100

    run(body)


def test_sampling_error_from_client(sut):
    async def body():
        async def sampling_callback(ctx, params):
            return types.ErrorData(code=-32042, message="user rejected sampling")

        async with sut.session(demo(), sampling_callback=sampling_callback) as s:
            res = await s.call_tool("sample", {"prompt": "x"})
            assert res.is_error
            assert "user rejected sampling" in text_of(res)

    run(body)


def test_sampling_without_capability(sut):
    async def body():
        async with sut.session(demo()) as s:
            res = await s.call_tool("sample", {"prompt": "x"})
            assert res.is_error
            assert "does not support sampling" in text_of(res)

    run(body)


def test_roots(sut):
    async def body():
        async def list_roots(ctx):
            return types.ListRootsResult(
                roots=[types.Root(uri="file:///tmp/project-a", name="A"), types.Root(uri="file:///srv/b")]
            )

        async with sut.session(demo(), list_roots_callback=list_roots) as s:
            res = await s.call_tool("roots", {})
            assert text_of(res).splitlines() == ["file:///tmp/project-a A", "file:///srv/b"]

    run(body)


def test_elicitation(sut):
    async def body():
        seen = []

        async def elicit(ctx, params):
            seen.append(params)
            return types.ElicitResult(action="accept", content={"answer": "forty-two", "confirm": True})

        async with sut.session(demo(), elicitation_callback=elicit) as s:
            res = await s.call_tool("elicit", {"message": "What is the answer?"})
            assert not res.is_error, text_of(res)
            assert '"action":"accept"' in text_of(res)
            assert '"answer":"forty-two"' in text_of(res)
        assert seen[0].message == "What is the answer?"

    run(body)


def test_error_passthrough(sut):
    async def body():
        async with sut.session(demo()) as s:
            with pytest.raises(MCPError) as ei:
                await s.call_tool("fail", {})
            assert ei.value.error.code == -32050
            assert ei.value.error.message == "demo failure"
            assert ei.value.error.data and "hint" in ei.value.error.data
            # unknown tool and bad arguments are protocol errors too
            with pytest.raises(MCPError) as ei:
                await s.call_tool("add", {"a": "one", "b": 2})
            assert ei.value.error.code == -32602

    run(body)


def test_pagination_transparent(sut):
    async def body():
        async with sut.session(demo(DEMO_PAGE_SIZE="2")) as s:
            tools = await all_tools(s)
            names = [t.name for t in tools]
            assert len(names) == len(set(names))
            assert DEMO_TOOLS <= set(names)

    run(body)


def test_logging(sut):
    async def body():
        got: list[types.LoggingMessageNotificationParams] = []

        async def on_log(params):
            got.append(params)

        async with sut.session(demo(), logging_callback=on_log) as s:
            await s.set_logging_level("warning")
            await s.call_tool("log", {"level": "info", "message": "filtered"})
            await s.call_tool("log", {"level": "error", "message": "delivered"})
            await s.send_ping()  # notifications precede the response on the wire, but give the callback a turn
            await anyio.sleep(0.1)
        assert [g.data for g in got] == ["delivered"]
        assert got[0].level == "error"

    run(body)


def test_resources_prompts_completion(sut):
    async def body():
        async with sut.session(demo()) as s:
            uris = {str(r.uri) for r in (await s.list_resources()).resources}
            assert {"demo://readme", "demo://logo"} <= uris
            readme = await s.read_resource("demo://readme")
            assert "demo server" in readme.contents[0].text
            logo = await s.read_resource("demo://logo")
            assert logo.contents[0].blob.startswith("iVBOR")
            note = await s.read_resource("demo://notes/7")
            assert "Note 7" in note.contents[0].text
            templates = await s.list_resource_templates()
            assert templates.resource_templates[0].uri_template == "demo://notes/{id}"
            await s.subscribe_resource("demo://readme")
            await s.unsubscribe_resource("demo://readme")
            prompts = (await s.list_prompts()).prompts
            assert prompts[0].name == "greet"
            got = await s.get_prompt("greet", {"name": "Grace"})
            assert "Grace" in got.messages[0].content.text
            comp = await s.complete(types.PromptReference(type="ref/prompt", name="greet"), {"name": "name", "value": "B"})
            assert comp.completion.values == ["Bob", "Barbara"]

    run(body)


def test_list_changed_notification(sut):
    async def body():
        got = []

        async def handler(msg):
            if isinstance(msg, types.ToolListChangedNotification):
                got.append(msg)

        async with sut.session(demo(), message_handler=handler) as s:
            await s.call_tool("notify_changed", {})
            with anyio.fail_after(5):
                while not got:
                    await anyio.sleep(0.05)

    run(body)


def test_upstream_crash_mid_call(sut):
    """`crash` kills the upstream: the call fails (no hang); plugboard restarts it so later calls work."""

    async def body():
        async with sut.session(demo()) as s:
            with pytest.raises(MCPError):
                await s.call_tool("crash", {}, read_timeout_seconds=12)
            if DIRECT:
                return  # no proxy to restart the server: the connection is simply gone
            deadline = time.monotonic() + 8
            while True:
                try:
                    res = await s.call_tool("echo", {"text": "back"}, read_timeout_seconds=5)
                    assert text_of(res) == "back"
                    break
                except MCPError:
                    if time.monotonic() > deadline:
                        raise
                    await anyio.sleep(0.5)

    run(body)


def test_high_level_client_auto_mode(sut):
    """mcp.Client(mode='auto') probes `server/discover` (2026-07-28): plugboard answers it, so the
    client stays modern even though the server behind plugboard is legacy-only (the demo server).

    Directly (PLUGBOARD_DIRECT=1) the demo server answers the probe with an error and the client
    falls back to 2025-11-25; either way the probe must be answered promptly, or every default
    SDK 2.x client waits 10 s.
    """
    from mcp import Client

    async def body():
        t0 = time.monotonic()
        async with Client(sut.params(demo()), read_timeout_seconds=10) as client:
            assert client.protocol_version == ("2025-11-25" if DIRECT else "2026-07-28")
            res = await client.call_tool("echo", {"text": "auto"})
            assert text_of(res) == "auto"
        assert time.monotonic() - t0 < 8, "server/discover probe was not answered promptly"

    run(body)
