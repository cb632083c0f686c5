"""The built-in service catalog: what well-known trackers and embeds load, set and are for.

Each service is one YAML file in ``consentkit/catalog/`` written in the policy's own service
shape (hosts, inline markers, cookies with duration and purpose, vendor, Consent Mode types),
plus its suggested category and its sources. A source with a ``checked`` date was really read
and compared with the entry on that day, for the facts it ``covers``; one without is a reference
nobody has checked the entry against yet (its ``note`` says so). A policy names a service
(``services: {google-analytics: {}}``) and gets the entry; keys it gives extend the entry's lists
and override the rest.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, Final

import yaml

from .schema import CATALOG_FACTS, CONSENT_MODE_TYPES, SERVICE_CATEGORIES, Problem

__all__ = ["DATASETS", "CatalogEntry", "Source", "catalog", "expand_services", "merge_service", "suggest"]

#: Public datasets the catalog's facts were checked against: their licences and the snapshot read.
DATASETS: Final = {
    "Open Cookie Database": {
        "url": "https://github.com/jkwakman/Open-Cookie-Database",
        "licence": "Apache-2.0",
        "commit": "0ee5a17fe1cb002943f89370d24fc26a4226061c",
        "file": "open-cookie-database.csv",
        "note": "cookie names, durations and vendors compared entry by entry; no file of it is copied",
    },
}

#: Categories created for services when a policy does not define them, in banner order.
CATEGORY_ORDER: Final = SERVICE_CATEGORIES

#: The key under which expansion records which catalog entry a service came from.
CATALOG_KEY: Final = "_catalog"

_LISTS: Final = ("hosts", "inline", "consent_mode")
_TEXTS: Final = ("label", "description")


@dataclass(frozen=True)
class Source:
    """A reference for a catalog entry: checked (read and compared on ``checked``) or not yet.

    ``covers`` names the kinds of fact (hosts, inline, cookies, vendor) the source confirmed;
    ``hosts``, ``inline``, ``cookies`` and ``vendor`` (its keys: name, country, privacy_policy_url),
    when given, narrow that to the items the source actually shows.
    """

    url: str
    checked: str | None = None
    covers: tuple[str, ...] = ()
    cookies: tuple[str, ...] | None = None
    note: str = ""
    dataset: str | None = None
    hosts: tuple[str, ...] | None = None
    inline: tuple[str, ...] | None = None
    vendor: tuple[str, ...] | None = None

    @property
    def verified(self) -> bool:
        """Whether the entry was really compared with this source."""
        return self.checked is not None

    def confirms(self, fact: str, items: Iterable[str]) -> set[str]:
        """Which of the entry's ``items`` of kind ``fact`` this source confirmed."""
        if not self.verified or fact not in self.covers:
            return set()
        shown = getattr(self, fact)
        return set(items) if shown is None else set(items) & set(shown)

    def describe(self) -> str:
        """One line saying what the source is and whether it was checked."""
        what = self.url
        if self.dataset:
            commit = str(DATASETS.get(self.dataset, {}).get("commit", ""))[:12]
            what = f"{self.dataset} ({self.url}" + (f" at {commit})" if commit else ")")
        if self.checked is None:
            state = self.note or "not yet verified against this source"
        else:
            state = f"checked {self.checked}" + (f" for {', '.join(self.covers)}" if self.covers else "")
            if self.note:
                state += f"; {self.note}"
        return f"{what}: {state}"


@dataclass(frozen=True)
class CatalogEntry:
    """One known service: its policy data, suggested category and sources."""

    name: str
    category: str
    data: Mapping[str, Any]
    sources: tuple[Source, ...]

    @property
    def label(self) -> str:
        """The service's name in English."""
        label = self.data["label"]
        return str(label if isinstance(label, str) else label.get("en") or next(iter(label.values())))

    @property
    def vendor(self) -> str:
        return str(self.data["vendor"]["name"])

    def facts(self) -> tuple[str, ...]:
        """The kinds of fact this entry states (vendor always; hosts, inline, cookies if given)."""
        return tuple(f for f in CATALOG_FACTS if f == "vendor" or self.data.get(f))

    def _items(self, fact: str) -> list[str]:
        if fact == "cookies":
            return [_cookie_name(c) for c in self.data.get("cookies", ())]
        return [str(i) for i in self.data.get(fact, ())]  # for vendor, its keys

    def unverified(self, fact: str) -> tuple[str, ...]:
        """The entry's hosts, inline markers, cookie names or vendor keys no checked source shows."""
        items = self._items(fact)
        confirmed: set[str] = set()
        for source in self.sources:
            confirmed |= source.confirms(fact, items)
        return tuple(i for i in items if i not in confirmed)

    def unverified_cookies(self) -> tuple[str, ...]:
        """The entry's cookie names that no checked source lists."""
        return self.unverified("cookies")

    def verification(self) -> dict[str, str]:
        """Each fact the entry states: ``verified``, ``partly`` (some items) or ``unverified``."""
        status: dict[str, str] = {}
        for fact in self.facts():
            missing = len(self.unverified(fact))
            total = len(self._items(fact))
            status[fact] = "verified" if not missing else "unverified" if missing == total else "partly"
        return status

    def service_data(self) -> dict[str, Any]:
        """The entry as a policy service mapping (a fresh copy)."""
        return copy.deepcopy(dict(self.data))

    def policy_yaml(self) -> str:
        """The entry as YAML to paste under a category's ``services``, its provenance as comments."""
        body = yaml.safe_dump(
            {self.name: self.service_data()}, sort_keys=False, allow_unicode=True, width=100
        )
        status = ", ".join(f"{fact} {state}" for fact, state in self.verification().items())
        lines = [f"# {self.label}: suggested category {self.category}", f"# facts: {status}"]
        for fact in CATALOG_FACTS:
            missing = self.unverified(fact)
            if missing and len(missing) < len(self._items(fact)):
                lines.append(f"# {fact} no checked source shows: {', '.join(missing)}")
        lines += [f"# source: {s.describe()}" for s in self.sources]
        return "\n".join(lines) + "\n" + body


def _strings(raw: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    return None if raw.get(key) is None else tuple(str(i) for i in raw[key])


def _source(raw: Mapping[str, Any]) -> Source:
    return Source(
        url=str(raw["url"]),
        checked=str(raw["checked"]) if "checked" in raw else None,
        covers=tuple(str(c) for c in raw.get("covers", ())),
        cookies=_strings(raw, "cookies"),
        note=str(raw.get("note", "")),
        dataset=str(raw["dataset"]) if "dataset" in raw else None,
        hosts=_strings(raw, "hosts"),
        inline=_strings(raw, "inline"),
        vendor=_strings(raw, "vendor"),
    )


def _entry(name: str, raw: Mapping[str, Any]) -> CatalogEntry:
    data = {k: v for k, v in raw.items() if k not in ("category", "sources")}
    sources = tuple(_source(s) for s in raw["sources"])
    return CatalogEntry(name, str(raw["category"]), data, sources)


@cache
def catalog() -> Mapping[str, CatalogEntry]:
    """Every catalog entry by name, read once from the package's data files."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    entries: dict[str, CatalogEntry] = {}
    folder = files("consentkit").joinpath("catalog")
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yaml"):
            raw = yaml.load(item.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
            name = item.name.removesuffix(".yaml")
            entries[name] = _entry(name, raw)
    return entries


def suggest(name: str, choices: Iterable[str] | None = None) -> list[str]:
    """Catalog names close to ``name`` (for "did you mean"), best first."""
    names = list(catalog() if choices is None else choices)
    close = difflib.get_close_matches(name.lower(), names, n=3, cutoff=0.6)
    if not close:
        close = [n for n in names if name.lower() in n or n in name.lower()][:3]
    return close


def _texts_merge(base: Any, own: Any) -> Any:
    if isinstance(base, Mapping) and isinstance(own, Mapping):
        return {**base, **own}
    return own


def _cookie_name(cookie: Any) -> str:
    return str(cookie["name"]) if isinstance(cookie, Mapping) else str(cookie)


def merge_service(base: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """A catalog entry's data with a policy's keys applied: lists extend, the rest overrides.

    The policy's list items come first (so errors name their place in the file), then the
    catalog's. Cookies are matched by name: a mapping in the policy overrides the catalog's
    fields for that cookie, a plain name the catalog already knows keeps the catalog's details.
    """
    merged = copy.deepcopy(dict(base))
    for key, value in own.items():
        if key in _LISTS:
            merged[key] = list(value) + [item for item in merged.get(key, []) if item not in value]
        elif key == "cookies":
            known = {_cookie_name(c): c for c in merged.get("cookies", [])}
            cookies = []
            for cookie in value:
                old = known.pop(_cookie_name(cookie), None)
                if old is None or not isinstance(old, Mapping):
                    cookies.append(cookie)
                elif isinstance(cookie, Mapping):
                    new = {**old, **cookie}
                    if "purpose" in cookie:
                        new["purpose"] = _texts_merge(old.get("purpose"), cookie["purpose"])
                    cookies.append(new)
                else:
                    cookies.append(copy.deepcopy(old))
            merged["cookies"] = cookies + list(known.values())
        elif key in _TEXTS:
            merged[key] = _texts_merge(merged.get(key), value)
        elif key == "vendor":
            merged[key] = {**merged.get("vendor", {}), **value}
        else:
            merged[key] = value
    return merged


def _gives_something(service: Mapping[str, Any]) -> bool:
    return bool(service.get("hosts") or service.get("inline") or service.get("cookies"))


def _unknown(path: str, name: str, what: str) -> Problem:
    hints = suggest(name)
    hint = f"; did you mean {' or '.join(repr(h) for h in hints)}?" if hints else ""
    return Problem(
        path,
        f"{name!r} is not in the service catalog and {what}{hint} (`consentkit services` lists the catalog)",
    )


def expand_services(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The policy data with catalog entries filled in and top-level ``services`` placed in categories.

    Categories the policy does not define are created for top-level services (with a required
    ``necessary`` category first); a category without ``consent_mode`` takes its services' types.
    """
    out = dict(data)
    problems: list[Problem] = []
    known = catalog()
    defined = data.get("categories")
    categories: dict[str, dict[str, Any]] = {
        name: {**cat, "services": dict(cat.get("services") or {})} for name, cat in (defined or {}).items()
    }
    explicit_modes = {name for name, cat in categories.items() if "consent_mode" in cat}

    for cat_name, cat in categories.items():
        for svc_name, svc in list(cat["services"].items()):
            entry = known.get(svc_name)
            if entry is not None:
                cat["services"][svc_name] = {**merge_service(entry.data, svc), CATALOG_KEY: svc_name}
            elif not _gives_something(svc):
                path = f"categories.{cat_name}.services.{svc_name}"
                problems.append(_unknown(path, svc_name, "gives no hosts, inline markers or cookies"))

    created: dict[str, dict[str, Any]] = {}
    for svc_name, svc in (data.get("services") or {}).items():
        path = f"services.{svc_name}"
        own = {k: v for k, v in svc.items() if k != "category"}
        entry = known.get(svc_name)
        category = svc.get("category") or (entry.category if entry else None)
        if entry is None and (category is None or not _gives_something(own)):
            problems.append(
                _unknown(path, svc_name, "gives no category with hosts, inline markers or cookies")
            )
            continue
        assert category is not None
        service = {**merge_service(entry.data, own), CATALOG_KEY: svc_name} if entry else own
        target = categories.get(category)
        if target is None:
            if defined is not None and category not in CATEGORY_ORDER:
                problems.append(
                    Problem(
                        f"{path}.category",
                        f"category {category!r} is not defined under categories "
                        f"(defined: {', '.join(categories) or 'none'})",
                    )
                )
                continue
            # Marketing is "sale or sharing" under the California rules: GPC opts out of it.
            target = created.setdefault(
                category, {"services": {}, **({"gpc": "deny"} if category == "marketing" else {})}
            )
        if svc_name in target["services"]:
            problems.append(
                Problem(path, f"service {svc_name!r} is already listed under category {category}")
            )
            continue
        target["services"][svc_name] = service

    for name in [c for c in CATEGORY_ORDER if c in created] + [c for c in created if c not in CATEGORY_ORDER]:
        categories[name] = created[name]
    if defined is None and categories:
        necessary = categories.pop("necessary", {"services": {}})
        categories = {"necessary": {**necessary, "required": True}, **categories}
    for name, cat in categories.items():
        if name in explicit_modes:
            continue
        modes = {m for svc in cat["services"].values() for m in svc.get("consent_mode", ())}
        if name == "necessary" and cat.get("required"):
            modes |= {"security_storage", "functionality_storage"}
        if modes:
            cat["consent_mode"] = [m for m in CONSENT_MODE_TYPES if m in modes]
    if categories or defined is not None:
        out["categories"] = categories
    out.pop("services", None)
    return out, problems
