"""docs/policy.md documents every policy key, only keys that exist, each once, with its real default.

The convention the page follows (and this test enforces): every key has one row in a Markdown
table whose header row starts with ``| Key |``. The row's first cell is the key path in
backticks, spelled exactly as :func:`consentkit.schema.schema_keys` spells it
(`cookie.max_age_days`, `categories.<category>.services.<service>.hosts`). Its third cell,
Default, is ``required``, a YAML value in backticks (checked against what consentkit uses when
the key is absent), or prose for defaults that are computed or live in the stylesheet.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from consentkit import Policy, parse_policy
from consentkit.schema import POLICY_SCHEMA, Either, Map, Node, Obj, Seq, schema_keys
from consentkit.texts import OPTIONAL_TEXTS, REQUIRED_TEXTS

DOC = Path(__file__).resolve().parents[1] / "docs" / "policy.md"
COLUMNS = ("Key", "Type", "Default", "Example", "What it is for")

#: Keys that are scalars or lists but whose default is not a fixed value: say so in prose.
_SERVICE_KEYS = (
    *("label", "description", "hosts", "inline", "cookies", "consent_mode", "vendor"),
    *("vendor.name", "vendor.country", "vendor.privacy_policy_url"),
    *("cookies[].duration", "cookies[].purpose", "cookies[].party"),
)
PROSE_DEFAULTS = {
    "controller.name",  # no default: required when controller is given
    "controller.contact",
    # a service's keys default to its catalog entry's (or its own name, or nothing)
    *(f"categories.<category>.services.<service>.{key}" for key in _SERVICE_KEYS),
    *(f"services.<service>.{key}" for key in (*_SERVICE_KEYS, "category")),
    "texts.<language>.categories.<category>.label",  # the default language's, else derived
    "texts.<language>.categories.<category>.description",
    *(f"banner.theme.{name}" for name in ("background", "text", "muted", "accent")),
    *(f"banner.theme.{name}" for name in ("accent_text", "border", "focus", "link")),  # in the CSS
}
REQUIRED = {
    "version",
    *(f"texts.<language>.{key}" for key in REQUIRED_TEXTS),
    "categories.<category>.services.<service>.cookies[].name",
    "services.<service>.cookies[].name",
}

#: A policy that gives nothing optional, with one name for each free-form level.
MINIMAL = """\
version: "1"
categories:
  stats:
    services:
      counter: {hosts: [counter.example.org]}
texts:
  en: {title: T, body: B, accept: A, decline: D, categories: {stats: {}}}
"""
NAMES = {"<category>": "stats", "<service>": "counter", "<language>": "en"}


@dataclass(frozen=True)
class Row:
    key: str
    default: str
    line: int


def _cells(line: str) -> list[str] | None:
    stripped = line.strip()
    if not (stripped.startswith("|") and stripped.endswith("|")):
        return None
    return [cell.strip() for cell in stripped[1:-1].split("|")]


def documented_rows() -> list[Row]:
    rows: list[Row] = []
    in_key_table = False
    for number, line in enumerate(DOC.read_text(encoding="utf-8").splitlines(), 1):
        cells = _cells(line)
        if cells is None:
            in_key_table = False
            continue
        if cells[0] == "Key":
            assert tuple(cells) == COLUMNS, f"docs/policy.md:{number}: key tables have the columns {COLUMNS}"
            in_key_table = True
            continue
        if not in_key_table or set(cells[0]) <= set("-: "):
            continue
        found = re.fullmatch(r"`([^`]+)`", cells[0])
        assert found, (
            f"docs/policy.md:{number}: a key row starts with the key path in backticks, got {cells[0]!r}"
        )
        assert len(cells) == len(COLUMNS), (
            f"docs/policy.md:{number}: expected {len(COLUMNS)} cells, got {len(cells)}"
        )
        rows.append(Row(found.group(1), cells[2], number))
    return rows


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return documented_rows()


def test_every_policy_key_is_documented(rows: list[Row]) -> None:
    missing = sorted(set(schema_keys()) - {row.key for row in rows})
    assert not missing, "keys the policy accepts but docs/policy.md does not document:\n  " + "\n  ".join(
        missing
    )


def test_every_documented_key_exists(rows: list[Row]) -> None:
    schema = set(schema_keys())
    extra = [f"line {row.line}: {row.key}" for row in rows if row.key not in schema]
    assert not extra, "docs/policy.md documents keys the policy does not accept:\n  " + "\n  ".join(extra)


def test_each_key_is_documented_once(rows: list[Row]) -> None:
    twice = sorted(key for key, count in Counter(row.key for row in rows).items() if count > 1)
    assert not twice, f"documented more than once in docs/policy.md: {twice}"


def test_required_keys_and_only_those_say_required(rows: list[Row]) -> None:
    said = {row.key for row in rows if row.default == "required"}
    assert said == REQUIRED, (
        f"say 'required': {sorted(REQUIRED - said)}; wrongly say it: {sorted(said - REQUIRED)}"
    )


def _node(key: str) -> Node:
    node: Node = POLICY_SCHEMA
    for part in key.split("."):
        if isinstance(node, Map):
            node = node.value
        else:
            if isinstance(node, Either):  # the mapping form of a list item
                node = next(option for option in node.options if isinstance(option, Obj))
            assert isinstance(node, Obj), key
            node = node.fields[part.removesuffix("[]")]
            if part.endswith("[]"):
                assert isinstance(node, Seq), key
                node = node.item
    return node


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value


def real_default(policy: Policy, key: str) -> Any:
    """What consentkit uses for ``key`` when the policy leaves it out."""
    parts = [NAMES.get(part, part) for part in key.split(".")]
    if parts[0] == "texts" and len(parts) == 3 and parts[2] in OPTIONAL_TEXTS:
        return getattr(policy.messages("en"), parts[2])  # the built-in English message
    value: Any = policy
    for part in parts:
        value = value[part] if isinstance(value, Mapping) else getattr(value, part)
    return _plain(value)


def test_documented_defaults_are_the_real_defaults(rows: list[Row]) -> None:
    policy = parse_policy(MINIMAL)
    wrong: list[str] = []
    for row in rows:
        if row.key in REQUIRED or isinstance(_node(row.key), Obj | Map):
            continue  # required, or a mapping whose defaults are its keys'
        literal = re.fullmatch(r"`([^`]*)`", row.default)
        if literal is None:
            assert row.key in PROSE_DEFAULTS, (
                f"docs/policy.md:{row.line}: give {row.key}'s default as a value in backticks, got {row.default!r}"
            )
            continue
        actual = real_default(policy, row.key)
        text = literal.group(1)
        documented = text if isinstance(actual, str) else yaml.safe_load(text)
        if documented != actual:
            wrong.append(f"line {row.line}: {row.key}: documented {documented!r}, actually {actual!r}")
    assert not wrong, "wrong defaults in docs/policy.md:\n  " + "\n  ".join(wrong)


def test_the_complete_example_is_a_valid_policy() -> None:
    text = DOC.read_text(encoding="utf-8")
    example = re.search(r"## A complete example\s+```yaml\n(.*?)```", text, re.S)
    assert example is not None, "docs/policy.md lost its complete example"
    policy = parse_policy(example.group(1))
    assert policy.optional_categories == ("analytics", "marketing")
