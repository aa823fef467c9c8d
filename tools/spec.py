"""The task spec: what the model should do, shared by data generation, training, evaluation and the agent.

Stored as `spec.yaml` in a run; `tunewise run task.yaml` reads the same schema.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails

from tools.errors import ConfigError

MAX_EXAMPLES = 100_000  # examples generated per iteration
MAX_ITERATIONS = 100


def _check_range(v, lo, hi):
    """A number within [lo, hi] (finite), else a ValueError that says the range."""
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError(f"must be a finite number from {_num(lo)} to {_num(hi)}")
    if v < lo or v > hi:
        raise ValueError(f"{_num(v)} is out of range: use a value from {_num(lo)} to {_num(hi)}")
    return v


def _num(x) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


class FieldProblem(ValueError):
    """A problem inside a free-form field (e.g. `training.learning_rate`): names the sub-field and a fix."""

    def __init__(self, sub: str, message: str, fix: str | None = None):
        self.sub, self.message, self.fix = sub, message, fix
        super().__init__(message)


def check_training_overrides(overrides: dict[str, Any]) -> None:
    """Validate `training:` with the training config's own rules (names, types, choices, ranges, and the
    cross-field rules among the fields given). Values the automatic config picks are not known yet, so a
    neutral base is used: only the fields given here can conflict."""
    if not overrides:
        return
    from tools.train.config import TrainConfig, apply_overrides

    # save_steps=0 is a multiple of any eval_steps and no valid field value: constructed without the field checks
    base = TrainConfig.model_construct(method="lora", dtype="bfloat16", eval_steps=1, save_steps=0)
    try:
        apply_overrides(base, dict(overrides), source="task training")
    except ConfigError as e:
        raise FieldProblem(str(e.where or ""), e.message, e.fix) from None


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: str
    output: str

    @field_validator("input", "output")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v


class OutputSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["text", "json", "label"] = "text"
    json_schema: dict | None = Field(default=None, alias="schema", description="JSON Schema when format=json")
    labels: list[str] | None = Field(default=None, description="allowed labels when format=label")
    regex: str | None = Field(default=None, description="a pattern every answer must match")
    max_chars: int | None = None
    min_chars: int | None = None
    grounded: bool | list[str] = Field(
        default=False,
        description="extraction tasks: every value of a JSON answer must be written in the input (numbers "
        "as digits or words), a list names the JSON fields this holds for; a text answer takes about as much "
        "of its words from the input as the examples' answers do",
    )

    @field_validator("json_schema")
    @classmethod
    def _valid_schema(cls, v: dict | None) -> dict | None:
        if v is not None:
            from jsonschema import SchemaError, validators

            try:
                validators.validator_for(v).check_schema(v)
            except SchemaError as e:
                where = "/".join(str(p) for p in e.path) or "(top)"
                raise ValueError(f"not a valid JSON Schema at {where}: {e.message}") from None
        return v

    @field_validator("labels")
    @classmethod
    def _valid_labels(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            if not v or any(not str(x).strip() for x in v):
                raise ValueError("list at least one non-empty label")
            dup = sorted({x for x in v if v.count(x) > 1})
            if dup:
                raise ValueError(f"duplicate label(s): {', '.join(dup)}")
        return v

    @field_validator("regex")
    @classmethod
    def _valid_regex(cls, v: str | None) -> str | None:
        if v is not None:
            import re

            try:
                re.compile(v)
            except re.error as e:
                raise ValueError(f"not a valid regular expression ({e})") from None
        return v

    @field_validator("max_chars", "min_chars")
    @classmethod
    def _valid_chars(cls, v: int | None, info: ValidationInfo) -> int | None:
        if v is not None:
            _check_range(v, 1, 1_000_000)
            hi = info.data.get("max_chars") if info.field_name == "min_chars" else None
            if hi is not None and v > hi:
                raise ValueError(f"min_chars {v} is larger than max_chars {hi}")
        return v

    def properties(self) -> dict | None:
        """The JSON schema's `properties` (field → sub-schema), or None when there are none. Pure."""
        props = (self.json_schema or {}).get("properties") if isinstance(self.json_schema, dict) else None
        return props if isinstance(props, dict) else None

    def choices(self, skip: Collection[str] = ()) -> str | None:
        """The answer's closed vocabulary in a few words — the labels, or each enum field's values (but the
        fields in `skip`), and each field held to a layout with its sample: "Answer one of: billing, technical."
        / "size: small, medium, large; milk: none, oat." / "order: like BK4821 or null." None when the answer
        has none. Pure. (Commas and colons: 22 tokens for the orders task's two
        enums where "Values: size small|medium|large; …" took 25 — the tuned prompt is paid on every request.)"""
        if self.format == "label" and self.labels:
            return f"Answer one of: {', '.join(self.labels)}."
        props = self.properties()
        if self.format != "json" or props is None:
            return None
        fields = [
            f"{name}: {', '.join('null' if v is None else str(v) for v in sub['enum'])}"
            if isinstance(sub.get("enum"), list)
            else f"{name}: like {sub['examples'][0]}"
            + (" or null" if "null" in (sub.get("type") or []) else "")
            for name, sub in props.items()
            if isinstance(sub, dict)
            and (
                (isinstance(sub.get("enum"), list) and sub["enum"] and name not in skip)
                # a field held to a layout (`tools.data.infer.laid_out_fields`): the parcels bench's tuned model
                # wrote "today", "left", "preparing to ship" for the order where a message had no order number
                or (sub.get("pattern") and isinstance(sub.get("examples"), list) and sub["examples"])
            )
        ]
        return f"{'; '.join(fields)}." if fields else None

    def describe(self) -> str:
        """The output constraints in one sentence, for judge, critique and repair prompts. Pure."""
        import json

        if self.format == "json":
            parts = [
                "the answer is only a JSON value"
                + (
                    f" matching this JSON Schema: {json.dumps(self.json_schema, ensure_ascii=False)}"
                    if self.json_schema
                    else ""
                )
            ]
        elif self.format == "label":
            parts = [f"the answer is exactly one of: {', '.join(self.labels or [])}"]
        else:
            parts = ["the answer is plain text"]
        if self.grounded is True and self.format == "text":
            parts.append("its words come from the input")
        elif self.grounded is True:
            parts.append("every value it gives appears in the input")
        elif self.grounded:
            parts.append(f"the values of {', '.join(self.grounded)} appear in the input")
        if self.regex:
            parts.append(f"it matches the pattern {self.regex}")
        if self.max_chars:
            parts.append(f"at most {self.max_chars} characters")
        if self.min_chars:
            parts.append(f"at least {self.min_chars} characters")
        return "; ".join(parts) + "."


class RoleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider: str | None = None  # local | openai | anthropic | compatible; None = auto
    model: str | None = None
    base_url: str | None = None

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, v: str | None) -> str | None:
        from tools.llm.registry import PROVIDERS

        if v is not None and v not in PROVIDERS:
            raise ValueError(
                f"unknown provider {v!r}; use one of {', '.join(PROVIDERS)} (or leave it out: auto)"
            )
        return v

    @field_validator("model")
    @classmethod
    def _model_not_blank(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("must not be empty (leave it out for the provider's default)")
        return v

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^\s/]+", v):
            raise ValueError(f"{v!r} is not an http(s) URL, e.g. http://localhost:8000/v1")
        return v


class SuccessCriteria(BaseModel):
    model_config = ConfigDict(extra="forbid")
    primary_metric: str | None = (
        None  # default by output format (exact_match / json_field_accuracy / label_accuracy / judge)
    )
    min_improvement: float = Field(
        default=0.10, description="relative gain over the best baseline on the primary metric"
    )
    min_format_rate: float = 0.95
    allow_regression_loss: bool = False
    max_forgetting_drop: float = Field(
        default=0.5, description="max mean judge-score drop on the forgetting set (1–5 scale)"
    )

    @field_validator("primary_metric")
    @classmethod
    def _known_metric(cls, v: str | None) -> str | None:
        if v is not None:
            from tools.evals._primary import KNOWN_METRICS

            if v not in KNOWN_METRICS:
                raise ValueError(f"unknown metric {v!r}; use one of {', '.join(KNOWN_METRICS)}")
        return v

    @field_validator("min_improvement")
    @classmethod
    def _improvement_range(cls, v: float) -> float:
        return _check_range(v, -1.0, 10.0)

    @field_validator("min_format_rate")
    @classmethod
    def _rate_range(cls, v: float) -> float:
        return _check_range(v, 0.0, 1.0)

    @field_validator("max_forgetting_drop")
    @classmethod
    def _drop_range(cls, v: float) -> float:
        return _check_range(v, 0.0, 4.0)


# "offline" and the words the interview's example answers use ("only on this computer")
PRIVATE_CONSTRAINTS = (
    "on-prem",
    "offline",
    "local",
    "private",
    "this computer",
    "own computer",
    "own machines",
)


def is_private(goals, constraints) -> bool:
    """Data must stay with the person: the goal "privacy" or a constraint such as offline or on-prem. Then
    no advice may send it to a hosted model (the walk's clinic was told to set an OpenAI key). Pure."""
    import re

    def items(v) -> list[str]:
        # a task file keeps the interview's answer as typed ("offline"): a string is a comma list, not letters
        # (walk 16's offline run was advised to let a hosted model write its examples)
        v = v.split(",") if isinstance(v, str) else (v or [])
        return [str(i).strip().lower() for i in v if i and str(i).strip()]

    private = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, PRIVATE_CONSTRAINTS)) + r")(?![\w-])")
    return "privacy" in items(goals) or any(private.search(c) for c in items(constraints))


class TaskSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str = "task"
    spec: str = Field(..., description="one-sentence behaviour spec")
    system_prompt: str | None = None
    examples: list[Example] = Field(default_factory=list)
    inputs: str | None = Field(
        default=None, description="file of inputs (one per line, or JSONL with `input`)"
    )
    documents: str | None = Field(default=None, description="folder of documents for retrieval")
    test: str | None = Field(
        default=None,
        description="your own test set (chat JSONL, last turn = the expected answer): it replaces the "
        "generated test split, and nothing like its inputs is trained on",
    )
    output: OutputSpec = Field(default_factory=OutputSpec)
    teacher: RoleSpec = Field(default_factory=RoleSpec)
    student: RoleSpec = Field(default_factory=RoleSpec)
    judge: RoleSpec = Field(default_factory=RoleSpec)
    success: SuccessCriteria = Field(default_factory=SuccessCriteria)
    budget: float | None = Field(
        default=None, description="USD for the whole run (teacher + judge + training)"
    )
    n_examples: int = Field(default=200, description="training examples to generate")
    max_iterations: int = 3
    axes: dict[str, list[str]] = Field(
        default_factory=dict, description="diversity axes for input generation"
    )
    general_share: float = Field(
        default=0.07, description="share of general-purpose examples mixed in against forgetting"
    )
    training: dict[str, Any] = Field(default_factory=dict, description="training config overrides")
    answers: dict[str, Any] | None = Field(
        default=None, description="interview answers (rubric keys); derived from the task when absent"
    )
    approach: Literal["auto", "prompt", "few-shot", "rag", "fine-tune", "rag+fine-tune"] = Field(
        default="auto", description="auto = the rubric decides; anything else overrides it (and says so)"
    )

    @field_validator("spec")
    @classmethod
    def _spec_not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must be a non-empty sentence")
        return v.strip()

    @field_validator("name")
    @classmethod
    def _name_not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty (it names the run)")
        return v.strip()

    @field_validator("system_prompt", "inputs", "documents", "test")
    @classmethod
    def _not_blank(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("must not be empty (leave the field out instead)")
        return v

    @field_validator("budget")
    @classmethod
    def _budget_range(cls, v: float | None) -> float | None:
        return None if v is None else _check_range(v, 0.0, 1_000_000.0)

    @field_validator("n_examples")
    @classmethod
    def _n_range(cls, v: int) -> int:
        return _check_range(v, 1, MAX_EXAMPLES)

    @field_validator("max_iterations")
    @classmethod
    def _iterations_range(cls, v: int) -> int:
        return _check_range(v, 1, MAX_ITERATIONS)

    @field_validator("general_share")
    @classmethod
    def _share_range(cls, v: float) -> float:
        return _check_range(v, 0.0, 0.5)

    @field_validator("axes")
    @classmethod
    def _axes_values(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, values in v.items():
            if not str(name).strip():
                raise ValueError("an axis needs a name")
            if not values or any(not str(x).strip() for x in values):
                raise ValueError(f"axis {name!r} needs at least one non-empty value")
        return v

    @field_validator("training")
    @classmethod
    def _training_config(cls, v: dict[str, Any]) -> dict[str, Any]:
        check_training_overrides(v)
        return v

    @property
    def private(self) -> bool:
        """The person said their data must stay with them (`is_private` on the interview's answers)."""
        a = self.answers or {}
        return is_private(a.get("goals"), a.get("constraints"))

    @property
    def effective_system_prompt(self) -> str:
        return self.system_prompt or self.spec

    def to_yaml_dict(self) -> dict:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def load_spec(path: str | Path) -> TaskSpec:
    from tools.workspace import read_yaml

    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(
            "a task file must be a YAML mapping", where=str(path), fix="see the README's task.yaml example"
        )
    return parse_spec_dict(data, where=str(path), base_dir=Path(path).parent)


def parse_spec_dict(data: dict, where: str = "spec", base_dir: Path | None = None) -> TaskSpec:
    """A validated TaskSpec, or one `ConfigError` naming the first bad field (and how many more there are).

    The error's `field` attribute is the dotted field path (e.g. `training.learning_rate`)."""
    try:
        spec = TaskSpec.model_validate(data)
    except ValidationError as e:
        errs = e.errors()
        first, fix = _describe_error(errs[0])
        more = [_describe_error(x)[0][0] for x in errs[1:]]
        field, msg = first
        tail = f" (and {len(more)} more: {', '.join(dict.fromkeys(more))})" if more else ""
        raise _config_error(
            f"field `{field}`: {msg}{tail}", where, fix or "see the README's task.yaml example", field
        ) from None
    if base_dir is not None:
        from tools.userfile import path_exists

        for attr in ("inputs", "documents", "test"):
            val = getattr(spec, attr)
            if val and not Path(val).is_absolute():
                with contextlib.suppress(OSError, ValueError):  # a name too long, a NUL: "not found" below
                    setattr(spec, attr, str((base_dir / val).resolve()))
            if val and not path_exists(getattr(spec, attr)):
                kind = "folder" if attr == "documents" else "file"
                raise _config_error(
                    f"field `{attr}`: {kind} {getattr(spec, attr)} not found",
                    where,
                    f"give a path relative to the task file ({base_dir}) or an absolute one",
                    attr,
                )
    if spec.output.format == "label" and not spec.output.labels:
        raise _config_error(
            "field `output.labels` is required when output.format is label",
            where,
            "list the allowed labels, e.g. labels: [positive, negative]",
            "output.labels",
        )
    _check_examples(spec, where)
    return spec


def _describe_error(err: ErrorDetails) -> tuple[tuple[str, str], str | None]:
    """((dotted field, message), fix) for one pydantic error."""
    loc = [str(p) for p in err["loc"]]
    problem = (err.get("ctx") or {}).get("error")
    if isinstance(problem, FieldProblem):
        field = ".".join(loc + ([problem.sub] if problem.sub else []))
        return (field, problem.message), problem.fix
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg += f"; allowed: {', '.join(_allowed_fields(err['loc']))}"
    return (".".join(loc) or "(root)", msg), None


def _config_error(message: str, where: str, fix: str, field: str) -> ConfigError:
    e = ConfigError(message, where=where, fix=fix)
    setattr(e, "field", field)  # noqa: B010 - an attribute ConfigError (tools/errors.py) does not declare
    return e


def _check_examples(spec: TaskSpec, where: str) -> None:
    """Examples must have the answer shape the task asks for: they become few-shot prompts and seeds."""
    import json

    out = spec.output
    for i, ex in enumerate(spec.examples):
        field = f"examples.{i}.output"
        if out.format == "json":
            try:
                value = json.loads(ex.output)
            except json.JSONDecodeError as e:
                raise _config_error(
                    f"field `{field}`: not valid JSON ({e.msg}) but output.format is json",
                    where,
                    "write the example answer as a JSON value, quoted in YAML: output: '{\"key\": 1}'",
                    field,
                ) from None
            if out.json_schema:
                from jsonschema import validators

                problem = next(
                    iter(validators.validator_for(out.json_schema)(out.json_schema).iter_errors(value)), None
                )
                if problem is not None:
                    raise _config_error(
                        f"field `{field}`: does not match output.schema ({problem.message})",
                        where,
                        "fix the example or the schema",
                        field,
                    )
        elif out.format == "label" and out.labels and ex.output.strip() not in out.labels:
            raise _config_error(
                f"field `{field}`: {ex.output.strip()!r} is not one of output.labels ({', '.join(out.labels)})",
                where,
                "use one of the labels, or add it to output.labels",
                field,
            )
        if out.regex and not re.search(out.regex, ex.output):
            raise _config_error(
                f"field `{field}`: does not match output.regex {out.regex!r}",
                where,
                "fix the example or the pattern",
                field,
            )


def _allowed_fields(loc) -> list[str]:
    model: Any = TaskSpec
    for part in loc[:-1]:
        fld = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if fld is None:
            break
        model = fld.annotation
    fields = getattr(model, "model_fields", {})
    return [f.alias or n for n, f in fields.items()]
