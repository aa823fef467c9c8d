"""Pick a provider per role (teacher, student, judge, chat) from flags, config and the environment.

Auto-selection: OPENAI_API_KEY → openai; ANTHROPIC_API_KEY → anthropic; TUNEWISE_BASE_URL → an
OpenAI-compatible server; otherwise the embedded local model. The student is always local unless
chosen explicitly (it is the model we train). `TUNEWISE_<ROLE>=provider:model` overrides per role.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import cast

from tools.errors import ProviderError

PROVIDERS = ("local", "openai", "anthropic", "compatible")
ROLES = ("teacher", "student", "judge", "chat", "agent")
DEFAULT_MODELS: dict[str, dict[str, str | None]] = {
    "openai": {"teacher": "gpt-5-mini", "judge": "gpt-5-mini", "default": "gpt-5-mini"},
    "anthropic": {
        "teacher": "claude-sonnet-4-5",
        "judge": "claude-haiku-4-5",
        "default": "claude-sonnet-4-5",
    },
    "local": {"default": "embedded"},
    "compatible": {"default": None},
}


@dataclass
class ProviderChoice:
    provider: str
    model: str | None
    base_url: str | None = None
    reason: str = ""

    def __str__(self) -> str:
        return f"{self.provider}:{self.model or 'default'}"


def parse_spec(spec: str) -> tuple[str, str | None]:
    """'openai:gpt-5-mini' → ('openai', 'gpt-5-mini'); 'local' → ('local', None)."""
    if ":" in spec and spec.split(":", 1)[0] in PROVIDERS:
        prov, model = spec.split(":", 1)
        return prov, model or None
    if spec in PROVIDERS:
        return spec, None
    raise ProviderError(
        f"unknown provider {spec!r}", fix=f"use one of {', '.join(PROVIDERS)}, optionally as provider:model"
    )


def choose(
    role: str = "chat", provider: str | None = None, model: str | None = None, base_url: str | None = None
) -> ProviderChoice:
    if role not in ROLES:
        raise ProviderError(f"unknown role {role!r}", fix=f"use one of {', '.join(ROLES)}")
    if provider is None:
        env_spec = os.environ.get(f"TUNEWISE_{role.upper()}")
        if env_spec:
            provider, env_model = parse_spec(env_spec)
            model = model or env_model
            reason = f"TUNEWISE_{role.upper()}"
        elif role == "student":
            provider, reason = "local", "the student is the local model we train"
        elif base_url or os.environ.get("TUNEWISE_BASE_URL"):
            provider, reason = "compatible", "TUNEWISE_BASE_URL is set"
        elif os.environ.get("OPENAI_API_KEY"):
            provider, reason = "openai", "OPENAI_API_KEY is set"
        elif os.environ.get("ANTHROPIC_API_KEY"):
            provider, reason = "anthropic", "ANTHROPIC_API_KEY is set"
        else:
            provider, reason = "local", "no API key or base URL: the embedded model (offline)"
    else:
        provider, spec_model = parse_spec(provider)
        model = model or spec_model
        reason = "chosen explicitly"
    if provider == "compatible":
        base_url = base_url or os.environ.get("TUNEWISE_BASE_URL")
        if not base_url:
            raise ProviderError(
                "provider compatible needs a base URL", fix="pass --base-url or set TUNEWISE_BASE_URL"
            )
        model = model or os.environ.get("TUNEWISE_MODEL")
    if model is None:
        table = DEFAULT_MODELS[provider]
        model = table.get(role, table["default"])
    return ProviderChoice(provider, model, base_url, reason)


def get_provider(
    role: str = "chat",
    provider: str | None = None,
    model: str | None = None,
    *,
    base_url: str | None = None,
    adapter: str | None = None,
    workspace=None,
    budget=None,
    use_cache: bool = True,
    **kw,
):
    """Build the provider for a role with the workspace's cache and price table and the run's budget."""
    from tools.llm.cache import ResponseCache
    from tools.llm.pricing import PriceTable
    from tools.workspace import Workspace

    choice = choose(role, provider, model, base_url)
    precision = kw.pop("precision", None)  # a local model's number format (LocalProvider); others have one
    ws = workspace or Workspace()
    cache = ResponseCache(ws.llm_cache_path) if use_cache else None
    common = dict(cache=cache, budget=budget, prices=PriceTable.load(workspace_dir=ws.path), role=role, **kw)
    if choice.provider == "local":
        from tools.llm.local import LocalProvider

        return LocalProvider(choice.model, adapter=adapter, precision=precision, **common)
    if adapter:
        raise ProviderError(
            f"--adapter works with the local provider, not {choice.provider}",
            fix="serve the adapter with `tunewise serve --adapter …` and point --base-url at it",
        )
    if choice.provider in ("openai", "compatible"):
        from tools.llm.openai_provider import OpenAIProvider

        if choice.provider == "compatible" and not choice.model:
            # choose() refuses "compatible" without a base URL
            choice.model = _first_served_model(cast(str, choice.base_url))
        # --base-url counts with --provider openai too (a proxy, Azure-style gateway, a local server)
        # the model: openai's default from DEFAULT_MODELS, or the compatible server's just above
        return OpenAIProvider(cast(str, choice.model), base_url=choice.base_url, **common)
    from tools.llm.anthropic_provider import AnthropicProvider

    return AnthropicProvider(cast(str, choice.model), **common)  # anthropic's default from DEFAULT_MODELS


def compatible_api_key() -> str | None:
    """The key for an OpenAI-compatible server: TUNEWISE_API_KEY (e.g. `tunewise serve`'s key), else
    OPENAI_API_KEY (servers that reuse it)."""
    return os.environ.get("TUNEWISE_API_KEY") or os.environ.get("OPENAI_API_KEY") or None


def _first_served_model(base_url: str) -> str:
    """Ask an OpenAI-compatible server which model it serves (GET /v1/models), with its API key."""
    import httpx

    url = base_url.rstrip("/") + "/models"
    key = compatible_api_key()
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        resp = httpx.get(url, timeout=10, headers=headers)
    except httpx.HTTPError:
        raise ProviderError(
            f"cannot reach {url}", fix="start the server or fix TUNEWISE_BASE_URL/--base-url"
        ) from None
    if resp.status_code in (401, 403):
        raise ProviderError(
            f"{url} refused the request (HTTP {resp.status_code}): "
            + ("the API key was not accepted" if key else "it needs an API key"),
            fix="set TUNEWISE_API_KEY to the server's key (for `tunewise serve`: its --api-key / "
            "TUNEWISE_SERVE_API_KEY)",
        )
    if resp.status_code >= 400:
        raise ProviderError(
            f"{url} answered HTTP {resp.status_code}",
            fix="check TUNEWISE_BASE_URL/--base-url (it should end in /v1), or pass --model",
        )
    try:
        data = resp.json().get("data") or []
        first = data[0]["id"] if data else None
    except (ValueError, AttributeError, KeyError, TypeError, IndexError):
        raise ProviderError(
            f"{url} did not answer with an OpenAI model list",
            fix="check TUNEWISE_BASE_URL/--base-url (it should end in /v1), or pass --model",
        ) from None
    if not first:
        raise ProviderError(f"{url} lists no models", fix="pass --model")
    return first


def can_grade(provider) -> bool:
    """Whether a provider is fit to act as a judge. The embedded 135M model is not: measured here, it never
    produces a parseable score or verdict (it answers in prose), so judging with it only doubles the calls
    (every reply needs the repair retry) and yields ties. Callers fall back to programmatic checks."""
    from tools.llm.embedded import is_embedded

    name, model = str(getattr(provider, "name", "")), str(getattr(provider, "model", ""))
    return not (name == "local" and model and is_embedded(f"{name}:{model}"))
