"""What happens to one start tag when something is blocked: the element blocked whole, or the
tag rewritten with the attributes that would fetch from a blocked host taken off.

Pages repeat the same tags request after request: the decision for a short tag is kept, keyed
by its raw bytes, the plan and the context it was read in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from .fetches import attribute_actions, element_rule
from .rules import BlockPlan, Rule
from .tokens import ATTRS_CACHE_MAX, DATA_CONSENT, TAG, Attrs, attr, canonical, esc, parse_attrs

#: The category of what is blocked because it could not be inspected (too large, too deep, too odd).
UNINSPECTED: Final = "uninspected"

_DECISIONS: dict[tuple[object, ...], tuple[object, Rule | None, bytes, str | None]] = {}
_DECISIONS_MAX: Final = 4096


def decide_tag(
    plan: BlockPlan,
    name: bytes,
    raw: bytes,
    attrs: Attrs,
    slash: bool,
    *,
    namespace: int,
    inert: bool,
    nested: Callable[[bytes], Rule | None],
) -> tuple[Rule | None, bytes, str | None]:
    """(the rule blocking the element whole or ``None``, the tag to write, the first category
    something was blocked for).

    ``raw`` is the whole start tag and ``attrs`` its parsed attributes; ``namespace`` the
    element's; ``inert`` keeps what is taken off aside (``data-consentkit-attr-*``);
    ``nested`` rewrites an embedded document (``srcdoc``, ``data:``) to see what it would block.
    """
    key = (id(plan), inert, namespace, name, raw) if len(raw) <= ATTRS_CACHE_MAX else None
    cached = _DECISIONS.get(key) if key is not None else None
    if cached is not None and cached[0] is plan:
        return cached[1], cached[2], cached[3]
    rule = _element_rule(plan, name, attrs, namespace, nested)
    new_raw, category = _neutralize_attributes(plan, name, raw, attrs, slash, namespace, inert)
    if new_raw is not raw and rule is None:
        # The rebuilt tag must read as one tag with nothing left to take off; markup too odd
        # for that (quotes in names...) is blocked whole: when unsure, block.
        again = TAG.match(new_raw)
        if (
            again is None
            or again.end() != len(new_raw)
            or attribute_actions(plan, name, parse_attrs(again.group(3)), namespace)
        ):
            rule, new_raw = Rule(category or UNINSPECTED, category or UNINSPECTED), raw
    if key is not None:
        if len(_DECISIONS) >= _DECISIONS_MAX:
            _DECISIONS.clear()
        _DECISIONS[key] = (plan, rule, new_raw, category)
    return rule, new_raw, category


def _element_rule(
    plan: BlockPlan, name: bytes, attrs: Attrs, namespace: int, nested: Callable[[bytes], Rule | None]
) -> Rule | None:
    explicit = attr(attrs, DATA_CONSENT)
    if explicit is not None:
        category = explicit.decode("latin-1").strip().lower()
        if category in plan.denied:
            return Rule(category, category)
    return element_rule(plan, name, attrs, namespace, nested)


def _neutralize_attributes(  # noqa: PLR0917
    plan: BlockPlan, name: bytes, raw: bytes, attrs: Attrs, slash: bool, namespace: int, inert: bool
) -> tuple[bytes, str | None]:
    """Take off the attributes that would fetch from a blocked host (the element stays)."""
    actions = attribute_actions(plan, name, attrs, namespace)
    if not actions:
        return raw, None
    changes = {index: (rule, value) for index, rule, value in actions}
    first = actions[0][1]
    parts = [raw[: 1 + len(name)]]
    for index, (attr_name, value, _text) in enumerate(attrs):
        change = changes.get(index)
        if change is None:
            if not (inert and attr_name == b"data-consentkit-category"):
                parts.append(canonical(attr_name, value))
            continue
        if change[1] is not None:
            parts.append(b" " + attr_name + b'="' + change[1] + b'"')
        if inert:
            parts.append(canonical(b"data-consentkit-attr-" + attr_name, value))
    if inert:
        parts.append(b' data-consentkit-category="' + esc(first.category) + b'"')
    parts.append(b"/>" if slash else b">")
    return b"".join(parts), first.category
