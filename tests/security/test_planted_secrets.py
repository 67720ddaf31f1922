"""Redaction by taint: a secret planted through every path a value can take never leaves the run.

The real gate runs in a subprocess on a copy of terraform/ in which each path of ``planting.PATHS`` carries its
own secret per environment; stdout, stderr and every file written (reports, junit.xml) are searched for each
secret and its obvious derivations (base64, sha1/sha256 hex). The differences between the environments' secrets
must still be reported, as "differs (values hidden)".
"""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import redact
from core.contract import load_contract
from core.model import load
from core.sources import files as source_files
from parity.engine import Comparison
from reports import html, json_report, markdown, sarif
from reports.results import RunInfo
from tests.helpers import run_pytest
from tests.security.planting import PATHS, all_secrets, plant

# Where each path's difference must still be reported (resource.attribute as the finding names it).
REPORTED = {
    "var_file": "aws_sns_topic.planted.tags.Check",
    "local_password": "aws_db_instance.main.password",
    "sensitive_output": "output.db_url.value",
    "jsonencode": "aws_iam_policy.planted.policy",
    "heredoc": "aws_instance.blue[0].user_data",
    "conditional": "aws_ssm_parameter.planted.value",
    "tf_json": "aws_ssm_parameter.planted_json.value",
    "outside_var_file": "aws_sns_topic.planted_outside.tags.Sha256",
}


def written_text(root: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(root.rglob("*")) if p.is_file())


def assert_nothing_leaks(text: str, secrets: dict[str, str]) -> None:
    leaked = sorted(name for name, form in secrets.items() if form in text)
    assert not leaked, f"secrets leaked: {leaked}"


@pytest.mark.slow
def test_planted_secrets_never_leave_the_gate(tmp_path):
    assert len(PATHS) >= 8
    tf, contract = plant(tmp_path, list(PATHS))
    reports = tmp_path / "reports"
    result = run_pytest("parity", "policies", "-m", "not live", "--tf-dir", str(tf), "--contract", str(contract),
                        "--report-dir", str(reports), "-vv")
    assert result.returncode == 1, result.output  # findings, not a crash
    assert (reports / "summary.md").is_file() and (reports / "junit.xml").is_file()
    secrets = all_secrets(list(PATHS))
    assert_nothing_leaks(result.output, secrets)
    assert_nothing_leaks(written_text(reports), secrets)
    for path, where in REPORTED.items():  # every difference is still reported, with its values hidden
        assert f"staging~production {where} differs (values hidden)" in result.output, (path, where)
    report = (reports / "parity.json").read_text()
    assert '"attribute": "password"' in report and redact.SENSITIVE in report


def _render_everything(findings) -> str:
    run = RunInfo(started="2026-01-01T00:00:00+00:00", finished="2026-01-01T00:00:01+00:00", exitstatus=1)
    rows, envs = [], ["staging", "production"]
    return "\n".join([*(f.one_line() for f in findings), json_report.json.dumps(
        json_report.build(findings, rows, envs, run), default=str), markdown.render(findings, rows, envs, run),
        html.render(findings, rows, envs, run, None), str(sarif.build(findings, ""))])


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paths=st.lists(st.sampled_from(sorted(PATHS)), min_size=1, max_size=4, unique=True),
       salt=st.text(alphabet="ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789", min_size=6, max_size=14))
def test_any_combination_of_paths_is_redacted_and_still_compared(tmp_path_factory, paths, salt):
    """In process: the models the session builds hold no planted secret, every finding rendered by every writer
    shows none, and each planted difference between environments is still found."""
    tmp = tmp_path_factory.mktemp("planted")
    tf, contract_path = plant(tmp, paths, salt)
    c = load_contract(contract_path, tf)
    literals = redact.files_secrets(source_files(tf, c.environments.values()))
    models = {n: redact.redact_model(load(tf, e), literals) for n, e in c.environments.items()}
    comparison = Comparison.build(c, models)
    findings = [f for row in [*c.rows, None] for f in comparison.findings_for(row.id if row else None)]
    secrets = all_secrets(paths, salt)
    assert_nothing_leaks(repr(models), secrets)
    assert_nothing_leaks(_render_everything(findings), secrets)
    shown = {f"{f.resource}.{f.attribute}" for f in findings if "values hidden" in f.one_line()}
    for path in paths:
        assert REPORTED[path] in shown, (path, sorted(shown))


def _lost_markers(value, path=""):
    """Paths of plain strings holding the marker: a secret that lost its identity (it would compare equal)."""
    if isinstance(value, str) and redact.SENSITIVE in value and not isinstance(value, redact.Secret):
        yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _lost_markers(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _lost_markers(v, f"{path}[{i}]")


def test_no_secret_loses_its_identity_in_the_model(tmp_path):
    """Every evaluation step (tfparse, the values pass, modules) keeps Secret values: a plain copy of the marker
    (re.sub over a Secret gives one) would make two environments' different secrets compare equal."""
    tf, contract_path = plant(tmp_path, list(PATHS))
    c = load_contract(contract_path, tf)
    for env in c.environments.values():
        m = load(tf, env)
        lost = [a + p for a, r in m.resources.items() for p in _lost_markers(dict(r.values))]
        lost += [f"output.{n}{p}" for n, o in m.outputs.items() for p in _lost_markers(o.value)]
        lost += [f"var.{n}{p}" for n, v in m.variables.items() for p in _lost_markers(v.value)]
        assert lost == [], (env.name, lost)
        assert isinstance(m.resources["aws_sns_topic.planted"].values["tags"]["Check"], redact.Secret)
