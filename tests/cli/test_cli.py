"""The `codedetect-suite` command: exit codes, the list of checks, usage errors, and the root cause first."""

from __future__ import annotations

import json

import pytest

from core import cli
from policies import catalog
from tests.helpers import CONTRACT, DOCS, TF_DIR, copy_tf, mutate

GATE = ["gate", "--tf-dir", str(TF_DIR), "--contract", str(CONTRACT), "--docs", str(DOCS)]


def run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"codedetect-suite {cli.__version__}"


def test_list_checks_names_every_check_with_why(capsys, monkeypatch):
    monkeypatch.chdir(TF_DIR.parent)  # the checkout's contract and document are found by default
    code, out, _ = run(capsys, "--list-checks")
    assert code == 0
    lines = out.splitlines()
    ids = [line.split("  ", 1)[0].strip() for line in lines]
    from core.contract import load_contract

    expected = [r.id for r in load_contract(CONTRACT).rows] + catalog.all_ids() + [
        "unclaimed", "document rows", "CKV_AWS_*", "live:ec2", "live:rds", "live:unmanaged", "live:parity"]
    assert set(expected) <= set(ids), set(expected) - set(ids)
    for line in lines:
        assert "(why: " in line and not line.endswith("(why: )"), line
    assert any(line.startswith("Deletion Protection") and "DO NOT DESTROY PRODUCTION" in line for line in lines)


def test_usage_errors_exit_2_with_one_line(capsys, tmp_path):
    code, _, err = run(capsys, "gate", "--tf-dir", str(tmp_path), "--contract", str(CONTRACT))
    assert code == 2 and err.strip() == f"codedetect-suite: error: {tmp_path}: no Terraform files here; pass the " \
                                        "root module with --tf-dir DIR"
    code, _, err = run(capsys, "gate", "--tf-dir", str(TF_DIR), "--contract", str(tmp_path / "nope.yaml"))
    assert code == 2 and "nope.yaml: contract file does not exist" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "show", "--tf-dir", str(TF_DIR), "--contract", str(CONTRACT), "--env", "qa")
    assert code == 2 and "unknown environment 'qa'" in err
    code, _, err = run(capsys, "gate", "stray")
    assert code == 2 and "put pytest's after --" in err
    code, _, err = run(capsys)
    assert code == 2 and "a command is required" in err
    with pytest.raises(SystemExit) as exit_:
        cli.main(["gate", "--no-such-option"])
    assert exit_.value.code == 2


@pytest.mark.slow
def test_pytest_usage_error_and_no_tests_exit_2(capsys, tmp_path):
    code, out, _ = run(capsys, *GATE, "--env", "qa", "--report-dir", str(tmp_path / "a"))
    assert code == 2, out
    code, out, _ = run(capsys, *GATE, "--report-dir", str(tmp_path / "b"), "--", "-k", "no_test_has_this_name")
    assert code == 2, out


@pytest.mark.slow
def test_findings_exit_1_root_cause_first(capsys, tmp_path):
    tf = copy_tf(tmp_path)
    mutate(tf / "staging.tfvars", 'enable_ssl     = false', 'enable_ssl     = false\ninstance_type  = "t3.small"')
    out_dir = tmp_path / "out"
    code, out, _ = run(capsys, "gate", "--tf-dir", str(tf), "--contract", str(CONTRACT), "--docs", str(DOCS),
                       "--report-dir", str(out_dir), "--", "-k", "Instance and not document")
    assert code == 1, out
    summary = out.split("root cause first:\n", 1)[1].splitlines()
    assert summary[0].startswith("FAIL    [Instance Type] staging~production var.instance_type.value production: "
                                 "t3.micro, staging: t3.small at "), summary
    assert summary[0].split(" at ", 1)[1].startswith(str(tf / "staging.tfvars").lstrip("/")[-30:]) or \
        "staging.tfvars:5" in summary[0]
    assert any("aws_instance.blue[0].instance_type" in line and "compute.tf:" in line for line in summary[1:])
    assert summary[-1].startswith("codedetect-suite: FAIL (exit 1); reports in ")
    assert json.loads((out_dir / "parity.json").read_text())["status"] == "fail"


@pytest.mark.slow
def test_checkov_missing_is_a_tool_error(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("CODEDETECT_CHECKOV", str(tmp_path / "no-checkov"))
    code, out, err = run(capsys, *GATE, "--report-dir", str(tmp_path / "out"), "--", "-k", "test_builtin")
    assert code == 2, out
    assert "codedetect-suite: ERROR: checkov not found: set CODEDETECT_CHECKOV" in err
    assert "ERROR   [checkov]" in out and "cannot start checkov" in out
    assert "codedetect-suite: ERROR (exit 2)" in out


def test_init_command_writes_a_contract(capsys, tmp_path):
    out = tmp_path / "contract.yaml"
    code, text, _ = run(capsys, "init", "--tf-dir", str(TF_DIR), "--docs", str(DOCS), "--output", str(out))
    assert code == 0 and out.is_file()
    listed = [line for line in out.read_text().splitlines() if line.startswith("#   unclaimed: ")]
    assert f"{len(listed)} difference(s) unclaimed" in text
    # every difference terraform/ has between its environments is listed, the unknown instance set included
    for expected in ("var.enable_ssl.value", "aws_lb_listener.https[0] exists only in production",
                     "aws_route53_record.cert_validation[*] exists only in production",
                     "aws_db_instance.main.deletion_protection"):
        assert any(expected in line for line in listed), (expected, listed)
    code, _, err = run(capsys, "init", "--tf-dir", str(TF_DIR), "--docs", str(DOCS), "--output", str(out))
    assert code == 2 and "file exists; pass another --output, or --force" in err


@pytest.mark.slow
def test_plain_pytest_prints_the_failing_summary_first_root_cause_first(tmp_path):
    from tests.helpers import run_pytest

    tf = copy_tf(tmp_path)
    mutate(tf / "staging.tfvars", 'enable_ssl     = false', 'enable_ssl     = false\ninstance_type  = "t3.small"')
    result = run_pytest("parity", "--tf-dir", str(tf), "-q", "-k", "Instance")
    assert result.returncode == 1, result.output
    summary = result.output.index("failing findings, root cause first")
    assert summary < result.output.index("= FAILURES =")
    first = result.output[summary:].splitlines()[1]
    assert first.startswith("FAIL    [Instance Type] staging~production var.instance_type.value") and \
        "staging.tfvars:5" in first


def test_live_without_credentials_is_never_a_pass(capsys, tmp_path, monkeypatch):
    for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    live = ["live", *GATE[1:], "--report-dir", str(tmp_path / "out")]
    code, out, _ = run(capsys, *live)
    assert code == 2, out
    assert "ERROR   nothing was checked: every test was skipped (live checks: no AWS credentials" in out
    code, out, _ = run(capsys, *live, "--require-live")
    assert code == 2 and "--require-live: no AWS credentials" in out, out


def _report(tmp_path, *findings, status="fail"):
    (tmp_path / "parity.json").write_text(json.dumps({"status": status, "findings": [
        {"check": c, "kind": "parity", "status": s, "env": "staging", "file": f, "line": 3} for c, s, f in findings]}))


def test_exit_codes_from_a_finished_run(tmp_path):
    _report(tmp_path, ("Instance Type", "fail", "terraform/compute.tf"), ("RDS", "fail", "terraform/staging.tfvars"))
    code, lines = cli.summarise(tmp_path, 1)
    assert code == 1 and lines[0].startswith("FAIL    [RDS] staging at terraform/staging.tfvars:3")
    _report(tmp_path, ("checkov", "error", ""), ("Instance Type", "fail", "terraform/compute.tf"))
    assert cli.summarise(tmp_path, 1)[0] == 2  # an incomplete run is a tool error, even with findings
    _report(tmp_path, ("collection", "error", "parity/test_parity.py"))
    code, lines = cli.summarise(tmp_path, 2)  # pytest: interrupted by collection errors
    assert code == 2 and lines == ["ERROR   [collection] staging at parity/test_parity.py:3"]
    assert cli.summarise(tmp_path, 5) == (2, ["ERROR   no test was collected (check -k, -m and --env)"])
    _report(tmp_path, status="pass")
    assert cli.summarise(tmp_path, 0) == (0, [])
    code, lines = cli.summarise(tmp_path, 0, started=(tmp_path / "parity.json").stat().st_mtime + 60)
    assert code == 2 and "was not written by this run" in lines[0]  # a previous run's report is not read
    assert cli.summarise(tmp_path / "missing", 4) == (2, [])  # pytest printed the usage error itself


@pytest.mark.parametrize(("given", "expected"), [((), "fast"), (("--evaluator", "terraform"), "terraform"),
                                               (("--evaluator", "auto"), "auto")])
def test_the_command_passes_the_evaluator_to_the_gate(given, expected):
    args = cli.parser().parse_args(["gate", "--tf-dir", str(TF_DIR), "--contract", str(CONTRACT), *given])
    argv = cli.pytest_args("gate", args)
    assert argv[argv.index("--evaluator") + 1] == expected


def test_an_unknown_evaluator_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["gate", "--evaluator", "tfparse"])
    assert exit_.value.code == 2 and "invalid choice: 'tfparse'" in capsys.readouterr().err
