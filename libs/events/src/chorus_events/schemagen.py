"""Generate the published event documentation from the contracts.

    python -m chorus_events.schemagen           # (re)write docs/events/
    python -m chorus_events.schemagen --check   # exit 1 and name stale files

Writes `schemas/<ce_type>.json` (one self-contained JSON Schema per event type)
and `asyncapi.yaml` (AsyncAPI 3.0.0). Output is deterministic: the same
contracts always give the same bytes, so `--check` in CI catches a contract
change whose docs were not regenerated.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import yaml

from chorus_events.contracts import CONTRACTS_VERSION
from chorus_events.contracts.asyncapi import asyncapi_document
from chorus_events.contracts.registry import ALL_SPECS

SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
SCHEMAS_DIR: Final = "schemas"
ASYNCAPI_FILE: Final = "asyncapi.yaml"


class _Dumper(yaml.SafeDumper):
    """Block-style YAML without anchors; multi-line text as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True  # repeated sub-schemas are written out, readers need no alias support


def _str_representer(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _str_representer)


def dump_yaml(document: Any) -> str:
    """Deterministic YAML: insertion order kept (the builder orders everything)."""
    return yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2
    )


def schema_id(ce_type: str) -> str:
    """The `$id` of an event type's JSON Schema (a URN: stable, needs no domain)."""
    return f"urn:chorus:events:schema:{ce_type}"


def render() -> dict[str, str]:
    """Every generated file: path relative to the docs dir -> text content."""
    files: dict[str, str] = {}
    for spec in ALL_SPECS:
        schema = spec.payload.model_json_schema()
        document: dict[str, Any] = {
            "$schema": SCHEMA_DIALECT,
            "$id": schema_id(spec.ce_type),
            "title": schema.pop("title", spec.payload.__name__),
            "x-chorus-ce-type": spec.ce_type,
            "x-chorus-topic": spec.topic,
            "x-chorus-key": spec.key_format,
            **schema,
        }
        files[f"{SCHEMAS_DIR}/{spec.ce_type}.json"] = (
            json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        )
    files[ASYNCAPI_FILE] = dump_yaml(asyncapi_document(CONTRACTS_VERSION))
    return dict(sorted(files.items()))


def stale_files(docs_dir: Path) -> list[str]:
    """Relative paths that differ from `render()`: changed, missing, or no longer generated."""
    expected = render()
    stale = [
        rel
        for rel, text in expected.items()
        if not (docs_dir / rel).is_file() or (docs_dir / rel).read_text("utf-8") != text
    ]
    schemas_dir = docs_dir / SCHEMAS_DIR
    if schemas_dir.is_dir():
        for path in sorted(schemas_dir.glob("*.json")):
            rel = f"{SCHEMAS_DIR}/{path.name}"
            if rel not in expected:
                stale.append(rel)
    return sorted(stale)


def write(docs_dir: Path) -> list[str]:
    """Bring `docs_dir` up to date; return the relative paths written or removed."""
    changed = stale_files(docs_dir)
    expected = render()
    for rel in changed:
        path = docs_dir / rel
        if rel in expected:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(expected[rel], "utf-8")
        else:
            path.unlink()  # the generator owns schemas/: drop types no longer registered
    return changed


def default_docs_dir() -> Path:
    """`<repo>/docs/events`, found from this file's location (or the working directory)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "libs" / "events").is_dir():
            return parent / "docs" / "events"
    return Path.cwd() / "docs" / "events"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chorus_events.schemagen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if any file is stale")
    parser.add_argument("--out", type=Path, default=None, help="docs dir (default docs/events)")
    args = parser.parse_args(argv)
    docs_dir: Path = args.out or default_docs_dir()
    if args.check:
        stale = stale_files(docs_dir)
        for rel in stale:
            print(f"stale: {docs_dir / rel}", file=sys.stderr)
        if stale:
            print("run: python -m chorus_events.schemagen", file=sys.stderr)
        return 1 if stale else 0
    for rel in write(docs_dir):
        print(f"wrote: {docs_dir / rel}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
