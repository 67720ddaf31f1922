"""junit.xml: a test that failed because a tool could not decide (checkov missing, AccessDenied, throttling, a
crash) is a JUnit ``<error>``, not a ``<failure>``: CI views then tell "the code is wrong" from "the check could
not run". pytest writes the file; this rewrites those test cases in place at the end of the run."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from _pytest.junitxml import mangle_test_address


def _key(nodeid: str) -> tuple[str, str]:
    names = mangle_test_address(nodeid)
    return ".".join(names[:-1]), names[-1]


def mark_errors(path: Path, nodeids: Iterable[str]) -> int:
    """Turn the ``<failure>`` of each test in ``nodeids`` into an ``<error>``; returns how many were changed."""
    wanted = {_key(n) for n in nodeids}
    if not wanted or not path.is_file():
        return 0
    tree = ET.parse(path)  # noqa: S314 - see the import
    changed = 0
    for suite in tree.getroot().iter("testsuite"):
        moved = 0
        for case in suite.iter("testcase"):
            if (case.get("classname", ""), case.get("name", "")) not in wanted:
                continue
            for failure in case.findall("failure"):
                failure.tag = "error"
                moved += 1
        if moved:
            suite.set("failures", str(max(0, int(suite.get("failures", "0")) - moved)))
            suite.set("errors", str(int(suite.get("errors", "0")) + moved))
            changed += moved
    if changed:
        tree.write(path, encoding="utf-8", xml_declaration=True)
    return changed
