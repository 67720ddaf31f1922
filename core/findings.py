"""One finding type for every check: parity rows, policies, live checks. Every writer reads only these."""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass
from typing import Any


class Status(enum.StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"  # a static check failed (parity row, policy)
    DRIFT = "drift"  # deployed reality differs from what is expected
    ERROR = "error"  # the check could not decide (AccessDenied, throttling, bad input): never a pass
    UNKNOWN = "unknown"  # the value is only known after apply: not a pass either
    MUTED = "muted"  # a failure accepted by a written, reasoned exception (policies/baseline.yaml)

    @property
    def ok(self) -> bool:
        """Does this status let the gate pass?"""
        return self in (Status.PASS, Status.MUTED)


@dataclass(frozen=True)
class Finding:
    check: str  # contract row id ("Security Groups"), policy id ("CKV_CD_3"), live check id
    kind: str  # "parity" | "document" | "contract" | "policy" | "secret" | "cost" | "live"
    status: Status
    env: str  # environment name, or "staging~production" for a comparison
    resource: str = ""  # Terraform address or AWS ARN/id
    attribute: str = ""  # attribute path inside the resource, e.g. "ingress[1].from_port"
    expected: Any = None
    actual: Any = None
    file: str = ""  # path relative to the repository root where known
    line: int = 0
    message: str = ""

    @property
    def location(self) -> str:
        if not self.file:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status.value
        d["location"] = self.location
        return d

    def one_line(self) -> str:
        parts = [f"[{self.check}]", self.env]
        if self.resource:
            parts.append(self.resource + (f".{self.attribute}" if self.attribute else ""))
        if "~" in self.env:  # a comparison "staging~production": name both sides
            other, reference = self.env.split("~", 1)
            parts.append(f"{reference}: {_short(self.expected)}, {other}: {_short(self.actual)}")
        elif self.expected is not None or self.actual is not None:
            parts.append(f"expected {_short(self.expected)}, actual {_short(self.actual)}")
        if self.location:
            parts.append(f"at {self.location}")
        if self.message:
            parts.append(f"({self.message})")
        return " ".join(parts)


def _short(value: Any, limit: int = 120) -> str:
    if isinstance(value, str) and "\n" in value.strip():  # its differing lines are in the message
        return f"({len(value.splitlines())} lines)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class CheckFailed(AssertionError):
    """Raised by a test when its check has failing findings; shown by pytest as a small table."""

    def __init__(self, title: str, findings: list[Finding]):
        self.title = title
        self.findings = findings
        super().__init__(self.render())

    def render(self) -> str:
        lines = [f"{self.title}: {len(self.findings)} finding(s)"]
        for f in self.findings:
            lines.append("  - " + f.one_line())
        return "\n".join(lines)
