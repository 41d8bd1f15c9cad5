"""Several upstreams (aggregated mode): names are "<server>__<name>". Needs plugboard."""

from __future__ import annotations

import subprocess
from pathlib import Path

import mcp_types as types

from conftest import demo, docs, git_server, requires_proxy, run, time_server
from test_transparent import DEMO_TOOLS, all_tools, text_of

pytestmark = requires_proxy


def test_aggregated_demo_and_time(sut):
    async def body():
        async with sut.session(demo(), time_server()) as s:
            names = {t.name for t in await all_tools(s)}
            assert {f"demo__{n}" for n in DEMO_TOOLS} <= names, names
            assert {"time__get_current_time", "time__convert_time"} <= names
            assert "echo" not in names and "get_current_time" not in names
            assert text_of(await s.call_tool("demo__echo", {"text": "via proxy"})) == "via proxy"
            add = await s.call_tool("demo__add", {"a": 1, "b": 2})
            assert add.structured_content == {"sum": 3}
            now = await s.call_tool("time__get_current_time", {"timezone": "UTC"})
            assert not now.is_error and "UTC" in text_of(now)

    run(body)


def test_aggregated_two_demo_instances(sut):
    async def body():
        async with sut.session(demo("alpha"), demo("beta"), docs()) as s:
            names = {t.name for t in await all_tools(s)}
            assert {"alpha__echo", "beta__echo", "docs__resolve-library-id", "docs__get-library-docs"} <= names
            # each call reaches the right upstream: the progress/sampling plumbing is per-upstream
            seen = []

            async def on_progress(p, total, msg):
                seen.append(p)

            await s.call_tool("beta__progress", {"steps": 2, "delay_ms": 5}, progress_callback=on_progress)
            assert seen == [1, 2]
            doc = await s.call_tool("docs__get-library-docs", {"context7CompatibleLibraryID": "/fetchwave/fetchwave"})
            assert len(text_of(doc)) > 15_000

    run(body)


def test_aggregated_pagination(sut):
    async def body():
        async with sut.session(demo(DEMO_PAGE_SIZE="2"), time_server()) as s:
            names = [t.name for t in await all_tools(s)]
            assert len(names) == len(set(names))
            assert {f"demo__{n}" for n in DEMO_TOOLS} | {"time__get_current_time", "time__convert_time"} <= set(names)

    run(body)


def test_aggregated_git(sut, tmp_path: Path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "tracked.txt").write_text("hello\n")
    subprocess.run([*git, "add", "tracked.txt"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
    (repo / "untracked.txt").write_text("new\n")

    async def body():
        async with sut.session(demo(), git_server(repo)) as s:
            names = {t.name for t in await all_tools(s)}
            assert "git__git_status" in names
            st = await s.call_tool("git__git_status", {"repo_path": str(repo)})
            assert not st.is_error, text_of(st)
            assert "untracked.txt" in text_of(st)

    run(body)


def test_aggregated_error_and_sampling(sut):
    from mcp.shared.exceptions import MCPError
    import pytest

    async def sampling_callback(ctx, params):
        return types.CreateMessageResult(role="assistant", content=types.TextContent(type="text", text="agg"), model="m")

    async def body():
        async with sut.session(demo(), time_server(), sampling_callback=sampling_callback) as s:
            with pytest.raises(MCPError) as ei:
                await s.call_tool("demo__fail", {})
            assert ei.value.error.code == -32050 and ei.value.error.message == "demo failure"
            assert text_of(await s.call_tool("demo__sample", {"prompt": "p"})) == "agg"

    run(body)
