"""Export an evaluation as a Promptfoo config, so it survives outside tunewise.

Local systems become OpenAI-compatible providers pointing at `tunewise serve` (one server per
adapter); API systems map to Promptfoo's own provider ids. Each test row becomes a test with
assertions chosen by the output format.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools.data.schema import row_id, user_text
from tools.evals.systems import SystemSpec, build_messages, split_row

SERVE_PORT = 8000


def _provider_entry(s: SystemSpec, port: int) -> dict:
    params = {"temperature": 0, "max_tokens": s.max_tokens}
    if s.kind == "external" and s.provider in ("openai", "anthropic"):
        prefix = "openai:chat" if s.provider == "openai" else "anthropic:messages"
        return {"id": f"{prefix}:{s.model}", "label": s.name, "config": params}
    if s.kind == "external" and s.base_url:
        return {
            "id": f"openai:chat:{s.model}",
            "label": s.name,
            "config": {**params, "apiBaseUrl": s.base_url},
        }
    serve = "tunewise serve" + (f" --adapter {s.adapter}" if s.adapter else "") + f" --port {port}"
    return {
        "id": f"openai:chat:{s.name}",
        "label": s.name,
        "config": {**params, "apiBaseUrl": f"http://127.0.0.1:{port}/v1", "apiKey": "not-needed"},
        "_serve": serve,
    }


def _assertions(reference: str, spec: Any) -> list[dict]:
    out = spec.output
    asserts: list[dict] = []
    if out.format == "json":
        asserts.append({"type": "is-json", **({"value": out.json_schema} if out.json_schema else {})})
        try:
            ref = json.loads(reference)
        except json.JSONDecodeError:
            ref = None
        if isinstance(ref, dict):
            # field-level check: the share of reference fields reproduced, like json_field_accuracy
            js = (
                "const ref = "
                + json.dumps(ref, ensure_ascii=False)
                + "; let o; try { o = JSON.parse(output); } "
                "catch (e) { return 0; } const keys = Object.keys(ref); if (!keys.length) return 1; "
                "return keys.filter(k => JSON.stringify(o[k]) === JSON.stringify(ref[k])).length / keys.length;"
            )
            asserts.append({"type": "javascript", "value": js, "threshold": 1.0})
    elif out.format == "label":
        asserts.append({"type": "equals", "value": reference.strip()})
    else:
        asserts.append({"type": "rouge-n", "value": reference, "threshold": 0.5})
        asserts.append(
            {"type": "llm-rubric", "value": f"{spec.spec} The answer should agree with: {reference}"}
        )
    if out.regex:
        asserts.append({"type": "regex", "value": out.regex})
    return asserts


def promptfoo_config(spec: Any, systems: Sequence[SystemSpec], rows: Sequence[dict]) -> dict:
    """A Promptfoo config dict: one prompt per system (its exact messages, the `input` var for the input)."""
    prompts, providers, serve_cmds = [], [], []
    for n, s in enumerate(systems):
        template_row = {
            "messages": [
                {"role": "user", "content": "\u0000INPUT\u0000"},
                {"role": "assistant", "content": ""},
            ]
        }
        msgs = (
            build_messages(s, template_row)
            if s.kind != "rag"
            else build_messages(SystemSpec(s.name, "prompted", system_prompt=s.system_prompt), template_row)
        )
        # `dump` JSON-encodes the input, so quotes and newlines in it keep the chat prompt valid JSON
        raw = json.dumps(msgs, ensure_ascii=False).replace('"\\u0000INPUT\\u0000"', "{{ input | dump }}")
        prompts.append({"id": f"prompt-{s.name}", "label": s.name, "raw": raw})
        p = _provider_entry(s, SERVE_PORT + n)
        serve = p.pop("_serve", None)
        if serve:
            serve_cmds.append(serve)
        p["prompts"] = [s.name]  # each provider runs with its own system's prompt
        providers.append(p)
    tests = []
    for r in rows:
        _, _, ref = split_row(r)
        tests.append(
            {
                "description": row_id(r),
                "vars": {"input": user_text(r)},
                "assert": _assertions(ref, spec),
                "metadata": {"category": (r.get("metadata") or {}).get("category") or ""},
            }
        )
    return {
        "description": f"tunewise export: {spec.spec}",
        "prompts": prompts,
        "providers": providers,
        "tests": tests,
        "_serve": serve_cmds,
    }


def export_promptfoo(
    spec: Any, systems: Sequence[SystemSpec], rows: Sequence[dict], path: str | Path
) -> Path:
    """Write promptfooconfig.yaml with a header saying which local servers to start first."""
    import yaml

    from tools.workspace import atomic_write_text

    cfg = promptfoo_config(spec, systems, rows)
    serve = cfg.pop("_serve")
    header = "# Generated by `tunewise eval export --promptfoo`. Run with: npx promptfoo eval -c promptfooconfig.yaml\n"
    if serve:
        header += "# Start the local models first (one server each):\n" + "".join(f"#   {c}\n" for c in serve)
    path = Path(path)
    atomic_write_text(path, header + yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True, width=120))
    return path
