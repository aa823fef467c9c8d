"""The price table: token cost per provider and model, from an editable YAML file."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from tools.errors import ConfigError, UserError

BUILTIN_PRICES = Path(__file__).with_name("prices.yaml")
STALE_AFTER_DAYS = 90  # prices change; `tunewise doctor` warns after this many days


@dataclass(frozen=True)
class Price:
    input: float  # USD per 1M input tokens
    output: float  # USD per 1M output tokens


def _check_number(value, where: str, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(
            f"{field} must be a non-negative number, got {value!r}",
            where=where,
            fix="write USD per 1M tokens, e.g. `input: 0.25`",
        )
    return float(value)


def _check_date(value, where: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(
            f"as_of must be a date, got {value!r}",
            where=where,
            fix="write the day the prices were checked as YYYY-MM-DD, e.g. `as_of: 2026-11-23`",
        ) from None


class PriceTable:
    def __init__(self, data: dict, source: str = "<prices>"):
        self.source = source
        if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
            raise ConfigError(
                "price file needs a `models:` mapping",
                where=source,
                fix=f"copy the layout of {BUILTIN_PRICES}",
            )
        self.models: dict[str, dict[str, Price]] = {}
        for provider, table in data["models"].items():
            if not isinstance(table, dict):
                raise ConfigError(f"models.{provider} must be a mapping of model → prices", where=source)
            self.models[provider] = {}
            for model, p in table.items():
                if not isinstance(p, dict) or "input" not in p or "output" not in p:
                    raise ConfigError(
                        f"models.{provider}.{model} needs `input` and `output`",
                        where=source,
                        fix="e.g. `{input: 0.25, output: 2.0}`",
                    )
                self.models[provider][str(model)] = Price(
                    _check_number(p["input"], source, f"models.{provider}.{model}.input"),
                    _check_number(p["output"], source, f"models.{provider}.{model}.output"),
                )
        self.training: dict[str, dict[str, float]] = {}
        for provider, table in (data.get("training") or {}).items():
            self.training[provider] = {
                str(m): _check_number(v, source, f"training.{provider}.{m}") for m, v in (table or {}).items()
            }
        self.as_of = _check_date(data.get("as_of"), source)
        self.batch_discount = _check_number(data.get("batch_discount", 0.5), source, "batch_discount")
        self.gpu_hour = _check_number(data.get("gpu_hour", 2.0), source, "gpu_hour")

    @classmethod
    def load(cls, path: str | Path | None = None, workspace_dir: str | Path | None = None) -> PriceTable:
        """The built-in table, overlaid by $TUNEWISE_PRICES or `.tunewise/prices.yaml` when present."""
        from tools.workspace import read_yaml

        base = read_yaml(BUILTIN_PRICES)
        candidates = [path, os.environ.get("TUNEWISE_PRICES")]
        if workspace_dir:
            candidates.append(Path(workspace_dir) / "prices.yaml")
        for cand in candidates:
            if cand and Path(cand).exists():
                try:
                    override = read_yaml(cand)
                except UserError as e:  # YAML syntax: same one-line error, as the config error it is
                    raise ConfigError(e.message, where=e.where, fix=e.fix) from None
                if not isinstance(override, dict):
                    raise ConfigError(
                        "price file must be a YAML mapping",
                        where=str(cand),
                        fix=f"copy the layout of {BUILTIN_PRICES}",
                    )
                merged = dict(base)
                merged_models = {k: dict(v) for k, v in base["models"].items()}
                for prov, table in (override.get("models") or {}).items():
                    if not isinstance(table, dict):
                        raise ConfigError(f"models.{prov} must be a mapping", where=str(cand))
                    merged_models.setdefault(prov, {}).update(table)
                merged["models"] = merged_models
                for k in ("batch_discount", "gpu_hour", "training", "as_of"):
                    if k in override:
                        merged[k] = override[k]
                return cls(merged, source=str(cand))
            if cand and cand == path:
                raise ConfigError("price file not found", where=str(cand), fix="check the path")
        return cls(base, source=str(BUILTIN_PRICES))

    def age_days(self, today: dt.date | None = None) -> int | None:
        """Days since the prices were checked (None when the table has no `as_of`)."""
        if self.as_of is None:
            return None
        return ((today or dt.date.today()) - self.as_of).days

    def staleness(self, today: dt.date | None = None) -> tuple[str, str]:
        """("ok" | "warn", one line): how old the table is, and what to do when it is too old."""
        age = self.age_days(today)
        where = f"{self.source}"
        fix = (
            f"check the providers' pricing pages, then update the prices and `as_of` in {BUILTIN_PRICES.name} "
            "(or override them in .tunewise/prices.yaml / $TUNEWISE_PRICES)"
        )
        if age is None:
            return "warn", f"{where} has no `as_of` date: cost estimates may be out of date — {fix}"
        if age > STALE_AFTER_DAYS:
            return (
                "warn",
                f"{where} is {age} days old (as of {self.as_of}, more than {STALE_AFTER_DAYS}): cost estimates "
                f"and budget stops may be wrong — {fix}",
            )
        return "ok", f"{where}, as of {self.as_of} ({age} days old)"

    @staticmethod
    def _lookup(table: dict, model: str):
        best = None
        for name in table:
            if name != "default" and model.startswith(name) and (best is None or len(name) > len(best)):
                best = name
        return table.get(best or "default")

    def price(self, provider: str, model: str) -> Price:
        table = self.models.get(provider) or self.models.get("compatible") or {}
        return self._lookup(table, model) or Price(0.0, 0.0)

    def cost(
        self, provider: str, model: str, prompt_tokens: int, completion_tokens: int, *, batch: bool = False
    ) -> float:
        p = self.price(provider, model)
        usd = (prompt_tokens * p.input + completion_tokens * p.output) / 1e6
        return usd * (self.batch_discount if batch else 1.0)

    def training_cost(self, provider: str, model: str, training_tokens: int) -> float:
        per_m = self._lookup(self.training.get(provider, {}), model) or 0.0
        return training_tokens * per_m / 1e6
