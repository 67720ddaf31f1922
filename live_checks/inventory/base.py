"""What every service inventory shares: paginated reads, absent-vs-error, recorded errors, observations."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from core.model import EnvModel
from live_checks.aws import MAX_WORKERS, AwsSession, describe_error, in_threads

EXTRA = "(not-in-terraform)"  # address name of a deployed thing Terraform does not declare


@dataclass
class Observed:
    """A deployed resource in Terraform's shape, under the address the model gives it."""

    address: str
    values: dict[str, Any]
    refs: dict[str, str] = field(default_factory=dict)  # AWS id/ARN -> "${address...}"


def tags(pairs: Iterable[dict] | dict | None) -> dict[str, str]:
    """AWS tag list (Key/Value, any case) or map -> dict, without AWS's own aws:* tags."""
    if isinstance(pairs, dict):
        items = pairs.items()
    else:
        items = ((p.get("Key", p.get("key")), p.get("Value", p.get("value"))) for p in pairs or ())
    return {k: v for k, v in items if not str(k).startswith("aws:")}


def ref(address: str, attribute: str = "") -> str:
    return "${" + address + (f".{attribute}" if attribute else "") + "}"


def indexed(address: str, i: int) -> str:
    """aws_instance.blue[0] -> aws_instance.blue[i]."""
    return re.sub(r"\[\d+\]$", f"[{i}]", address) if address.endswith("]") else f"{address}{EXTRA}[{i}]"


class Inventory:
    """One AWS service in one region, read once per run. Errors are recorded, never swallowed."""

    service = ""

    def __init__(self, aws: AwsSession, region: str, wanted: dict[str, set[str]]):
        self.region = region
        self.client = aws.client(self.service, region)
        self.wanted = wanted  # Terraform type -> identifiers every environment's model declares
        self.errors: list[str] = []

    def load(self) -> None:
        try:
            self.fetch()
        except Exception as err:  # noqa: BLE001 - any failure is recorded and turns the checks into ERROR
            self.errors.append(f"{self.service} ({self.region}): {describe_error(err)}")

    def fetch(self) -> None:
        raise NotImplementedError

    def observe(self, model: EnvModel) -> list[Observed]:
        return []

    def labels(self) -> dict[str, str]:
        """Readable names for AWS ids Terraform does not manage (sg-123 -> sg:name)."""
        return {}

    # ---------------------------------------------------------------- helpers

    def pages(self, operation: str, key: str, **params) -> Iterator[Any]:
        for page in self.client.get_paginator(operation).paginate(**params):
            yield from page.get(key, [])

    def call(self, operation: str, absent: tuple[str, ...] = (), **params) -> dict | None:
        """One call; None when AWS answers with one of the ``absent`` codes (not configured), else raise."""
        try:
            return getattr(self.client, operation)(**params)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in absent:
                return None
            raise

    @staticmethod
    def each(function, items: Iterable) -> list:
        """Per-resource calls with bounded concurrency; the first failure is raised (and recorded by load)."""
        items = list(items)
        if len(items) <= 1:
            return [function(i) for i in items]
        results = in_threads(function, items, MAX_WORKERS)
        for r in results:
            if isinstance(r, BaseException):
                raise r
        return results
