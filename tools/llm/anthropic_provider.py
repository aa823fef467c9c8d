"""The `anthropic` provider: the official SDK, Messages API; system messages go in `system`."""

from __future__ import annotations

import os

from tools.errors import ProviderError
from tools.llm.base import LoopClients, Provider
from tools.llm.redact import redact
from tools.llm.retry import RETRYABLE_STATUS, parse_retry_after, status_fix
from tools.llm.types import GenParams, Message, RawResult


def split_system(messages: list[Message]) -> tuple[str | None, list[Message]]:
    """Anthropic takes the system prompt as a top-level field and needs alternating user/assistant turns."""
    system_parts = [str(m["content"]) for m in messages if m.get("role") == "system"]
    turns: list[Message] = []
    for m in messages:
        if m.get("role") == "system":
            continue
        if turns and turns[-1]["role"] == m["role"]:
            turns[-1] = {"role": m["role"], "content": f"{turns[-1]['content']}\n\n{m['content']}"}
        else:
            turns.append({"role": m["role"], "content": m["content"]})
    return ("\n\n".join(system_parts) or None), turns


class AnthropicProvider(Provider):
    name = "anthropic"
    streams = True

    def __init__(
        self,
        model: str = "claude-sonnet-4-5",
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 120.0,
        http_client=None,
        **kw,
    ):
        super().__init__(model, **kw)
        key = api_key or os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            raise ProviderError(
                "provider anthropic needs ANTHROPIC_API_KEY",
                fix="export ANTHROPIC_API_KEY=… or pick another --provider (local, openai)",
            )
        import anthropic

        def make_client():
            # max_retries=0: tools/llm/retry.py is the only retry layer
            return anthropic.AsyncAnthropic(
                api_key=key, base_url=base_url, max_retries=0, timeout=timeout, http_client=http_client
            )

        self._clients = LoopClients(make_client, shared=http_client is not None)

    @property
    def _client(self):
        return self._clients.get()

    def _request(self, messages: list[Message], params: GenParams) -> dict:
        system, turns = split_system(messages)
        # The Messages API of anthropic>=2 takes no temperature/top_p (the SDK rejects them): sampling is
        # the model's own; temperature/seed stay in the cache key only.
        kwargs: dict = {"model": self.model, "messages": turns, "max_tokens": params.max_tokens}
        if system:
            kwargs["system"] = system
        if params.stop:
            kwargs["stop_sequences"] = list(params.stop)
        return kwargs

    async def _astream(self, messages: list[Message], params: GenParams, info: dict):
        async with self._client.messages.stream(**self._request(messages, params)) as stream:
            async for event in stream:
                kind = getattr(event, "type", "")
                if kind == "message_start":
                    info["model"] = event.message.model
                    info["prompt_tokens"] = event.message.usage.input_tokens
                elif kind == "content_block_delta" and getattr(event.delta, "type", "") == "text_delta":
                    yield event.delta.text
                elif kind == "message_delta":
                    info["finish_reason"] = event.delta.stop_reason
                    info["completion_tokens"] = event.usage.output_tokens

    async def _agenerate(
        self, messages: list[Message], params: GenParams, json_schema: dict | None
    ) -> RawResult:
        resp = await self._client.messages.create(**self._request(messages, params))
        text = "".join(getattr(b, "text", "") for b in resp.content if getattr(b, "type", "") == "text")
        return RawResult(
            text=text.strip(),
            prompt_tokens=resp.usage.input_tokens,
            completion_tokens=resp.usage.output_tokens,
            finish_reason=resp.stop_reason,
            model=resp.model,
        )

    def _classify_error(self, exc: BaseException) -> tuple[bool, float | None]:
        import anthropic

        if isinstance(exc, (anthropic.APITimeoutError, anthropic.APIConnectionError)):
            return True, None
        if isinstance(exc, anthropic.APIStatusError):
            return exc.status_code in RETRYABLE_STATUS, parse_retry_after(exc.response.headers)
        return False, None

    def _throttled(self, exc: BaseException) -> bool:
        import anthropic

        # 429: rate limited; 529: overloaded (Anthropic's "send less")
        return isinstance(exc, anthropic.APIStatusError) and exc.status_code in (429, 529)

    def _wrap_error(self, exc: BaseException) -> BaseException:
        import anthropic

        if isinstance(exc, anthropic.AuthenticationError):
            return ProviderError("anthropic rejected the API key (401)", fix="check ANTHROPIC_API_KEY")
        if isinstance(exc, anthropic.NotFoundError):
            return ProviderError(f"anthropic model {self.model!r} not found", fix="pick a valid --model")
        if isinstance(exc, anthropic.APIConnectionError):
            return ProviderError(
                "cannot reach the Anthropic API", fix="check the network or use --provider local"
            )
        if isinstance(exc, anthropic.APIStatusError):
            return ProviderError(
                f"anthropic failed with HTTP {exc.status_code}: {redact(str(exc))[:200]}",
                fix=status_fix(exc.status_code),
            )
        return exc
