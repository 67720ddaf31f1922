"""core/redact.py: a Secret prints only as the marker, compares by value, and taints what contains it."""

import base64
import copy
import hashlib
import itertools
import json
import pickle
from pathlib import Path

import pytest
from deepdiff import DeepDiff
from hypothesis import given, settings
from hypothesis import strategies as st

from core import redact
from core.findings import CheckFailed, Finding, Status
from core.redact import SENSITIVE, Secret, derivations, scrub, secret_attribute, source_literals

RAW = "Zr8-unit-secret-4kQ"


def test_a_secret_renders_only_as_the_marker():
    s = Secret(RAW)
    for text in (str(s), repr(s), f"{s}", json.dumps({"k": s}), json.dumps([s]), s.upper(), s + ""):
        assert RAW not in text
    assert str(s) == SENSITIVE and s == SENSITIVE and SENSITIVE == s  # core.model.SENSITIVE behaviour kept
    assert RAW.encode() not in s._digest  # a keyed digest, not the value


def test_secrets_compare_by_value_and_differences_are_found():
    a, b, c = Secret(RAW), Secret(RAW), Secret(RAW + "x")
    assert a == b and a != c and not (a == c)
    assert DeepDiff({"p": a}, {"p": b}) == {}
    assert "values_changed" in DeepDiff({"p": a}, {"p": c})
    assert copy.deepcopy(a) == b and copy.copy(c) == c
    back = pickle.loads(pickle.dumps(c))  # noqa: S301 - our own bytes (models come back from worker processes)
    assert back == c and back != a
    assert RAW.encode() not in pickle.dumps(a)


def test_findings_show_that_secrets_differ_without_values():
    f = Finding(check="Database Type", kind="parity", status=Status.FAIL, env="staging~production",
                resource="aws_db_instance.main", attribute="password", expected=Secret("a-1"), actual=Secret("b-2"))
    assert "aws_db_instance.main.password differs (values hidden)" in f.one_line()
    same = Finding(check="x", kind="parity", status=Status.FAIL, env="staging", expected=Secret("a"),
                   actual=Secret("a"))
    assert "(values hidden)" in same.one_line() and "differs" not in same.one_line()
    assert json.dumps(f.to_dict()).count(SENSITIVE) == 2


def test_registered_secrets_and_derivations_are_scrubbed_everywhere():
    redact.register([RAW])
    raw = RAW.encode()
    forms = [RAW, base64.b64encode(raw).decode(), hashlib.sha256(raw).hexdigest(), hashlib.sha1(raw).hexdigest()]  # noqa: S324
    assert set(forms) <= derivations(RAW)
    for form in forms:
        text = f"something went wrong near {form}!"
        assert form not in scrub(text) and SENSITIVE in scrub(text)
    leaky = Finding(check="c", kind="parity", status=Status.FAIL, env="staging", message=f"value was {RAW}",
                    actual={"nested": [RAW]})
    rendered = CheckFailed("t", [leaky]).render() + json.dumps(leaky.to_dict())
    assert RAW not in rendered


@pytest.mark.parametrize(("rtype", "path", "secret"), [
    ("aws_db_instance", "password", True),
    ("aws_secretsmanager_secret_version", "secret_string", True),
    ("aws_iam_access_key", "secret", True),
    ("tls_private_key", "private_key_pem", True),
    ("random_password", "result", True),
    ("aws_mq_broker", "user[0].password", True),
    ("aws_elasticache_replication_group", "auth_token", True),
    ("aws_ssm_parameter", "value", True),  # SecureString, or a type not known before apply
    ("aws_efs_file_system", "creation_token", False),
    ("aws_instance", "metadata_options[0].http_tokens", False),
    ("aws_db_instance", "username", False),
    ("random_pet", "id", False),
])
def test_secret_attributes_are_data(rtype, path, secret):
    assert secret_attribute(rtype, path) is secret


def test_a_plain_ssm_parameter_is_not_a_secret():
    assert not secret_attribute("aws_ssm_parameter", "value", {"type": "String", "value": "ami-0abc"})
    assert secret_attribute("aws_ssm_parameter", "value", {"type": "SecureString", "value": "x"})


@pytest.mark.parametrize(("name", "text", "found"), [
    ("main.tf", 'password = "lit-pass-1"', ["lit-pass-1"]),
    ("main.tf", "password = var.db_password", []),
    ("main.tf", 'token = var.x ? "tok-aaaa" : "tok-bbbb"', ["tok-aaaa", "tok-bbbb"]),
    ("main.tf", '  user_data = <<-EOT\n    export DB_PASSWORD=heredoc-pw\n    export X=${var.y}\n  EOT\n',
     ["heredoc-pw"]),
    ("main.tf", 'locals {\n  db_passwords = {\n    staging = "map-pw-s"\n  }\n  name = "not-a-secret"\n}\n',
     ["map-pw-s"]),
    ("main.tf.json", '{"resource": {"x": {"y": {"password": "json-pw-1"}}}}', ["json-pw-1"]),
    ("app.env.tftpl", "API_SECRET=tpl-secret-1\nNAME=${name}\n", ["tpl-secret-1"]),
    ("db.yaml", "database:\n  password: yaml-pw-22\n", ["yaml-pw-22"]),
    ("main.tf", 'http_tokens = "required"\ncreation_token = "codedetect-uploads"\n', []),
    ("README.md", "The API token: ask the on-call team.\nset `password = var.db_password`\n", []),
    ("key.pem", "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n",
     ["-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----"]),
    ("main.tf", 'legacy = "AKIAQ3EXAMPLE7TESTKE"', ["AKIAQ3EXAMPLE7TESTKE"]),
])
def test_source_literals(name, text, found):
    assert [value for _, value, _ in source_literals(Path(name), text)] == found


def test_bundled_terraform_has_no_secret_literal():
    from tests.helpers import TF_DIR

    assert redact.files_secrets(sorted(p for p in TF_DIR.rglob("*") if p.is_file())) == set()


def test_a_list_compared_as_a_set_still_shows_a_differing_secret():
    """The parity diff hashes the items of unordered lists; a hash sees only the marker, so a list holding a
    secret is sealed into one Secret by the post-pass and compared by its digest."""
    from core.model import EnvModel, EnvSpec, Resource
    from parity.engine import diff_entries

    def model(secret):
        r = Resource(address="aws_x.y", mode="managed", type="aws_x", name="y", file="main.tf", line=1,
                     values={"Statement": [{"Sid": "a", "Condition": Secret(secret)}, {"Sid": "b"}]})
        return redact.redact_model(EnvModel(env=EnvSpec("e", "default"), source="hcl:x", root=".",
                                            resources={r.address: r}))

    a, b, c = model("one-secret"), model("two-secret"), model("one-secret")
    entries = [{"aws_x.y": dict(m.resources["aws_x.y"].values)} for m in (a, b, c)]
    assert [d.path for d in diff_entries(entries[0], entries[1], ("Statement",))] == ["Statement"]
    assert diff_entries(entries[0], entries[2], ("Statement",)) == []
    unsealed = [{"aws_x.y": {"Statement": [{"Condition": Secret(s)}]}} for s in ("one-secret", "two-secret")]
    assert diff_entries(*unsealed, ("Statement",)) == []  # what the seal prevents: a false green


# --------------------------------------------------------------------------- the fast paths lose nothing (issue 12)

WORDS = ["password", "PASSWD", "Pwd", "secret", "Token", "private_key", "api_key", "name", "id"]
VALUES = ['"hunter22x"', "'s3cr3t-value'", "hunter22x", '"${var.x}"', 'var.x ? "aaaa1" : "bbbb2"', "{", "[",
          '"AKIAIOSFODNN7EXAMPLE"', "true"]
NOISE = ["", "#", " ", "\n", "abc", "}", "]", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
         "ASIAIOSFODNN7EXAMPLE", "<<EOF\n", "EOF"]
PREFIXES, SEPARATORS = ["", "db_", "DB_", "x."], [" = ", "=", ": "]
line = st.tuples(st.sampled_from(PREFIXES), st.sampled_from(WORDS), st.sampled_from(SEPARATORS),
                 st.sampled_from(VALUES), st.sampled_from(NOISE)).map("".join)


def test_the_prefilter_never_skips_a_line_the_scan_finds_a_literal_in():
    """Every line of the vocabulary, exhaustively, as a model's value and as each kind of file."""
    for parts in itertools.product(PREFIXES, WORDS, SEPARATORS, VALUES, NOISE):
        text = "".join(parts)
        for name in ("value", "main.tf", "run.sh", "notes.md"):
            assert list(redact.source_literals(Path(name), text)) == list(redact._literals(Path(name), text)), text


@settings(max_examples=400, deadline=None)
@given(st.lists(line, min_size=2, max_size=6), st.sampled_from(["value", "main.tf", "run.sh", "notes.md"]))
def test_the_prefilter_never_skips_a_text_the_scan_finds_a_literal_in(lines, name):
    text = "\n".join(lines)
    assert list(redact.source_literals(Path(name), text)) == list(redact._literals(Path(name), text))


RTYPES = ["aws_db_instance", "aws_rds_cluster", "aws_ssm_parameter", "aws_instance", "aws_iam_user"]
PARTS = ["password", "master_password", "user_data", "value", "tags", "db_token", "name", "[0]", "[1]"]


def test_the_cached_attribute_rule_is_the_rule():
    """The name rule's cache answers what the rule answers; an SSM parameter's value still reads the values
    (every path of up to three parts, exhaustively)."""
    for rtype, n in itertools.product(RTYPES, (1, 2, 3)):
        for parts in itertools.product(PARTS, repeat=n):
            path = ".".join(parts).replace(".[", "[")
            assert redact._secret_path(rtype, path) == redact._secret_path.__wrapped__(rtype, path), path
            if rtype == "aws_ssm_parameter" and path.replace("[0]", "").replace("[1]", "") == "value":
                assert redact.secret_attribute(rtype, path) is True, path  # a parameter of unknown type is secret
                assert redact.secret_attribute(rtype, path, {"type": "String"}) is False, path
            else:
                assert redact.secret_attribute(rtype, path) == redact._secret_path.__wrapped__(rtype, path), path


# --------------------------------------------------------------------------- models redacted as they are built

def _model(name: str, values: dict, rtype: str = "aws_s3_bucket"):
    from core.model import EnvModel, EnvSpec, Resource

    r = Resource(address=f"{rtype}.x", mode="managed", type=rtype, name="x", file="main.tf", line=1, values=values)
    return EnvModel(env=EnvSpec(name, "default"), source="hcl:x", root=".", resources={r.address: r})


def _pair(secret: str):
    """Staging writes in a tag, in clear, what production holds as its database password."""
    return (_model("staging", {"tags": {"Note": f"password is {secret}!"}}),
            _model("production", {"password": secret}, "aws_db_instance"))


def _note(m):
    return m.resources["aws_s3_bucket.x"].values["tags"]["Note"]


def test_a_secret_met_in_a_later_model_taints_an_earlier_one(monkeypatch):
    """Models are redacted as each is built; a secret only a later one holds, written in clear in an earlier one,
    is tainted there too. Shown to fail: redacted one after the other (as they used to be), and without the second
    pass. (Each case its own secret: the registry is the process's.)"""
    staging, production = _pair("sealer-late-s3cret-1Qz")
    sealer = redact.Sealer()
    sealer.add("staging", staging)
    assert not isinstance(_note(sealer._done["staging"][-1]), Secret)  # (not yet known when staging came)
    sealer.add("production", production)
    sealed = sealer.models()
    assert isinstance(_note(sealed["staging"]), Secret)
    assert isinstance(sealed["production"].resources["aws_db_instance.x"].values["password"], Secret)

    staging, production = _pair("sealer-late-s3cret-2Qz")
    assert not isinstance(_note(redact.redact_model(staging)), Secret)  # the old way: staging first
    redact.redact_model(production)

    staging, production = _pair("sealer-late-s3cret-3Qz")
    monkeypatch.setattr(redact.Sealer, "models", lambda self: {n: done[-1] for n, done in self._done.items()})
    sealer = redact.Sealer()  # (without the second pass)
    sealer.add("staging", staging)
    sealer.add("production", production)
    assert not isinstance(_note(sealer.models()["staging"]), Secret)


SECRETS = ["sealer-pw-alpha-1", "sealer-pw-beta-22", "tok3n-gamma-333"]
TEXTS = st.sampled_from([*SECRETS, "plain", "x-sealer-pw-alpha-1-y", "${aws_x.y.id}", "tok3n",
                         "prefix tok3n-gamma-333"])
VALUES_ = st.recursive(TEXTS | st.integers(0, 3), lambda inner: st.lists(inner, max_size=3) |
                       st.dictionaries(st.sampled_from(["a", "b", "password", "token"]), inner, max_size=3),
                       max_leaves=8)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["aws_s3_bucket", "aws_db_instance"]),
                          st.dictionaries(st.sampled_from(["tags", "password", "name"]), VALUES_, max_size=3)),
                min_size=1, max_size=4))
def test_models_sealed_as_they_come_equal_all_tainted_by_every_secret(specs):
    """Whatever the order, the sealed models are each model tainted by every secret of the run."""
    models = {f"e{i}": _model(f"e{i}", values, rtype) for i, (rtype, values) in enumerate(specs)}
    sealer = redact.Sealer()
    for name, m in models.items():
        sealer.add(name, m)
    sealed = sealer.models()
    final = set(redact._registered)
    assert sealed == {name: redact._tainted(m, final) for name, m in models.items()}
