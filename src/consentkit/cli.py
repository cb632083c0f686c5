"""The ``consentkit`` command: check a policy, run the demo, verify and query the audit trail."""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import re
import secrets
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from . import __version__, scanner
from .audit import VerifyReport
from .audit_setup import AuditStoreError, check_writable
from .audit_store import SqlStore, is_url, open_store, shown
from .audit_verify import Anchor, load_checkpoints, parse_head, store_failure, verify_sources
from .banner import Renderer
from .catalog import catalog, suggest
from .consent import SecretKeyError, resolve_secret_keys
from .fingerprint import category_fingerprints, policy_fingerprint
from .guides import docs_dir, find_guide, guides
from .middleware import ConsentMiddleware
from .policy import Policy, load_policy
from .reports import format_summary, parse_day, receipts, render_html, summarize
from .schema import PolicyError

#: The development key the demo signs with. Never use it in production.
DEMO_KEY = "consentkit-demo-development-key-do-not-use-in-production"
CNIL_RECOMMENDED_DAYS = 180


def _example_dir() -> Path:
    """The release-page example: shipped inside the wheel, or in the source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_example" / "release_page", here.parents[1] / "examples" / "release_page"):
        if (candidate / "app.py").is_file():
            return candidate
    raise SystemExit("consentkit: the release-page example is not installed with this copy of consentkit")


# --- check ---------------------------------------------------------------------------------------


def policy_warnings(policy: Policy) -> list[str]:
    """What a privacy officer would want to know about a valid policy."""
    warnings = []
    if policy.cookie.max_age_days > CNIL_RECOMMENDED_DAYS:
        warnings.append(
            f"cookie.max_age_days is {policy.cookie.max_age_days}: consent is kept longer than the "
            f"{CNIL_RECOMMENDED_DAYS} days (6 months) the CNIL recommends"
        )
    if policy.privacy_policy_url is None and not any(t.privacy_policy_url for t in policy.texts.values()):
        warnings.append("no privacy_policy_url: the banner cannot link to the privacy policy")
    if not policy.optional_categories:
        warnings.append("no optional category: there is nothing for visitors to decide")
    if policy.blocking.mode == "inert":
        warnings.append(
            "blocking.mode is inert: blocked tags still reach the browser (disabled) before consent"
        )
    if policy.audit.retention_days is None and policy.audit.url != "log":
        warnings.append(
            "audit.retention_days is not set: the personal data in audit records is kept until you run "
            "`consentkit audit purge`"
        )
    target, origin = policy.audit_target()
    if origin == "default":
        warnings.append(f"no audit store is configured (audit.url): decisions are recorded to {target}")
    elif target is None:
        warnings.append(
            "audit.url is log: decisions go to the consentkit.audit logger only, and are refused "
            "(503) while that logger has no handler"
        )
    if not policy.signals.gpc:
        warnings.append("signals.gpc is false: Global Privacy Control is ignored")
    for name, category in policy.categories.items():
        if category.required:
            continue
        if not category.services:
            warnings.append(f"category {name!r} lists no services: nothing of it is blocked on the server")
        for service_name, service in category.services.items():
            if not service.hosts and not service.inline:
                warnings.append(
                    f"service {name}.{service_name} has no hosts or inline markers: its tags pass"
                )
    for lang in policy.texts:
        msgs = policy.messages(lang)
        for name in policy.optional_categories:
            if not msgs.category_descriptions[name]:
                warnings.append(
                    f"texts.{lang}: category {name!r} has no description (visitors cannot tell what it does)"
                )
        if "{privacy_policy" not in msgs.body:
            warnings.append(f"texts.{lang}.body does not link to the privacy policy ({{privacy_policy}})")
        for key in msgs.fallbacks:
            warnings.append(f"texts.{lang}.{key} is missing: falls back to another language")
    return warnings


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    try:
        policy = load_policy(args.policy)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(
        f"Policy {args.policy}: version {policy.version}, languages {', '.join(policy.languages)}", file=out
    )
    cookie = policy.cookie
    audit = policy.audit
    print(f"Cookie {cookie.name!r}: {cookie.max_age_days} days, SameSite={cookie.same_site}", file=out)
    target, origin = policy.audit_target()
    if target is not None and origin == "default":
        try:
            check_writable(target)  # the middleware refuses to start on this: so does check
        except AuditStoreError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    where = shown(target) if target is not None else "the consentkit.audit logger only"
    print(f"Blocking: {policy.blocking.mode}; audit: {where} ({origin}; ip: {audit.ip})", file=out)
    prints = category_fingerprints(policy)
    print(
        f"Fingerprint: {policy_fingerprint(policy)} ("
        + ", ".join(f"{name} {value}" for name, value in prints.items())
        + "); when a category's changes, visitors are asked about it again",
        file=out,
    )
    for name, category in policy.categories.items():
        flags = ["required"] if category.required else []
        if category.gpc == "deny":
            flags.append("denied by Global Privacy Control")
        if category.consent_mode:
            flags.append("Consent Mode: " + ", ".join(category.consent_mode))
        print(f"  {name}" + (f" ({'; '.join(flags)})" if flags else ""), file=out)
        for service_name, service in category.services.items():
            print(f"    {service.label or service_name}", file=out)
            if service.hosts:
                print(f"      hosts:   {', '.join(service.hosts)}", file=out)
            if service.inline:
                print(f"      inline:  {', '.join(service.inline)}", file=out)
            if service.cookies:
                print(f"      cookies: {', '.join(service.cookies)}", file=out)
    warnings = policy_warnings(policy)
    for warning in warnings:
        print(f"warning: {warning}", file=out)
    print(f"OK ({len(warnings)} warning{'s' if len(warnings) != 1 else ''})", file=out)
    return 0


def cmd_notice(args: argparse.Namespace, out: TextIO) -> int:
    try:
        policy = load_policy(args.policy)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 1
    renderer = Renderer(policy, "/_consent")
    for lang in [args.lang] if args.lang else list(policy.texts):
        if lang not in policy.texts:
            print(f"consentkit: the policy has no language {lang!r}", file=sys.stderr)
            return 1
        print(f"{lang} notice_hash {renderer.notice_hashes[lang]}", file=out)
        if args.lang:
            print(renderer.notice(lang), file=out)
    return 0


def cmd_keygen(args: argparse.Namespace, out: TextIO) -> int:
    print(secrets.token_urlsafe(32), file=out)
    return 0


def _provenance(status: Mapping[str, str]) -> str:
    """``checked: hosts, cookies; unverified: vendor`` for one catalog entry."""
    groups = {"verified": "checked", "partly": "partly checked", "unverified": "unverified"}
    parts = []
    for state, word in groups.items():
        facts = [fact for fact, s in status.items() if s == state]
        if facts:
            parts.append(f"{word}: {', '.join(facts)}")
    return "; ".join(parts)


def cmd_services(args: argparse.Namespace, out: TextIO) -> int:
    entries = catalog()
    if args.name is None:
        width = max(len(name) for name in entries)
        for name, known in entries.items():
            print(f"{name:<{width}}  {known.category:<10}  {known.label} ({known.vendor})", file=out)
            print(f"{'':<{width}}  {_provenance(known.verification())}", file=out)
        print(
            f'{len(entries)} services; "checked" facts were compared with a source read on the date it '
            "gives; `consentkit services show NAME` prints one as policy YAML with its sources",
            file=out,
        )
        return 0
    entry = entries.get(args.name)
    if entry is None:
        hints = suggest(args.name)
        hint = f"; did you mean {' or '.join(hints)}?" if hints else ""
        print(f"consentkit: no service {args.name!r} in the catalog{hint}", file=sys.stderr)
        return 1
    print(entry.policy_yaml(), end="", file=out)
    return 0


# --- scan ----------------------------------------------------------------------------------------


def _load_asgi(target: str, factory: bool) -> Any:
    """``module:attribute`` (``pkg.site:app``), imported from the current folder first."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise SystemExit(f"consentkit: {target!r} is neither an http:// URL nor module:app")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        value: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            value = getattr(value, part)
    except (ImportError, AttributeError) as exc:
        raise SystemExit(f"consentkit: cannot load {target}: {exc}") from None
    return value() if factory else value


def _serve(app: Any) -> tuple[str, Any]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread (for --browser)."""
    import threading  # noqa: PLC0415
    import time  # noqa: PLC0415

    try:
        import uvicorn  # noqa: PLC0415 - an optional dependency (the "demo" extra)
    except ImportError:
        raise SystemExit("consentkit: --browser with module:app needs uvicorn: pip install uvicorn") from None
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="consentkit-scan-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise SystemExit("consentkit: could not serve the app for --browser")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return f"http://127.0.0.1:{port}/", server


class _ScanProgress:
    """``[#####     ] 5/20 /path`` on stderr, when stderr is a terminal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()

    def __call__(self, done: int, total: int, path: str) -> None:
        if self.enabled:
            filled = done * 20 // max(total, 1)
            sys.stderr.write(f"\rscanning [{'#' * filled:<20}] {done}/{total} {path[:40]:<40}")
            sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 80 + "\r")
            sys.stderr.flush()


def cmd_scan(args: argparse.Namespace, out: TextIO) -> int:
    import asyncio  # noqa: PLC0415
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    try:
        import httpx  # noqa: PLC0415 - the scanner's own dependency (the "scan" extra)

        from .scan import browser_pass, crawl, match  # noqa: PLC0415
    except ImportError:
        print("consentkit: scan needs httpx: pip install 'consentkit[scan]'", file=sys.stderr)
        return 2

    app: Any = None
    server: Any = None
    if args.target.startswith(("http://", "https://")):
        start = args.target
    else:
        app = _load_asgi(args.target, args.factory)
        start = "http://localhost/"
    try:
        policy = load_policy(args.policy) if args.policy else getattr(app, "policy", None)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 2
    if not isinstance(policy, Policy):
        print("consentkit: give the policy to check against with --policy FILE", file=sys.stderr)
        return 2
    executable = os.environ.get("CONSENTKIT_CHROMIUM", "").strip() or "/usr/bin/chromium"
    if args.browser:
        if importlib.util.find_spec("playwright") is None or not os.access(executable, os.X_OK):
            print(
                "consentkit: --browser needs Playwright (pip install 'consentkit[scan-browser]') "
                f"and Chromium at {executable} (or CONSENTKIT_CHROMIUM)",
                file=sys.stderr,
            )
            return 2
        if app is not None:
            start, server = _serve(app)
            app = None
    transport = httpx.ASGITransport(app=app) if app is not None else None
    progress = _ScanProgress()

    async def run() -> Any:
        async with httpx.AsyncClient(transport=transport, timeout=30) as client:
            return await crawl(client, start, max_pages=args.max_pages, progress=progress)

    def work() -> Any:
        found = asyncio.run(run())
        progress.finish()
        if found.pages and args.browser:
            browser_pass(found, executable)
        return found

    try:
        # A thread of its own: asyncio.run and Playwright's sync API both refuse to run inside a
        # running event loop (a notebook, or a caller that is itself async).
        with ThreadPoolExecutor(max_workers=1) as pool:
            result = pool.submit(work).result()
    finally:
        if server is not None:
            server.should_exit = True
    if not result.pages:
        print(f"consentkit: no HTML page at {start}", file=sys.stderr)
        return 2
    report = match(result, policy)
    if args.json:
        print(json.dumps(report.to_json(), indent=2), file=out)
        return 0 if report.clean else 1
    accepted = "after Accept" if result.accepted else "no consent banner found"
    print(f"Scanned {len(report.pages)} page(s) of {report.site} ({accepted})", file=out)
    print(f"  third-party hosts: {len(report.hosts)}; cookies: {len(report.cookies)}", file=out)
    if report.clean:
        print("Everything found is declared in the policy.", file=out)
        return 0
    for url, found in report.per_page().items():
        print(f"{url}", file=out)
        for host in found["hosts"]:
            print(f"  undeclared host:   {host}", file=out)
        for cookie in found["cookies"]:
            print(f"  undeclared cookie: {cookie}", file=out)
    print("\nAdd to your policy (top level):\n", file=out)
    print(report.proposal_yaml(), file=out, end="")
    return 1


# --- demo ----------------------------------------------------------------------------------------


def load_example_app(example: Path) -> Any:
    spec = importlib.util.spec_from_file_location("consentkit_release_page_example", example / "app.py")
    if spec is None or spec.loader is None:  # pragma: no cover
        raise SystemExit(f"consentkit: cannot load {example / 'app.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.create_app()


def demo_app(policy: str | None = None, audit: str | None = None) -> tuple[Any, Path, Path]:
    """The release-page example behind ConsentMiddleware, with the development key."""
    example = _example_dir()
    policy_path = Path(policy) if policy else example / "consent.yaml"
    audit_path = Path(audit) if audit else Path("consentkit-demo-audit.jsonl")
    app = ConsentMiddleware(
        load_example_app(example), policy=policy_path, secret_keys=[DEMO_KEY], audit_path=audit_path.resolve()
    )
    return app, policy_path, audit_path.resolve()


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    try:
        import uvicorn  # noqa: PLC0415 - an optional dependency (the "demo" extra)
    except ImportError:
        print("consentkit: the demo needs uvicorn: pip install uvicorn", file=sys.stderr)
        return 1
    try:
        app, policy_path, audit_path = demo_app(args.policy, args.audit)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"consentkit demo: serving the release-page example at http://{args.host}:{args.port}/", file=out)
    print(f"  policy:    {policy_path}", file=out)
    print(f"  audit log: {audit_path}", file=out)
    print(
        "  signing consent cookies with a fixed DEVELOPMENT secret key: never use it in production", file=out
    )
    print(f"  read decisions back with: consentkit audit verify --keys {DEMO_KEY} {audit_path}", file=out)
    out.flush()
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


# --- audit ---------------------------------------------------------------------------------------

_KEYS_HOW = (
    "give the secret keys that signed the records (oldest first): --keys-file FILE (one key per line), "
    "or the CONSENTKIT_SECRET_KEYS environment variable (comma-separated); --keys K1,K2 also works "
    "but shows the keys to other users in `ps` and keeps them in your shell history"
)


def _key_list(args: argparse.Namespace) -> list[str] | None:
    """Keys from --keys, --keys-file or CONSENTKIT_SECRET_KEYS (in that order); None when none is given."""
    if getattr(args, "keys", None):
        return [k for k in args.keys.split(",") if k.strip()]
    if getattr(args, "keys_file", None):
        try:
            text = Path(args.keys_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise SystemExit(f"consentkit: cannot read {args.keys_file}: {exc.strerror or exc}") from None
        keys = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
        if not keys:
            raise SystemExit(f"consentkit: {args.keys_file} holds no key")
        return keys
    raw = os.environ.get("CONSENTKIT_SECRET_KEYS", "")
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    return keys or None


def _keys(args: argparse.Namespace) -> tuple[bytes, ...]:
    keys = _key_list(args)
    if keys is None:
        raise SystemExit(f"consentkit audit {args.audit_command}: no secret keys: {_KEYS_HOW}")
    try:
        return resolve_secret_keys(keys)
    except SecretKeyError as exc:
        raise SystemExit(f"consentkit: {exc}") from None


def _add_keys(parser: argparse.ArgumentParser, extra: str = "") -> None:
    parser.add_argument(
        "--keys-file", metavar="FILE", help="a file with the secret keys, one per line, oldest first" + extra
    )
    parser.add_argument(
        "--keys", help="secret keys, comma-separated, oldest first (visible in ps: prefer --keys-file)"
    )


class _Progress:
    """A progress bar on stderr for long files, shown only when stderr is a terminal."""

    def __init__(self, total: int, label: str) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.label = label
        self.shown = -1
        self.enabled = sys.stderr.isatty() and total > 8 * 1024 * 1024

    def __call__(self, size: int) -> None:
        self.done += size
        if not self.enabled:
            return
        percent = min(100, self.done * 100 // self.total)
        if percent != self.shown:
            self.shown = percent
            bar = "#" * (percent // 4)
            sys.stderr.write(f"\r{self.label} [{bar:<25}] {percent:3d}%")
            sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled and self.shown >= 0:
            sys.stderr.write("\r" + " " * (len(self.label) + 34) + "\r")
            sys.stderr.flush()


def _size(source: str) -> int:
    """Bytes to read from a file (0 for a database: no progress bar)."""
    return 0 if is_url(source) else Path(source).stat().st_size


def _first_record(source: str) -> dict[str, Any] | None:
    try:
        for line in open_store(source).lines():
            record = json.loads(line)
            return record if isinstance(record, dict) else None
    except ValueError:
        return None
    except Exception as exc:  # unreadable: verify says so, with the store's name
        if not store_failure(exc):
            raise
        return None
    return None


def _histories(sources: Sequence[str]) -> list[list[str]]:
    """Group sources into histories: a source whose chain continues the one before (a rotated
    file) joins it; one that starts a chain (record 1) begins a new one (e.g. another host)."""
    groups: list[list[str]] = []
    for source in sources:
        first = _first_record(source)
        continues = first is not None and isinstance(first.get("seq"), int) and first["seq"] > 1
        if groups and continues:
            groups[-1].append(source)
        else:
            groups.append([source])
    return groups


def _store_error(source: str, exc: Exception) -> str:
    return f"{shown(source)}: cannot open the audit store: {exc}"


def cmd_audit_verify(args: argparse.Namespace, out: TextIO) -> int:
    keys = _keys(args)
    missing = [s for s in args.files if not is_url(s) and not Path(s).is_file()]
    for name in missing:
        print(f"{name}: no such file", file=out)
    sources = [s for s in args.files if s not in missing]
    anchors: list[Anchor] = []
    try:
        anchors += [parse_head(head) for head in args.expect_head or ()]
    except ValueError as exc:
        print(f"consentkit: {exc}", file=sys.stderr)
        return 2
    status = 1 if missing else 0
    for name in args.checkpoints or ():
        try:
            found, bad = load_checkpoints(Path(name), keys)
        except OSError as exc:
            print(f"consentkit: cannot read {name}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        anchors += found
        for problem in bad:
            print(problem, file=out)
            status = 1
        print(f"{name}: {len(found)} signed checkpoint{'s' if len(found) != 1 else ''}", file=out)
    groups = _histories(sources)
    if anchors and len(groups) > 1:
        print(
            "consentkit: --expect-head and --checkpoints check one history; these sources hold "
            f"{len(groups)} ({'; '.join(', '.join(g) for g in groups)})",
            file=sys.stderr,
        )
        return 2
    for group in groups:
        name = " + ".join(shown(s) for s in group)
        progress = _Progress(sum(_size(s) for s in group), "verifying")
        report = verify_sources(group, keys, anchors=anchors, progress=progress)
        progress.finish()
        for where, problem in report.problems:
            print(f"{where}: {problem}", file=out)
        for note in report.notes:
            print(f"note: {note}", file=out)
        for span in report.keys:
            print(
                f"{name}: key {span.key_id} signed records {span.first_seq}-{span.last_seq} "
                f"({span.first_time} to {span.last_time})",
                file=out,
            )
        if anchors and report.ok:
            print(f"{name}: {report.anchors_checked} anchor(s) matched", file=out)
        if report.ok:
            print(f"{name}: OK, {report.records} records, head {report.head}", file=out)
        else:
            status = 1
            print(f"{name}: FAILED after {report.records} good records (head {report.head})", file=out)
        print(f"head: {report.head_token}", file=out)
    return status


def _day(text: str) -> date:
    """argparse type for --since/--until: a YYYY-MM-DD day (UTC)."""
    try:
        return parse_day(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _existing(names: Sequence[str]) -> list[str] | None:
    """The audit sources, each once, or None (after saying which) when a file does not exist."""
    missing = [name for name in names if not is_url(name) and not Path(name).is_file()]
    for name in missing:
        print(f"consentkit: {name}: no such file", file=sys.stderr)
    if missing:
        return None
    unique: dict[str, str] = {}
    for name in names:
        unique.setdefault(name if is_url(name) else str(Path(name).resolve()), name)
    return list(unique.values())


def _bad_period(args: argparse.Namespace) -> bool:
    if args.since and args.until and args.since > args.until:
        print(f"consentkit: --since {args.since} is after --until {args.until}", file=sys.stderr)
        return True
    return False


def _reading(sources: Sequence[str]) -> _Progress:
    return _Progress(sum(_size(s) for s in sources), "reading")


def _say_skipped(skipped: int) -> None:
    if skipped:
        print(
            f"consentkit: {skipped} unreadable line{'s' if skipped != 1 else ''} skipped "
            "(not consent records; `consentkit audit verify` checks integrity)",
            file=sys.stderr,
        )


def cmd_audit_summary(args: argparse.Namespace, out: TextIO) -> int:
    paths = _existing(args.files)
    if paths is None:
        return 1
    if _bad_period(args):
        return 2
    progress = _reading(paths)
    summary = summarize(paths, since=args.since, until=args.until, progress=progress)
    progress.finish()
    _say_skipped(summary.skipped)
    if args.json:
        print(json.dumps(summary.to_json(), indent=2), file=out)
    else:
        print(format_summary(summary), file=out)
    return 0


def cmd_audit_subject(args: argparse.Namespace, out: TextIO) -> int:
    paths = _existing(args.files)
    if paths is None:
        return 1
    progress = _reading(paths)
    found, skipped = receipts(paths, args.subject_id, progress)
    progress.finish()
    _say_skipped(skipped)
    if not found:
        print(
            f"consentkit: no records of subject {args.subject_id!r} in {', '.join(args.files)}",
            file=sys.stderr,
        )
        return 1
    print(json.dumps(found, indent=2), file=out)
    return 0


def cmd_audit_report(args: argparse.Namespace, out: TextIO) -> int:
    paths = _existing(args.files)
    if paths is None:
        return 1
    if _bad_period(args):
        return 2
    verified: list[VerifyReport] | None = None
    if _key_list(args) is not None:
        keys = _keys(args)
        verified = []
        for path in paths:
            progress = _Progress(_size(path), "verifying")
            verified.append(verify_sources([path], keys, progress=progress))
            progress.finish()
    progress = _reading(paths)
    summary = summarize(paths, since=args.since, until=args.until, progress=progress)
    progress.finish()
    _say_skipped(summary.skipped)
    page = render_html(summary, verified, generated=datetime.now(UTC))
    try:
        Path(args.output).write_text(page, encoding="utf-8")
    except OSError as exc:
        print(f"consentkit: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    state = "not verified" if verified is None else "verified"
    print(f"{args.output}: {summary.decisions} decisions from {len(paths)} source(s), {state}", file=out)
    failed = [r.path for r in verified or () if not r.ok]
    if failed:
        print(f"consentkit: verification FAILED for {', '.join(failed)} (see the report)", file=sys.stderr)
        return 1
    return 0


def cmd_audit_init(args: argparse.Namespace, out: TextIO) -> int:
    if not args.url.startswith(("sqlite:", "postgresql:", "postgres:")):
        print(
            "consentkit: audit init takes a database URL (sqlite:///FILE or postgresql://...)",
            file=sys.stderr,
        )
        return 2
    store = SqlStore(args.url)
    try:
        version = store.init()
    except Exception as exc:  # the database's own errors: unreachable, no permission...
        print(_store_error(store.describe(), exc), file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"{store.describe()}: audit schema version {version} ready", file=out)
    return 0


def cmd_audit_notice(args: argparse.Namespace, out: TextIO) -> int:
    if not re.fullmatch(r"[0-9a-f]{64}", args.hash):
        print(f"consentkit: {args.hash!r} is not a notice_hash (64 hex digits)", file=sys.stderr)
        return 2
    for source in args.store:
        try:
            text = open_store(source).notice(args.hash)
        except Exception as exc:
            print(_store_error(source, exc), file=sys.stderr)
            return 1
        if text is not None:
            if hashlib.sha256(text.encode("utf-8")).hexdigest() != args.hash:
                print(
                    f"consentkit: {source}: the stored text does not match its hash (edited)", file=sys.stderr
                )
                return 1
            out.write(text if text.endswith("\n") else text + "\n")
            return 0
    print(f"consentkit: no notice {args.hash} in {', '.join(args.store)}", file=sys.stderr)
    return 1


def cmd_audit_purge(args: argparse.Namespace, out: TextIO) -> int:
    before: str | None = None
    if args.before is not None:
        before = args.before.isoformat()
    elif args.policy is not None:
        try:
            policy = load_policy(args.policy)
        except PolicyError as exc:
            print(exc, file=sys.stderr)
            return 1
        if policy.audit.retention_days is None:
            print(f"consentkit: {args.policy} sets no audit.retention_days", file=sys.stderr)
            return 2
        before = (datetime.now(UTC).date() - timedelta(days=policy.audit.retention_days)).isoformat()
    if before is None and args.subject is None:
        print("consentkit: say what to purge: --before DATE, --subject ID or --policy FILE", file=sys.stderr)
        return 2
    subject = args.subject

    def matches(record: dict[str, Any]) -> bool:
        if before is not None and not str(record.get("time", "")) < before:
            return False
        return subject is None or record.get("subject_id") == subject

    total = 0
    for source in args.store:
        if not is_url(source) and not Path(source).is_file():
            print(f"consentkit: {source}: no such file", file=sys.stderr)
            return 1
        try:
            changed = open_store(source).purge(matches)
        except Exception as exc:
            print(_store_error(source, exc), file=sys.stderr)
            return 1
        total += changed
        print(f"{shown(source)}: personal data erased from {changed} record(s)", file=out)
    if subject is not None and not total:
        print(f"consentkit: no records of subject {subject!r} with personal data left", file=sys.stderr)
    return 0


# --- docs ----------------------------------------------------------------------------------------


def cmd_docs(args: argparse.Namespace, out: TextIO) -> int:
    root = docs_dir()
    if root is None:
        print("consentkit: the guides are not installed with this copy of consentkit", file=sys.stderr)
        return 1
    if args.name is None:
        if args.path:
            print(root, file=out)
            return 0
        for listed in guides(root).values():
            print(f"{listed.name:<24} {listed.title}", file=out)
        print(f"\nconsentkit docs NAME prints one; they are installed in {root}", file=out)
        return 0
    guide = find_guide(root, args.name)
    if guide is None:
        names = ", ".join(guides(root))
        print(f"consentkit: no guide named {args.name!r}; the guides are: {names}", file=sys.stderr)
        return 1
    print(guide.path if args.path else guide.path.read_text(encoding="utf-8").rstrip("\n"), file=out)
    return 0


# --- wiring --------------------------------------------------------------------------------------


class _Version(argparse.Action):
    """``--version`` on one line: argparse's own version action wraps it at the terminal's width,
    and the pure-Python scanner's reason is long."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        print(f"consentkit {__version__} ({scanner.describe()})")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="consentkit", description="Server-side cookie consent: policies, demo and audit trail."
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and the scanner in use")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser(
        "check",
        help="validate a policy and summarise it",
        description="Validate a consent policy and print its categories, services, languages and warnings.",
    )
    check.add_argument("policy", help="the YAML policy file")
    check.set_defaults(run=cmd_check)

    notice = commands.add_parser(
        "notice",
        help="print the banner and its notice_hash",
        description="Print each language's notice_hash (recorded with every decision); "
        "with --lang, also the exact banner markup the hash covers.",
    )
    notice.add_argument("policy", help="the YAML policy file")
    notice.add_argument("--lang", help="one language, to print its banner markup")
    notice.set_defaults(run=cmd_notice)

    services = commands.add_parser(
        "services",
        help="list the built-in service catalog, or show one service",
        description="List the services consentkit knows (name, suggested category, vendor). "
        "`consentkit services show NAME` prints one as YAML to paste under a category's services.",
    )
    services.add_argument("show", nargs="?", choices=["show"], help=argparse.SUPPRESS)
    services.add_argument("name", nargs="?", metavar="NAME", help="a service name, after show")
    services.set_defaults(run=cmd_services)

    scan = commands.add_parser(
        "scan",
        help="crawl a site and report hosts and cookies the policy does not declare",
        description="Crawl a site breadth-first after accepting consent, record every third-party host "
        "its tags would load and every cookie it sets, compare them with the policy and propose the "
        "services to add (catalog names where known). Exit 1 when anything is undeclared.",
    )
    scan.add_argument(
        "target", metavar="TARGET", help="an ASGI app (module:app) or an http://127.0.0.1:PORT URL"
    )
    scan.add_argument("--policy", help="the policy to check against (default: the app's ConsentMiddleware's)")
    scan.add_argument("--max-pages", type=int, default=20, metavar="N", help="pages to crawl (default: 20)")
    scan.add_argument("--factory", action="store_true", help="TARGET is a function that returns the app")
    scan.add_argument(
        "--browser",
        action="store_true",
        help="also run the pages in Chromium (Playwright) and record what scripts request and set; "
        "requests leaving the machine are answered by a local stub",
    )
    scan.add_argument("--json", action="store_true", help="print one JSON document")
    scan.set_defaults(run=cmd_scan)

    keygen = commands.add_parser(
        "keygen",
        help="print a new random secret key",
        description="Print a new random secret key for CONSENTKIT_SECRET_KEYS.",
    )
    keygen.set_defaults(run=cmd_keygen)

    demo = commands.add_parser(
        "demo",
        help="serve the release-page example",
        description="Serve the release-page example behind consentkit with uvicorn. It signs cookies with a "
        "fixed development key: never use it in production.",
    )
    demo.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    demo.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    demo.add_argument("--policy", help="a policy file to use instead of the example's consent.yaml")
    demo.add_argument("--audit", help="where to write the audit log (default: ./consentkit-demo-audit.jsonl)")
    demo.set_defaults(run=cmd_demo)

    docs = commands.add_parser(
        "docs",
        help="list the guides installed with consentkit, or print one",
        description="List the guides (policy, deployment, threat model, one per framework) installed with "
        "consentkit, or print one as Markdown, e.g. 'consentkit docs integrations/django'.",
    )
    docs.add_argument("name", nargs="?", metavar="NAME", help="e.g. deployment or integrations/django")
    docs.add_argument("--path", action="store_true", help="print where the guides (or one) are installed")
    docs.set_defaults(run=cmd_docs)

    audit = commands.add_parser(
        "audit",
        help="verify and query the audit trail",
        description="Verify and query consentkit audit stores: JSON-lines files, sqlite:///FILE or "
        "postgresql://USER@HOST/DB (wherever a FILE is asked for, a database URL works too).",
    )
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    store_help = "an audit file or database URL"
    verify = audit_commands.add_parser(
        "verify",
        help="check that the history is complete and untampered",
        description="Check every record's MAC and the chain between records, and say which key signed "
        "which records. Files that continue one another (rotation) are checked as one history, oldest "
        "first. The last line is `head: N:MAC`: keep it elsewhere and pass it to --expect-head later to "
        "detect a cut tail, a rollback or an emptied store. Exit 0 only when everything holds.",
    )
    verify.add_argument("files", nargs="+", metavar="FILE", help=store_help)
    _add_keys(verify)
    verify.add_argument(
        "--expect-head",
        action="append",
        metavar="HEAD",
        help="a head from an earlier run: the history must still hold it",
    )
    verify.add_argument(
        "--checkpoints",
        action="append",
        metavar="FILE",
        help="a log file with the signed checkpoints of the consentkit.audit logger (anchors)",
    )
    verify.set_defaults(run=cmd_audit_verify)

    period_help = "only decisions on or {} this day, YYYY-MM-DD (UTC)"
    summary = audit_commands.add_parser(
        "summary",
        help="count decisions per day, category, language, method and event",
        description="Count the decisions in one or more stores (merged, e.g. from several hosts): per day, "
        "per category with acceptance rates, per language, method and event. Lines that are not records "
        "are skipped and counted; this does not verify the records.",
    )
    summary.add_argument("files", nargs="+", metavar="FILE", help=store_help)
    summary.add_argument("--since", type=_day, metavar="DATE", help=period_help.format("after"))
    summary.add_argument("--until", type=_day, metavar="DATE", help=period_help.format("before"))
    summary.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    summary.set_defaults(run=cmd_audit_summary)

    subject = audit_commands.add_parser(
        "subject",
        help="print one subject's consent receipts (for an access request)",
        description="Print every record of one subject (the subject_id in the consent cookie) in time "
        "order as a JSON array of consent receipts, each with a readable summary. Exit 1 when there is none.",
    )
    subject.add_argument("files", nargs="+", metavar="FILE", help=store_help)
    subject.add_argument(
        "subject_id",
        metavar="SUBJECT_ID",
        help="an ID starting with '-' (earlier versions issued some) goes after '--': ... FILE -- -ID",
    )
    subject.set_defaults(run=cmd_audit_subject)

    report = audit_commands.add_parser(
        "report",
        help="write a self-contained HTML report",
        description="Write an HTML page with charts and tables of the decisions (no script, no external "
        "request). With secret keys the stores are verified too, and the exit status is 1 if one fails.",
    )
    report.add_argument("files", nargs="+", metavar="FILE", help=store_help)
    report.add_argument("-o", "--output", required=True, metavar="REPORT.html", help="the file to write")
    report.add_argument("--since", type=_day, metavar="DATE", help=period_help.format("after"))
    report.add_argument("--until", type=_day, metavar="DATE", help=period_help.format("before"))
    _add_keys(report, "; without keys the report says 'not verified'")
    report.set_defaults(run=cmd_audit_report)

    init = audit_commands.add_parser(
        "init",
        help="create the audit tables in a database",
        description="Create (or check) the audit schema in a database (also done on first use).",
    )
    init.add_argument("url", metavar="URL", help="sqlite:///FILE or postgresql://USER@HOST/DB")
    init.set_defaults(run=cmd_audit_init)

    notice_cmd = audit_commands.add_parser(
        "notice",
        help="print the notice a record's notice_hash names",
        description="Print the exact notice text (markup) a visitor was shown, as stored once in the audit "
        "store under its hash. Exit 1 when it is not there.",
    )
    notice_cmd.add_argument("store", nargs="+", metavar="FILE", help=store_help)
    notice_cmd.add_argument("hash", metavar="HASH", help="a record's notice_hash")
    notice_cmd.set_defaults(run=cmd_audit_notice)

    purge = audit_commands.add_parser(
        "purge",
        help="erase personal data (subject id, IP, user agent) from old or one subject's records",
        description="Erase the personal fields of matching records; everything else stays, and the history "
        "still verifies (the MAC covers a hash of the personal fields, not the fields).",
    )
    purge.add_argument("store", nargs="+", metavar="FILE", help=store_help)
    purge.add_argument("--before", type=_day, metavar="DATE", help="records made before this day (UTC)")
    purge.add_argument(
        "--subject",
        metavar="ID",
        help="records of this subject_id (an erasure request); write --subject=-ID for one starting with '-'",
    )
    purge.add_argument(
        "--policy", metavar="POLICY", help="records older than the policy's audit.retention_days"
    )
    purge.set_defaults(run=cmd_audit_purge)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of the ``consentkit`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.run(args, out or sys.stdout)
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        if args.command != "audit" or not store_failure(exc):
            raise
        print(f"consentkit: cannot read the audit store: {exc}", file=sys.stderr)  # libpq omits passwords
        return 1
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
