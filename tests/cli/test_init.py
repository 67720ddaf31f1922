"""`init`: a starting contract from a Terraform directory and its environments document."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from core.contract import load_contract
from core.errors import SuiteError
from parity import init
from parity.document import read_tables
from tests.helpers import CONTRACT, DOCS, TF_DIR, copy_tf, mutate, run_pytest


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("init") / "contract.yaml"
    init.write(TF_DIR, DOCS, out)
    return out


def test_the_contract_loads_with_the_documents_environments_and_rows(written):
    c = load_contract(written, TF_DIR)
    assert c.reference == "production"
    assert {n: (e.workspace, e.var_files) for n, e in c.environments.items()} == {
        "staging": ("staging", ("staging.tfvars",)), "production": ("default", ())}
    doc = read_tables(DOCS, list(c.environments))
    assert [(r.table, r.id) for r in c.rows] == [(d.table, d.component) for d in doc]
    different = {r.id: r for r in c.rows if r.table == "different"}
    assert different["S3 Bucket"].values == {"staging": "codedetect-staging-uploads-2025",
                                             "production": "codedetect-prod-uploads-2025"}
    assert not any(r.allow for r in c.rows)  # init allows nothing: a person decides


def test_rows_select_what_their_words_name(written):
    rows = {r.id: r for r in load_contract(written, TF_DIR).rows}
    assert next((s.address, s.attributes) for s in rows["RDS Instance"].select) == ("aws_db_instance.*",
                                                                                   ("instance_class",))
    assert "aws_security_group.*" in {s.address for s in rows["Security Groups"].select}
    assert next((s.address, s.attributes) for s in rows["ALB Health Checks"].select) == ("aws_lb_target_group.*",
                                                                                        ("health_check",))


def test_names_carrying_the_environment_are_found(written):
    # what the hand-written contract normalises, found from the code alone
    found = load_contract(written, TF_DIR)
    assert dict(found.normalise["staging"]) == {"codedetect-staging-uploads-2025": "codedetect-prod-uploads-2025",
                                               "STAGING": "PROD", "staging": "production"}
    hand = load_contract(CONTRACT, TF_DIR).normaliser("staging")
    for value in ("codedetect-staging-uploads-2025", "[STAGING] codedetect-staging RDS", "/aws/ec2/codedetect-staging"):
        assert found.normaliser("staging")(value) == hand(value)


def test_every_difference_is_listed_as_unclaimed_with_its_line(written):
    text = written.read_text()
    assert "aws_db_instance.main.deletion_protection production: true, staging: false at rds.tf:" in text
    assert "var.enable_ssl.value production: true, staging: false at staging.tfvars:4 -> no row covers it" in text
    assert "unclaimed: allow it in a row, or fix it" in text


def test_a_planted_difference_is_listed(tmp_path):
    tf = copy_tf(tmp_path)
    mutate(tf / "staging.tfvars", 'enable_ssl     = false', 'enable_ssl     = false\ninstance_type  = "t3.large"')
    out = tmp_path / "c.yaml"
    init.write(tf, DOCS, out)
    line = next(ln for ln in out.read_text().splitlines() if ln.startswith("#   unclaimed: var.instance_type"))
    assert "production: t3.micro, staging: t3.large at staging.tfvars:5" in line
    assert "row 'Instance Type'" in line


def test_a_row_naming_nothing_present_fails_until_reviewed(tmp_path):
    doc = tmp_path / "ENV.md"
    doc.write_text(DOCS.read_text().replace("| Docker Images | Same codebase |", "| Quantum Flux | Same flux |"))
    out = tmp_path / "c.yaml"
    init.write(TF_DIR, doc, out)
    row = next(r for r in load_contract(out, TF_DIR).rows if r.id == "Quantum Flux")
    assert [s.address for s in row.select] == ["TODO.name-what-quantum-flux-covers"]


@pytest.mark.slow
def test_the_gate_runs_with_the_written_contract(written, tmp_path):
    result = run_pytest("parity", "--contract", str(written), "--report-dir", str(tmp_path), "-q", "-rf")
    assert result.returncode == 1, result.output  # findings, not a usage error
    assert "FAILED parity/test_parity.py::test_unclaimed" in result.output
    assert "var.enable_ssl.value production: true, staging: false at terraform/staging.tfvars:4" in result.output
    assert "test_same[Security Groups]" not in result.output.split("short test summary")[-1]


def test_another_layout(tmp_path):
    """Workspaces the code compares, a var file per environment, ASG and launch template, other names."""
    tf = tmp_path / "infra"
    tf.mkdir()
    (tf / "main.tf").write_text(textwrap.dedent('''
        variable "env" { type = string }
        variable "size" { type = string }
        locals { prod = terraform.workspace == "prod" }
        resource "aws_launch_template" "app" {
          name          = "shop-${var.env}-lt"
          instance_type = var.size
        }
        resource "aws_autoscaling_group" "app" {
          name     = "shop-${var.env}-asg"
          min_size = local.prod ? 2 : 1
          max_size = 2
        }
    '''))
    (tf / "prod.tfvars").write_text('env = "prod"\nsize = "t3.small"\n')
    (tf / "stage.tfvars").write_text('env = "stage"\nsize = "t3.micro"\n')
    doc = tmp_path / "README.md"
    doc.write_text(textwrap.dedent('''
        | Component | Configuration |
        |---|---|
        | Autoscaling | Same |

        | Component | Stage | Prod | Why |
        |---|---|---|---|
        | Instance Type | t3.micro | t3.small | cost |
    '''))
    out = tmp_path / "contract.yaml"
    init.write(tf, doc, out)
    c = load_contract(out, tf)
    assert c.reference == "prod"
    assert {n: (e.workspace, e.var_files) for n, e in c.environments.items()} == {
        "stage": ("stage", ("stage.tfvars",)), "prod": ("prod", ("prod.tfvars",))}
    assert c.normalise == {"stage": (("stage", "prod"),)}
    rows = {r.id: r for r in c.rows}
    assert {(s.address, s.attributes) for s in rows["Instance Type"].select} == {
        ("aws_launch_template.*", ("instance_type",))}
    assert "aws_autoscaling_group.*" in {s.address for s in rows["Autoscaling"].select}
    text = out.read_text()
    assert "aws_autoscaling_group.app.min_size prod: 2, stage: 1 at main.tf:" in text
    assert "aws_launch_template.app.instance_type prod: t3.small, stage: t3.micro" in text
    assert yaml.safe_load(text)["document"] == "README.md"


def test_bad_input_is_one_line(tmp_path):
    with pytest.raises(SuiteError, match="environments document does not exist"):
        init.build(TF_DIR, tmp_path / "missing.md", tmp_path / "c.yaml")
    (tmp_path / "flat.md").write_text("# no tables\n")
    with pytest.raises(SuiteError, match=r"flat\.md: no 'Component \| <environment>"):
        init.build(TF_DIR, tmp_path / "flat.md", tmp_path / "c.yaml")
    with pytest.raises(SuiteError, match="no Terraform files here"):
        init.build(tmp_path, DOCS, tmp_path / "c.yaml")
    (tmp_path / "c.yaml").write_text("mine\n")
    with pytest.raises(SuiteError, match="file exists; pass another --output, or --force"):
        init.write(TF_DIR, DOCS, tmp_path / "c.yaml")
    assert (tmp_path / "c.yaml").read_text() == "mine\n"
