"""Errors a person can act on.

Every error that reaches the CLI as a `UserError` is printed as one line (what is wrong, where,
how to fix it) with exit code 2 and no traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input or set-up the user can fix. `where` is a file:line or field, `fix` the remedy."""

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None, fix: str | None = None):
        self.message = message
        self.where = where
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = []
        if self.where:
            parts.append(f"{self.where}: ")
        parts.append(self.message)
        if self.fix:
            parts.append(f" — fix: {self.fix}")
        from tools.llm.redact import redact

        return redact("".join(parts))


class ConfigError(UserError):
    """A config file or flag has an invalid value."""


class ProviderError(UserError):
    """A model provider failed in a way retries could not mend (auth, unreachable, bad model)."""


class BudgetExceeded(UserError):
    """The next call would push spend past the run's budget; nothing was spent on it."""

    exit_code = 3


class RunLocked(UserError):
    """Another process holds the run."""
