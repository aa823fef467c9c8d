"""One LLM interface over openai, anthropic and local (transformers) providers."""

from tools.llm.types import Completion, GenParams, Message, Request, Usage

__all__ = ["Completion", "GenParams", "Message", "Request", "Usage", "get_provider"]


def get_provider(*args, **kwargs):
    from tools.llm.registry import get_provider as _get

    return _get(*args, **kwargs)
