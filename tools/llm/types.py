"""The one LLM interface's data types."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

Message = dict[str, Any]  # {"role": "system"|"user"|"assistant", "content": str}


def few_shot(system: str | None, shots: Any, then: list[Message]) -> list[Message]:
    """The one shape of every prompt with examples in it (the probe's, the teacher's, a served prompt's): the
    system message (none when `system` is None), each example as a user turn and its answer, then `then`.
    An example is a dict or an object with `input` and `output`."""
    out: list[Message] = [] if system is None else [{"role": "system", "content": system}]
    for s in shots:
        given, answer = (s["input"], s["output"]) if isinstance(s, dict) else (s.input, s.output)
        out += [{"role": "user", "content": given}, {"role": "assistant", "content": answer}]
    return out + list(then)


@dataclass(frozen=True)
class GenParams:
    """Generation parameters; part of the cache key."""

    temperature: float = 0.0
    max_tokens: int = 256
    top_p: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["stop"] = list(self.stop)
        return d


@dataclass
class Request:
    messages: list[Message]
    params: GenParams = field(default_factory=GenParams)
    json_schema: dict | None = None  # when set, the reply is parsed and validated (one repair retry)
    tag: Any = None  # caller's bookkeeping; never sent, never cached


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Completion:
    text: str
    provider: str
    model: str
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    latency_s: float = 0.0
    cached: bool = False
    finish_reason: str | None = None
    parsed: Any = None  # the validated JSON object when a json_schema was given
    parse_error: str | None = None  # why parsing/validation failed after the repair retry
    tag: Any = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["usage"] = asdict(self.usage)
        return d


@dataclass
class RawResult:
    """What a provider backend returns before cost, cache and timing are applied."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    model: str | None = None  # the model id the server reports, when it differs
