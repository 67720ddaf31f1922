"""The curated baseline: checkov built-ins that fail by design, per check, environment and resource, with reasons.

Every other built-in that fails, fails the gate. An entry fails the gate itself when it has no reason, names an
unknown environment, names none of the resources it excuses, excuses one of our own CKV_CD_* policies, or is stale
(the check no longer fails there, or no longer exists in checkov): a baseline must not outlive its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from core.contract import LineLoader, glob_match
from core.findings import Finding, Status
from policies.common import ROOT, repo_path

BASELINE = ROOT / "policies" / "baseline.yaml"
MIN_REASON = 20  # characters: a reason a reviewer can check, not "n/a"
_ENTRY_KEYS = {"check", "name", "resources", "__line__"}


@dataclass(frozen=True)
class Skip:
    check: str
    env: str
    resources: tuple[str, ...]  # addresses; `*` matches any characters
    reason: str
    line: int

    def covers(self, check: str, env: str, address: str) -> bool:
        return check == self.check and env == self.env and any(glob_match(address, p) for p in self.resources)


def _problem(path: Path, line: int, message: str, env: str = "") -> Finding:
    return Finding(check="baseline", kind="policy", status=Status.FAIL, env=env, file=repo_path(path), line=line,
                   expected="a justified, current baseline entry", actual="invalid", message=message)


def load(path: Path, envs: list[str]) -> tuple[list[Skip], list[Finding]]:
    """The valid skips, and a finding for every invalid entry (which then excuses nothing)."""
    try:
        doc = yaml.load(path.read_text(), Loader=LineLoader)  # noqa: S506 - a SafeLoader subclass
    except OSError:
        return [], [_problem(path, 0, "baseline file does not exist")]
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        return [], [_problem(path, mark.line + 1 if mark else 0, f"malformed YAML: {getattr(err, 'problem', err)}")]
    entries = (doc or {}).get("skips") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        return [], [_problem(path, 1, "the baseline needs a list `skips:`")]
    skips, problems, seen = [], [], set()
    for entry in entries:
        if not isinstance(entry, dict):
            problems.append(_problem(path, 0, f"entry {entry!r} is not a mapping"))
            continue
        line, check = entry["__line__"], entry.get("check")
        resources = entry.get("resources")
        if not isinstance(check, str) or not re.fullmatch(r"CKV2?_[A-Z0-9]+_\d+", check):
            problems.append(_problem(path, line, f"check {check!r} is not a checkov check id"))
            continue
        if check.startswith("CKV_CD_"):
            problems.append(_problem(path, line, f"{check} is one of our own policies: fix the Terraform instead"))
            continue
        if not isinstance(resources, list) or not resources or not all(isinstance(r, str) and r for r in resources):
            problems.append(_problem(path, line, f"{check}: list the resources it excuses under `resources:`"))
            continue
        env_keys = [k for k in entry if k not in _ENTRY_KEYS]
        if not env_keys:
            problems.append(_problem(path, line, f"{check}: give a reason per environment (e.g. `staging: ...`)"))
        for env in env_keys:
            reason = entry[env]
            if env not in envs:
                problems.append(_problem(path, line, f"{check}: unknown environment {env!r} (the contract declares "
                                         f"{', '.join(envs)})"))
            elif not isinstance(reason, str) or len(reason.strip()) < MIN_REASON:
                problems.append(_problem(path, line, f"{check} in {env}: a skip needs a written reason "
                                         f"(at least {MIN_REASON} characters)", env))
            elif (check, env) in seen:
                problems.append(_problem(path, line, f"{check} in {env} is listed twice", env))
            else:
                seen.add((check, env))
                skips.append(Skip(check, env, tuple(resources), " ".join(reason.split()), line))
    return skips, problems


def stale(skips: list[Skip], failed: set[tuple[str, str, str]], seen_checks: set[str], envs: list[str],
          exists=None, path: Path = BASELINE) -> list[Finding]:
    """Entries (or resource patterns) that excuse no failing result of the run in their environment.

    ``failed``: (check, env, address) of failing built-in results; ``seen_checks``: every check id in the results;
    ``exists(check) -> bool | None`` asks checkov whether an unseen id still exists (None: could not tell).
    """
    out = []
    for skip in skips:
        if skip.env not in envs:
            continue
        for pattern in skip.resources:
            if any(c == skip.check and e == skip.env and glob_match(a, pattern) for c, e, a in failed):
                continue
            if skip.check in seen_checks:
                why = f"{skip.check} does not fail on {pattern} in {skip.env} any more: delete this entry"
            else:
                known = exists(skip.check) if exists else None
                why = (f"{skip.check} no longer exists in checkov: delete this entry" if known is False else
                       f"{skip.check} did not run on {pattern} in {skip.env} (no such resource, or the check is "
                       "gone): delete this entry")
            out.append(_problem(path, skip.line, why, skip.env))
    return out
