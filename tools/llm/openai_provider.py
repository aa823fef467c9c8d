"""The `openai` provider: the official SDK, with `base_url` for any OpenAI-compatible server."""

from __future__ import annotations

import os

from tools.errors import ProviderError
from tools.llm.base import LoopClients, Provider
from tools.llm.redact import redact
from tools.llm.retry import classify_openai, status_fix
from tools.llm.types import GenParams, Message, RawResult


class OpenAIProvider(Provider):
    name = "openai"
    streams = True

    def __init__(
        self,
        model: str = "gpt-5-mini",
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
        http_client=None,
        **kw,
    ):
        super().__init__(model, **kw)
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        if self.base_url:
            self.name = "compatible" if "api.openai.com" not in self.base_url else "openai"
        if self.base_url and self.name == "compatible":  # another server's key first, not OpenAI's
            from tools.llm.registry import compatible_api_key

            key = api_key or compatible_api_key()
        else:
            key = api_key or os.environ.get("OPENAI_API_KEY") or os.environ.get("TUNEWISE_API_KEY")
        if not key and not self.base_url:
            raise ProviderError(
                "provider openai needs OPENAI_API_KEY",
                fix="export OPENAI_API_KEY=… or pick another "
                "--provider (local, anthropic) or set TUNEWISE_BASE_URL",
            )
        import openai

        def make_client():
            # max_retries=0: tools/llm/retry.py is the only retry layer
            return openai.AsyncOpenAI(
                api_key=key or "not-needed",
                base_url=self.base_url,
                max_retries=0,
                timeout=timeout,
                http_client=http_client,
            )

        self._clients = LoopClients(make_client, shared=http_client is not None)
        self._key_present = bool(key)
        self._api_key = key  # for the Batch API client (tools/data/batch.py); never logged or described

    @property
    def _client(self):
        return self._clients.get()

    def identity(self) -> dict:
        return {"base_url": self.base_url} if self.base_url else {}

    def describe(self) -> str:
        return f"{self.name}:{self.model}" + (f"@{self.base_url}" if self.base_url else "")

    async def _agenerate(
        self, messages: list[Message], params: GenParams, json_schema: dict | None
    ) -> RawResult:
        resp = await self._client.chat.completions.create(**self._request(messages, params, json_schema))
        choice = resp.choices[0]
        usage = resp.usage
        return RawResult(
            text=(choice.message.content or "").strip(),
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            finish_reason=choice.finish_reason,
            model=getattr(resp, "model", None),
        )

    async def _astream(self, messages: list[Message], params: GenParams, info: dict):
        kwargs = self._request(messages, params, None)
        kwargs.update(stream=True, stream_options={"include_usage": True})
        stream = await self._client.chat.completions.create(**kwargs)
        try:
            async for chunk in stream:
                if getattr(chunk, "model", None):
                    info["model"] = chunk.model
                if chunk.usage is not None:
                    info["prompt_tokens"] = chunk.usage.prompt_tokens or 0
                    info["completion_tokens"] = chunk.usage.completion_tokens or 0
                for choice in chunk.choices or ():
                    if choice.finish_reason:
                        info["finish_reason"] = choice.finish_reason
                    if choice.delta is not None and choice.delta.content:
                        yield choice.delta.content
        finally:
            await stream.close()

    def _request(self, messages: list[Message], params: GenParams, json_schema: dict | None) -> dict:
        """The Chat Completions arguments for one request (plain or streamed)."""
        kwargs: dict = {"model": self.model, "messages": messages}
        if self.base_url is None and self.model.startswith(("gpt-5", "o1", "o3", "o4")):
            # reasoning models: max_completion_tokens, no temperature other than default
            kwargs["max_completion_tokens"] = params.max_tokens
        else:
            kwargs["max_tokens"] = params.max_tokens
            kwargs["temperature"] = params.temperature
            kwargs["top_p"] = params.top_p
        if params.seed is not None:
            kwargs["seed"] = params.seed
        if params.stop:
            kwargs["stop"] = list(params.stop)
        if json_schema is not None and self.base_url is None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": json_schema, "strict": False},
            }
        return kwargs

    def _classify_error(self, exc: BaseException) -> tuple[bool, float | None]:
        return classify_openai(exc)

    def _throttled(self, exc: BaseException) -> bool:
        import openai

        return isinstance(exc, openai.APIStatusError) and exc.status_code == 429

    def _wrap_error(self, exc: BaseException) -> BaseException:
        import openai

        where = self.base_url or "api.openai.com"
        key_var = "TUNEWISE_API_KEY" if self.name == "compatible" else "OPENAI_API_KEY"
        if isinstance(exc, openai.AuthenticationError):
            return ProviderError(f"{self.describe()} rejected the API key (401)", fix=f"check {key_var}")
        if isinstance(exc, openai.NotFoundError):
            return ProviderError(
                f"model {self.model!r} not found at {where}",
                fix="pick a model the server lists (GET /v1/models) with --model",
            )
        if isinstance(exc, openai.APIConnectionError):
            return ProviderError(
                f"cannot reach {where}",
                fix="start the server or fix TUNEWISE_BASE_URL/--base-url"
                if self.base_url
                else "check the network connection (or OPENAI_BASE_URL / --base-url for a proxy)",
            )
        if isinstance(exc, openai.APIStatusError):
            return ProviderError(
                f"{self.describe()} failed with HTTP {exc.status_code}: {redact(str(exc))[:200]}",
                fix=status_fix(exc.status_code),
            )
        return exc
