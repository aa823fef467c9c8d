"""The task spec: what the model should do, shared by data generation, training, evaluation and the agent.

Stored as `spec.yaml` in a run; `tunewise run task.yaml` reads the same schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tools.errors import ConfigError


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: str
    output: str


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
        description="extraction tasks: every value of a JSON answer (or a text answer) must be written "
        "in the input (numbers as digits or words); a list names the JSON fields this holds for",
    )

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
        if self.grounded is True:
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


class SuccessCriteria(BaseModel):
    model_config = ConfigDict(extra="forbid")
    primary_metric: str | None = (
        None  # default by output format (exact_match / json_field_accuracy / label_accuracy / judge)
    )
    min_improvement: float = Field(
        0.10, description="relative gain over the best baseline on the primary metric"
    )
    min_format_rate: float = 0.95
    allow_regression_loss: bool = False
    max_forgetting_drop: float = Field(
        0.5, description="max mean judge-score drop on the forgetting set (1–5 scale)"
    )


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
    output: OutputSpec = Field(default_factory=OutputSpec)
    teacher: RoleSpec = Field(default_factory=RoleSpec)
    student: RoleSpec = Field(default_factory=RoleSpec)
    judge: RoleSpec = Field(default_factory=RoleSpec)
    success: SuccessCriteria = Field(default_factory=SuccessCriteria)
    budget: float | None = Field(
        default=None, description="USD for the whole run (teacher + judge + training)"
    )
    n_examples: int = Field(200, description="training examples to generate")
    max_iterations: int = 3
    axes: dict[str, list[str]] = Field(
        default_factory=dict, description="diversity axes for input generation"
    )
    general_share: float = Field(
        0.07, description="share of general-purpose examples mixed in against forgetting"
    )
    training: dict[str, Any] = Field(default_factory=dict, description="training config overrides")
    answers: dict[str, Any] | None = Field(
        default=None, description="interview answers (rubric keys); derived from the task when absent"
    )
    approach: Literal["auto", "prompt", "few-shot", "rag", "fine-tune", "rag+fine-tune"] = Field(
        "auto", description="auto = the rubric decides; anything else overrides it (and says so)"
    )

    @field_validator("spec")
    @classmethod
    def _spec_not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must be a non-empty sentence")
        return v.strip()

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
    try:
        spec = TaskSpec.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(root)"
        extra = ""
        if err["type"] == "extra_forbidden":
            extra = f"; allowed: {', '.join(_allowed_fields(err['loc']))}"
        raise ConfigError(
            f"field `{field}`: {err['msg']}{extra}", where=where, fix="see the README's task.yaml example"
        ) from None
    if base_dir is not None:
        for attr in ("inputs", "documents"):
            val = getattr(spec, attr)
            if val and not Path(val).is_absolute():
                setattr(spec, attr, str((base_dir / val).resolve()))
    if spec.output.format == "label" and not spec.output.labels:
        raise ConfigError(
            "field `output.labels` is required when output.format is label",
            where=where,
            fix="list the allowed labels, e.g. labels: [positive, negative]",
        )
    return spec


def _allowed_fields(loc) -> list[str]:
    model: Any = TaskSpec
    for part in loc[:-1]:
        fld = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if fld is None:
            break
        model = fld.annotation
    fields = getattr(model, "model_fields", {})
    return [f.alias or n for n, f in fields.items()]
