"""Type-checks a YAML document against the policy schema, keeping line and column for errors.

The schema is data (``POLICY_SCHEMA``), so the policy reference in ``docs/policy.md`` can be
checked against it and every error can name the file, line, column and key path at fault.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml


@dataclass(frozen=True)
class Mark:
    """A position in the policy file (1-based line and column)."""

    line: int
    column: int


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a policy: where, which key, and what."""

    path: str
    message: str
    file: str | None = None
    mark: Mark | None = None

    def __str__(self) -> str:
        where = self.file or "<policy>"
        if self.mark is not None:
            where = f"{where}:{self.mark.line}:{self.mark.column}"
        key = self.path or "(top level)"
        return f"{where}: {key}: {self.message}"


class PolicyError(ValueError):
    """The policy is invalid. ``problems`` lists every fault found, each with its location."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        head = "invalid consent policy" + (f" ({count} problems)" if count > 1 else "")
        super().__init__(head + ":\n  " + "\n  ".join(str(p) for p in self.problems))


# --- schema description ---------------------------------------------------------------------


@dataclass(frozen=True)
class Scalar:
    """A scalar of one of ``kinds`` (``str``, ``bool``, ``int``, ``null``); ``raw`` keeps YAML's text."""

    kinds: tuple[str, ...]
    choices: tuple[Any, ...] = ()
    raw: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Seq:
    """A list whose items all match ``item``."""

    item: Node


@dataclass(frozen=True)
class Obj:
    """A mapping with a fixed set of keys; unknown keys are errors."""

    fields: Mapping[str, Node]
    required: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Map:
    """A mapping from names of the user's choosing (``key_label``) to values of one schema."""

    value: Node
    key_label: str
    key_pattern: str = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


@dataclass(frozen=True)
class Either:
    """One of several shapes, picked by the YAML node's kind: a scalar, a list or a mapping."""

    options: tuple[Node, ...]


Node = Scalar | Seq | Obj | Map | Either

STR = Scalar(("str",))
BOOL = Scalar(("bool",))
OPT_STR = Scalar(("str", "null"))
STR_LIST = Seq(STR)

_CATEGORY_TEXT = Obj({"label": STR, "description": STR})

_TEXT_KEYS = (
    *("title", "body", "accept", "decline", "settings", "save", "privacy_policy", "necessary_label"),
    *("necessary_description", "always_on", "settings_link", "settings_title", "settings_intro"),
    *("current_choice", "no_choice_yet", "saved", "gpc_honored", "skip_link", "embed_blocked"),
    *("embed_allow", "back", "services", "changed"),
)
_TEXTS_FIELDS: dict[str, Node] = dict.fromkeys(_TEXT_KEYS, STR)
_TEXTS_FIELDS["privacy_policy_url"] = OPT_STR
_TEXTS_FIELDS["categories"] = Map(_CATEGORY_TEXT, "category")

CONSENT_MODE_TYPES = (
    "ad_storage",
    "ad_user_data",
    "ad_personalization",
    "analytics_storage",
    "functionality_storage",
    "personalization_storage",
    "security_storage",
)

LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"

#: A text given once for every language, or per language: ``{en: ..., fr: ...}``.
LOCAL_STR = Either((STR, Map(STR, "language", key_pattern=LANGUAGE_PATTERN)))

SERVICE_CATEGORIES = ("necessary", "functional", "analytics", "marketing", "media")

#: What a service may say about itself, in a category's ``services`` or the top-level ``services``.
SERVICE_FIELDS: dict[str, Node] = {
    "label": LOCAL_STR,
    "description": LOCAL_STR,
    "hosts": STR_LIST,
    "inline": STR_LIST,
    "cookies": Seq(
        Either(
            (
                STR,
                Obj(
                    {
                        "name": STR,
                        "duration": STR,
                        "purpose": LOCAL_STR,
                        "party": Scalar(("str",), choices=("first", "third")),
                    },
                    required=frozenset({"name"}),
                ),
            )
        )
    ),
    "vendor": Obj({"name": STR, "country": STR, "privacy_policy_url": STR}),
    "consent_mode": Seq(Scalar(("str",), choices=CONSENT_MODE_TYPES)),
}

#: The kinds of fact a catalog source can vouch for.
CATALOG_FACTS = ("hosts", "inline", "cookies", "vendor")

#: A catalog entry (``consentkit/catalog/*.yaml``): a service, its suggested category and sources.
CATALOG_SCHEMA = Obj(
    {
        **SERVICE_FIELDS,
        "category": Scalar(("str",), choices=SERVICE_CATEGORIES),
        "sources": Seq(
            Obj(
                {
                    "url": STR,
                    "dataset": STR,
                    "checked": STR,
                    "covers": Seq(Scalar(("str",), choices=CATALOG_FACTS)),
                    "hosts": STR_LIST,
                    "inline": STR_LIST,
                    "cookies": STR_LIST,
                    "vendor": Seq(Scalar(("str",), choices=("name", "country", "privacy_policy_url"))),
                    "note": STR,
                },
                required=frozenset({"url"}),
            )
        ),
    },
    required=frozenset({"label", "description", "category", "vendor", "sources"}),
)

THEME_KEYS = ("background", "text", "muted", "accent", "accent_text", "border", "focus", "link")

POLICY_SCHEMA = Obj(
    {
        "version": Scalar(("str", "int", "float", "timestamp"), raw=True),
        "default_language": STR,
        "privacy_policy_url": OPT_STR,
        "cookie": Obj(
            {
                "name": STR,
                "max_age_days": Scalar(("int",)),
                "same_site": Scalar(("str",), choices=("lax", "strict", "none")),
                "secure": Scalar(("str", "bool"), choices=("auto", True, False)),
                "domain": OPT_STR,
                "http_only": BOOL,
            }
        ),
        "categories": Map(
            Obj(
                {
                    "required": BOOL,
                    "gpc": Scalar(("str",), choices=("deny", "ignore")),
                    "consent_mode": Seq(Scalar(("str",), choices=CONSENT_MODE_TYPES)),
                    "services": Map(Obj(SERVICE_FIELDS), "service"),
                }
            ),
            "category",
            key_pattern=r"^[a-z][a-z0-9_-]*$",
        ),
        "services": Map(Obj({**SERVICE_FIELDS, "category": STR}), "service"),
        "texts": Map(Obj(_TEXTS_FIELDS), "language", key_pattern=LANGUAGE_PATTERN),
        "blocking": Obj({"mode": Scalar(("str",), choices=("remove", "inert"))}),
        "controller": Obj({"name": STR, "contact": STR}, required=frozenset({"name", "contact"})),
        "audit": Obj(
            {
                "url": OPT_STR,
                "path": OPT_STR,
                "ip": Scalar(("str",), choices=("omit", "truncate", "hash")),
                "fsync": BOOL,
                "log": BOOL,
                "retention_days": Scalar(("int", "null")),
                "rate_limit_per_minute": Scalar(("int",)),
                "checkpoint_minutes": Scalar(("int",)),
            }
        ),
        "signals": Obj(
            {
                "gpc": BOOL,
                "dnt": Scalar(("str",), choices=("ignore", "deny")),
                "gpc_last_update": Scalar(("str", "timestamp", "null"), raw=True),
            }
        ),
        "banner": Obj(
            {
                "settings_control": BOOL,
                "exclude_paths": STR_LIST,
                "theme": Obj(dict.fromkeys(THEME_KEYS, STR)),
            }
        ),
    },
    required=frozenset({"version"}),
)


def schema_keys(node: Node = POLICY_SCHEMA, prefix: str = "") -> Iterator[str]:
    """Every key path the schema accepts, with ``<category>``-style names for free-form keys."""
    if isinstance(node, Obj):
        for name, child in node.fields.items():
            path = f"{prefix}.{name}" if prefix else name
            yield path
            yield from schema_keys(child, path)
    elif isinstance(node, Map):
        yield from schema_keys(node.value, f"{prefix}.<{node.key_label}>")
    elif isinstance(node, Seq):
        yield from schema_keys(node.item, f"{prefix}[]")
    elif isinstance(node, Either):
        for option in node.options:
            if not isinstance(option, Map):  # a per-language variant of a text is the same key
                yield from schema_keys(option, prefix)


# --- reading YAML against the schema ---------------------------------------------------------

_TAG_KIND = {
    "tag:yaml.org,2002:str": "str",
    "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:int": "int",
    "tag:yaml.org,2002:float": "float",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "timestamp",
}
_KIND_NAME = {
    "str": "a string",
    "bool": "true or false",
    "int": "a whole number",
    "float": "a number",
    "null": "null",
    "timestamp": "a date",
}


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    kind = _TAG_KIND.get(node.tag, "a value")
    return _KIND_NAME.get(kind, kind) + f" ({node.value!r})"


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


@dataclass
class _Reader:
    file: str | None
    constructor: Callable[[yaml.Node], Any]
    problems: list[Problem] = field(default_factory=list)
    marks: dict[str, Mark] = field(default_factory=dict)

    def fail(self, path: str, message: str, node: yaml.Node) -> None:
        self.problems.append(Problem(path, message, self.file, _mark(node)))

    def read(self, schema: Node, node: yaml.Node, path: str) -> Any:
        self.marks.setdefault(path, _mark(node))
        if isinstance(schema, Either):
            return self._either(schema, node, path)
        if isinstance(schema, Scalar):
            return self._scalar(schema, node, path)
        if isinstance(schema, Seq):
            if not isinstance(node, yaml.SequenceNode):
                self.fail(path, f"expected a list, got {_describe(node)}", node)
                return None
            items = [self.read(schema.item, item, f"{path}[{i}]") for i, item in enumerate(node.value)]
            return [item for item in items if item is not None]
        if isinstance(schema, Map) and isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            return {}  # `services:` with every entry commented out
        if not isinstance(node, yaml.MappingNode):
            expected = "a mapping" if isinstance(schema, Obj) else f"a mapping of {schema.key_label} names"
            self.fail(path, f"expected {expected}, got {_describe(node)}", node)
            return None
        return self._mapping(schema, node, path)

    def _either(self, schema: Either, node: yaml.Node, path: str) -> Any:
        for option in schema.options:
            if isinstance(node, yaml.ScalarNode) and isinstance(option, Scalar):
                return self._scalar(option, node, path)
            if isinstance(node, yaml.SequenceNode) and isinstance(option, Seq):
                return self.read(option, node, path)
            if isinstance(node, yaml.MappingNode) and isinstance(option, Obj | Map):
                return self._mapping(option, node, path)
        shapes = " or ".join(_shape(option) for option in schema.options)
        self.fail(path, f"expected {shapes}, got {_describe(node)}", node)
        return None

    def _scalar(self, schema: Scalar, node: yaml.Node, path: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            self.fail(path, f"expected {self._expected(schema)}, got {_describe(node)}", node)
            return None
        kind = _TAG_KIND.get(node.tag, "str")
        if kind not in schema.kinds:
            self.fail(path, f"expected {self._expected(schema)}, got {_describe(node)}", node)
            return None
        value = node.value if schema.raw and kind != "null" else self.constructor(node)
        if kind == "null":
            value = None
        if schema.choices and value not in schema.choices:
            self.fail(path, f"expected {self._expected(schema)}, got {value!r}", node)
            return None
        return value

    @staticmethod
    def _expected(schema: Scalar) -> str:
        if schema.choices:
            return "one of " + ", ".join(_show(c) for c in schema.choices)
        return " or ".join(_KIND_NAME[k] for k in schema.kinds)

    def _mapping(self, schema: Obj | Map, node: yaml.MappingNode, path: str) -> dict[str, Any]:
        result: dict[str, Any] = {}
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = f"{path}.{key}" if path else key
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail(path, f"keys must be plain names, got {_describe(key_node)}", key_node)
                continue
            if key in seen:
                self.fail(child, "duplicate key (YAML would silently keep only the last one)", key_node)
                continue
            seen.add(key)
            if isinstance(schema, Obj):
                sub = schema.fields.get(key)
                if sub is None:
                    hint = difflib.get_close_matches(key, list(schema.fields), n=1)
                    extra = f"; did you mean {hint[0]!r}?" if hint else ""
                    allowed = ", ".join(schema.fields)
                    self.fail(child, f"unknown key{extra} (allowed here: {allowed})", key_node)
                    continue
            else:
                sub = schema.value
                if not re.match(schema.key_pattern, key):
                    self.fail(child, f"{key!r} is not a valid {schema.key_label} name", key_node)
                    continue
            self.marks[child] = _mark(key_node)
            value = self.read(sub, value_node, child)
            if value is not None or (isinstance(sub, Scalar) and "null" in sub.kinds):
                result[key] = value
        if isinstance(schema, Obj):
            for name in sorted(schema.required - seen):
                self.fail(f"{path}.{name}" if path else name, "required key is missing", node)
        return result


def _shape(node: Node) -> str:
    if isinstance(node, Scalar):
        return _Reader._expected(node)
    if isinstance(node, Seq):
        return "a list"
    if isinstance(node, Map):
        return f"a mapping of {node.key_label} names"
    return "a mapping"


def _show(choice: Any) -> str:
    if choice is True:
        return "true"
    if choice is False:
        return "false"
    return str(choice)


def read_yaml(
    text: str, file: str | None, schema: Node = POLICY_SCHEMA
) -> tuple[dict[str, Any], dict[str, Mark]]:
    """Parse ``text`` and check it against ``schema`` (the policy's); returns plain data and key marks."""
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            where = Mark(mark.line + 1, mark.column + 1) if mark is not None else None
            raise PolicyError([Problem("", f"not valid YAML: {exc.problem}", file, where)]) from None
        except yaml.YAMLError as exc:
            raise PolicyError([Problem("", f"not valid YAML: {exc}", file)]) from None
        if root is None:
            raise PolicyError([Problem("", "the policy file is empty", file)])
        reader = _Reader(file, lambda n: loader.construct_object(n, deep=True))
        data = reader.read(schema, root, "")
    finally:
        loader.dispose()
    if reader.problems:
        raise PolicyError(reader.problems)
    return data, reader.marks
