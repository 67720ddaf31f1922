"""`show` and parity findings: values as each environment writes them; multi-line strings by their differing lines."""

from __future__ import annotations

import pytest

from core import cli, show
from core.contract import load_contract
from core.model import load
from parity.engine import Comparison
from tests.helpers import CONTRACT, TF_DIR, copy_tf, mutate


def models(tf):
    c = load_contract(CONTRACT, tf)
    return c, {n: load(tf, e) for n, e in c.environments.items()}


@pytest.fixture(scope="module")
def drifted(tmp_path_factory):
    """Staging runs its own image tag: var.docker_tag, and through it the instances' user_data."""
    tf = copy_tf(tmp_path_factory.mktemp("show"))
    mutate(tf / "staging.tfvars", 'enable_ssl     = false', 'enable_ssl     = false\ndocker_tag     = "staging-latest"')
    return tf


def test_model_lists_addresses_values_and_lines():
    _, m = models(TF_DIR)
    text = show.model_text(m["staging"])
    lines = text.splitlines()
    assert lines[0].startswith("# staging: workspace staging, var files staging.tfvars")
    assert any(line.startswith("aws_db_instance.main  (") and "rds.tf:" in line for line in lines)
    assert '  instance_class = "db.t3.micro"' in lines
    assert any(line.startswith('var.s3_bucket_name = "codedetect-staging-uploads-2025"  (')
               and line.endswith("staging.tfvars:3)") for line in lines)
    assert "  user_data = <<EOT" in lines  # multi-line strings whole, not cut
    only = show.model_text(m["production"], "aws_lb_listener.*")
    assert {line.split("  ")[0] for line in only.splitlines()[1:] if not line.startswith(" ")} == {
        "aws_lb_listener.http_redirect[0]", "aws_lb_listener.https[0]"}


def test_difference_shows_values_as_written(drifted):
    c, m = models(drifted)
    text = show.diff_text(c, m["staging"], m["production"])
    block = text.split("var.docker_tag.value", 1)[1].splitlines()
    assert "staging.tfvars:5" in block[0] and "not allowed; row Docker Images" in block[0]
    assert block[1:3] == ['    production: "latest"', '    staging: "staging-latest"']  # not "production-latest"
    user_data = text.split("aws_instance.blue[0].user_data", 1)[1].split("\naws_", 1)[0].splitlines()
    diff = [line for line in user_data if line.startswith(("    -", "    +")) and not line.startswith(("    ---",
                                                                                                    "    +++"))]
    assert diff == ["    -  nyeinthunaing/codedetect:latest", "    +  nyeinthunaing/codedetect:staging-latest"]
    assert "allowed by Deletion Protection" in text  # allowed differences are listed too, with their row
    assert show.diff_text(c, m["production"], m["staging"]) == text  # the reference is the contract's


def test_parity_findings_report_raw_values_and_the_differing_line(drifted):
    c, m = models(drifted)
    findings = {f.resource: f for f in Comparison.build(c, m).findings_for("Docker Images")}
    tag = findings["var.docker_tag"]
    assert (tag.expected, tag.actual) == ("latest", "staging-latest")
    assert "production: latest, staging: staging-latest at" in tag.one_line()
    ud = findings["aws_instance.blue[0]"]
    assert "ENVIRONMENT=staging" in ud.actual and "ENVIRONMENT=production" in ud.expected  # as written
    assert "in line 29: nyeinthunaing/codedetect:latest -> nyeinthunaing/codedetect:staging-latest;" in ud.message
    assert "production: (29 lines), staging: (29 lines) at " in ud.one_line()  # not cut after 120 characters


def test_show_command(capsys, drifted):
    code = cli.main(["show", "--tf-dir", str(drifted), "--contract", str(CONTRACT), "--env", "staging",
                     "--env", "production", "--address", "var.*"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == "# staging against production (names normalised as the contract says; " \
                                  "values as written)"
    assert {line.split("  ")[0] for line in out.splitlines()[1:] if not line.startswith(" ")} == {
        "var.docker_tag.value", "var.enable_ssl.value"}


def test_show_never_prints_a_secret(tmp_path, capsys):
    tf = copy_tf(tmp_path)
    secret = "Sup3r-s3cret-for-the-show-test"
    mutate(tf / "staging.tfvars", 'enable_ssl     = false', f'enable_ssl     = false\ndb_password    = "{secret}"')
    for envs in (["--env", "staging"], ["--env", "staging", "--env", "production"]):
        assert cli.main(["show", "--tf-dir", str(tf), "--contract", str(CONTRACT), *envs]) == 0
        out = capsys.readouterr().out
        assert secret not in out and out.strip()
