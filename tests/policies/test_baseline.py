"""The baseline: every skip justified per check, environment and resource; invalid or stale entries fail."""

import textwrap

import pytest

from core.findings import Status
from policies import baseline, checkov_run
from tests.policies.conftest import checkov_findings

ENVS = ["staging", "production"]


def load(tmp_path, text):
    path = tmp_path / "baseline.yaml"
    path.write_text(textwrap.dedent(text))
    return baseline.load(path, ENVS)


def test_bundled_baseline_is_valid_and_explains_every_builtin_failure(checkov_batch):
    skips, problems = baseline.load(baseline.BASELINE, ENVS)
    assert not problems, [p.message for p in problems]
    for env in ENVS:
        failed = [f for f in checkov_findings(checkov_batch, f"bundled:{env}")
                  if f.status == Status.FAIL and not f.check.startswith("CKV_CD_")]
        unexplained = [f.one_line() for f in failed if not any(s.covers(f.check, env, f.resource) for s in skips)]
        assert not unexplained
    scan = checkov_batch["bundled:staging"][0]
    failing = {(r.check, r.env.split(":")[-1], r.address) for r in scan.results
               if not r.passed and r.env.startswith("bundled:")}
    seen = {r.check for r in scan.results}
    assert baseline.stale(skips, failing, seen, ENVS) == []


def test_no_entry_is_a_pending_fix():
    """The fixes the baseline once waited for have landed: no entry may stand in for a fix."""
    skips, _ = baseline.load(baseline.BASELINE, ENVS)
    assert {s.check for s in skips if s.reason.startswith("TODO")} == set()


@pytest.mark.parametrize(("entry", "message"), [
    ("- {check: CKV_AWS_157, resources: [aws_db_instance.main], staging: }", "needs a written reason"),
    ("- {check: CKV_AWS_157, resources: [aws_db_instance.main], staging: n/a}", "needs a written reason"),
    ("- {check: CKV_AWS_157, resources: [aws_db_instance.main]}", "give a reason per environment"),
    ("- {check: CKV_AWS_157, resources: [aws_db_instance.main], qa: single-AZ by design of the cost table}",
     "unknown environment 'qa'"),
    ("- {check: CKV_AWS_157, staging: single-AZ by design of the cost table}", "list the resources"),
    ("- {check: CKV_CD_3, resources: [aws_db_instance.main], staging: our own policy cannot be skipped}",
     "one of our own policies"),
    ("- {check: not-a-check, resources: [x], staging: a reason that is long enough}", "not a checkov check id"),
])
def test_invalid_entry_fails_with_its_line(tmp_path, entry, message):
    valid = "- {check: CKV_AWS_2, resources: [a.b], staging: a fine reason written here}"
    skips, problems = load(tmp_path, f"skips:\n  {valid}\n  {entry}\n")
    assert len(skips) == 1
    assert [(p.check, p.status, p.line) for p in problems] == [("baseline", Status.FAIL, 3)]
    assert message in problems[0].message and problems[0].file.endswith("baseline.yaml")


def test_malformed_and_duplicate(tmp_path):
    assert "malformed YAML" in load(tmp_path, "skips: [\n")[1][0].message
    _, problems = load(tmp_path, """\
        skips:
          - {check: CKV_AWS_2, resources: [a.b], staging: first reason long enough}
          - {check: CKV_AWS_2, resources: [a.c], staging: second reason long enough}
        """)
    assert [p.line for p in problems] == [3] and "listed twice" in problems[0].message


def test_stale_entries(tmp_path):
    skips, _ = load(tmp_path, """\
        skips:
          - {check: CKV_AWS_157, resources: [aws_db_instance.main], staging: single-AZ by design of the cost table}
          - {check: CKV_AWS_88, resources: ["aws_instance.*", aws_instance.gone], production: no NAT gateway design}
          - {check: CKV_AWS_99999, resources: [aws_vpc.main], staging: a check that checkov never had}
        """)
    failed = {("CKV_AWS_88", "production", "aws_instance.blue[0]")}
    seen = {"CKV_AWS_157", "CKV_AWS_88"}
    problems = baseline.stale(skips, failed, seen, ENVS, exists=lambda check: check != "CKV_AWS_99999")
    assert [(p.line, p.env) for p in problems] == [(2, "staging"), (3, "production"), (4, "staging")]
    assert "does not fail on aws_db_instance.main in staging any more" in problems[0].message
    assert "aws_instance.gone" in problems[1].message
    assert "no longer exists in checkov" in problems[2].message
    assert baseline.stale(skips, failed, seen, ["production"])[0].line == 3  # only the environments checked


def test_skip_matches_addresses_with_star():
    skip = baseline.Skip("CKV_AWS_378", "production", ('aws_lb_target_group.app[*]',), "reason", 1)
    assert skip.covers("CKV_AWS_378", "production", 'aws_lb_target_group.app["green"]')
    assert not skip.covers("CKV_AWS_378", "staging", 'aws_lb_target_group.app["green"]')
    assert not skip.covers("CKV_AWS_378", "production", "aws_lb_target_group.other")


def test_checkov_lists_its_check_ids():
    """Whether an id still exists is asked to checkov itself (`checkov --list`)."""
    ids = checkov_run.list_check_ids()
    assert ids and "CKV_AWS_157" in ids and "CKV2_AWS_12" in ids and "CKV_AWS_99999" not in ids
