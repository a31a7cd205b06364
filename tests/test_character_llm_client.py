"""The OpenAI-compatible streaming client against a fake server on loopback."""
from __future__ import annotations

import pytest

from companion.character.llm_client import LLMError, LLMSpec, OpenAIChatClient
from tests.llm_fake_server import FakeLLM


@pytest.fixture
async def llm():
    server = await FakeLLM("Hello there, friend!").start()
    yield server
    await server.stop()


async def test_streams_tokens_and_sends_sampling(llm):
    client = OpenAIChatClient(LLMSpec.parse(f"openai:{llm.url},model=tiny"))
    try:
        tokens = [t async for t in client.stream([{"role": "user", "content": "hi"}], temperature=0.8, top_p=0.9,
                                                 max_tokens=50)]
    finally:
        await client.close()
    assert len(tokens) == 3 and "".join(tokens) == "Hello there, friend!"
    body = llm.requests[0]
    assert body["stream"] is True and body["model"] == "tiny"
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.8, 0.9, 50)


async def test_429_is_retried_then_succeeds(llm):
    llm.script = [("429", None), ("429", None), ("stream", "ok now")]
    client = OpenAIChatClient(LLMSpec.parse(f"openai:{llm.url},retries=2"))
    try:
        assert await client.complete([{"role": "user", "content": "x"}]) == "ok now"
    finally:
        await client.close()
    assert client.stats["rate_limited"] == 2 and client.stats["retries"] == 2 and len(llm.requests) == 3


async def test_429_beyond_the_retries_fails(llm):
    llm.script = [("429", None)] * 3
    client = OpenAIChatClient(LLMSpec.parse(f"openai:{llm.url},retries=1"))
    with pytest.raises(LLMError, match="429"):
        await client.complete([{"role": "user", "content": "x"}])
    await client.close()
    assert len(llm.requests) == 2


async def test_timeout_is_an_error_not_a_hang(llm):
    llm.script = [("slow", 3.0), ("slow", 3.0)]
    spec = LLMSpec.parse(f"openai:{llm.url},retries=1")
    spec.read_timeout_s, spec.total_timeout_s = 0.3, 0.6
    client = OpenAIChatClient(spec)
    with pytest.raises(LLMError, match="timed out"):
        await client.complete([{"role": "user", "content": "x"}])
    await client.close()
    assert client.stats["timeouts"] == 2


def test_spec_parsing(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    s = LLMSpec.parse("openai:https://api.openai.com/v1,model=gpt-4o-mini")
    assert s.endpoint == "https://api.openai.com/v1/chat/completions" and s.model == "gpt-4o-mini"
    assert s.api_key == "sk-test"
    assert LLMSpec.parse("openai:http://127.0.0.1:8080/v1/chat/completions").endpoint.endswith("/v1/chat/completions")
    for bad in ("ollama:http://x", "openai:", "openai:ftp://x", "openai:http://x,temperature=2"):
        with pytest.raises(ValueError):
            LLMSpec.parse(bad)
