"""Which audit store a policy records to, decided once for the middleware and ``consentkit check``."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

from .audit import AuditLog
from .policy import Policy

__all__ = ["AuditStoreError", "audit_target", "build_audit_log", "check_writable"]

logger = logging.getLogger("consentkit")


class AuditStoreError(RuntimeError):
    """The audit store cannot be used: the middleware refuses to start rather than lose records."""


def audit_target(policy: Policy, audit_path: str | PathLike[str] | None = None) -> tuple[str | None, str]:
    """The store URL or file (None: the logger only) and the setting that chose it."""
    if audit_path is not None:
        return os.fspath(audit_path), "audit_path"
    return policy.audit_target()


def check_writable(target: str) -> None:
    """Refuse to start when an embedded store (file or SQLite) cannot be created where it should be."""
    if target.startswith(("postgresql:", "postgres:")):
        return
    raw = target
    if raw.startswith("sqlite:///"):
        raw = raw[len("sqlite:///") :]
    elif raw.startswith("file:"):
        raw = raw[len("file:") :]
    folder = Path(raw).parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise AuditStoreError(
            f"consentkit cannot record consent decisions: the audit store {target} cannot be created "
            f"in {folder} (missing or not writable). Set audit.url in the policy to a writable place "
            "(sqlite:///path/audit.db or postgresql://user@host/db) or CONSENTKIT_AUDIT_URL"
        )


def build_audit_log(
    policy: Policy, keys: Sequence[bytes], audit_path: str | PathLike[str] | None = None
) -> AuditLog:
    """The policy's :class:`AuditLog`; says where records go (a warning when it is the default)."""
    target, origin = audit_target(policy, audit_path)
    audit = policy.audit
    controller = (
        {"name": policy.controller.name, "contact": policy.controller.contact} if policy.controller else None
    )
    if target is not None and origin == "default":
        check_writable(target)
    log = AuditLog(
        url=target,
        keys=keys,
        fsync=audit.fsync,
        log=audit.log,
        ip_mode=audit.ip,
        controller=controller,
        valid_days=policy.cookie.max_age_days,
        checkpoint_seconds=audit.checkpoint_minutes * 60.0,
    )
    if origin == "default":
        logger.warning(
            "consentkit: no audit store configured (audit.url); recording consent decisions to %s",
            log.location,
        )
    else:
        logger.info("consentkit: recording consent decisions to %s (%s)", log.location, origin)
    return log
