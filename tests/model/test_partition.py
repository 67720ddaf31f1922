"""A large root module evaluated in parts (core/partition.py) gives exactly the model one run of tfparse gives.

The oracle is one run: every Terraform directory of this repository, and random modules of blocks that read each
other, through locals too, evaluated in parts of 1 and 3 blocks (the most parts, the most copies) must give
equal models. Breaking what the parts rely on (the blocks a block reads, who answers for the shared blocks, the
fallback to one run) makes these tests fail.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bench.synth import generate
from core import evaluator, hcl, model, partition
from core.contract import load_contract
from core.errors import SuiteError
from core.model import EnvSpec
from tests.helpers import CONTRACT, ROOT, TF_DIR, copy_tf

ONE_RUN = 10**9  # a part size no module reaches: one run

TWO = {"production": EnvSpec("production", "default", (), "production"),
       "staging": EnvSpec("staging", "staging", (), "staging")}


def _with_staging_vars(tf: Path) -> dict[str, EnvSpec]:
    return {"production": TWO["production"],
            "staging": EnvSpec("staging", "staging", ("staging.tfvars",) if (tf / "staging.tfvars").exists()
                               else (), "staging")}


def _shop_without_json(tmp: Path) -> tuple[Path, dict[str, EnvSpec]]:
    """The loading corpus (override files, auto var files, nested local modules, count and for_each on module
    calls) without its .tf.json files, which are evaluated in one run."""
    shop = tmp / "shop"
    shutil.copytree(ROOT / "tests" / "corpus" / "loading" / "shop", shop)
    for f in shop.glob("*.tf.json"):
        f.unlink()
    return shop, load_contract(shop / "contract.yaml", shop).environments


def corpus(tmp: Path) -> dict[str, tuple[Path, dict[str, EnvSpec]]]:
    webshop = ROOT / "tests" / "samples" / "webshop" / "terraform"
    values = ROOT / "tests" / "corpus" / "values"
    return {
        "terraform": (TF_DIR, load_contract(CONTRACT, TF_DIR).environments),
        "webshop": (webshop, load_contract(ROOT / "tests" / "adoption" / "webshop" / "contract.yaml",
                                           webshop).environments),
        "values-app": (values / "app", _with_staging_vars(values / "app")),  # templatefile, random_*, user_data
        "values-dynamic": (values / "dynamic", _with_staging_vars(values / "dynamic")),  # rewritten dynamic blocks
        "shop": _shop_without_json(tmp),
    }


@pytest.fixture
def parts_made(monkeypatch):
    """How many parts each evaluation was split into (0: one run)."""
    made: list[int] = []
    plan = partition._plan

    def recording(source_dir, run_dir, size):
        found = plan(source_dir, run_dir, size)
        made.append(len(found[1]) if found else 0)
        return found

    monkeypatch.setattr(partition, "_plan", recording)
    return made


def load(monkeypatch, tf: Path, envs: dict[str, EnvSpec], size: int) -> dict:
    monkeypatch.setattr(partition, "SIZE", size)
    return model.load_all(tf, envs)


def assert_same(one: dict, parts: dict) -> None:
    assert list(one) == list(parts)
    for env in one:
        assert not isinstance(one[env], SuiteError), one[env]
        assert parts[env] == one[env], env


@pytest.mark.parametrize("size", [1, 3])
@pytest.mark.parametrize("name", ["terraform", "webshop", "values-app", "values-dynamic", "shop"])
def test_parts_give_the_model_one_run_gives(name, size, tmp_path, monkeypatch, parts_made):
    tf, envs = corpus(tmp_path)[name]
    one = load(monkeypatch, tf, envs, ONE_RUN)
    assert parts_made == [0]
    parts = load(monkeypatch, tf, envs, size)
    assert parts_made[1] > 1  # it was split
    assert_same(one, parts)


# --------------------------------------------------------------------------- what the parts rely on

READS = '''locals {
  env    = terraform.workspace == "default" ? "production" : terraform.workspace
  bucket = aws_s3_bucket.a.bucket
  nested = "${local.bucket}/nested"
  tier   = try(aws_s3_bucket.a.tags.Tier, "none")
}

resource "aws_s3_bucket" "a" {
  bucket = "codedetect-${local.env}-a"
  tags   = { Env = local.env, Tier = "web" }
}

resource "aws_s3_bucket" "b" {
  bucket = "${aws_s3_bucket.a.bucket}-logs"
}

resource "aws_s3_bucket" "d" {
  for_each = aws_s3_bucket.a.tags
  bucket   = "${each.key}-${each.value}"
}

resource "aws_s3_bucket" "e" {
  count  = length(aws_s3_bucket.a.tags)
  bucket = "e-${count.index}"
}

resource "aws_s3_bucket" "l" {
  bucket = local.nested
}

resource "aws_instance" "z" {
  ami           = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
}

resource "aws_sqs_queue" "q" {
  name = "${local.tier}-${local.bucket}-${aws_instance.z.private_ip}"
}

data "aws_iam_policy_document" "p" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::${aws_s3_bucket.a.bucket}/*"]
  }
}

resource "aws_iam_policy" "p" {
  name   = "p-${local.env}"
  policy = data.aws_iam_policy_document.p.json
}

output "bucket" {
  value = aws_s3_bucket.b.bucket
}
'''


def _reads(tmp_path: Path) -> Path:
    tf = tmp_path / "reads"
    tf.mkdir()
    (tf / "main.tf").write_text(READS)
    return tf


def test_blocks_read_through_attributes_locals_count_and_for_each(tmp_path, monkeypatch, parts_made):
    """Each part holds what its blocks read: a bucket's name read directly, through locals (two deep), by
    count and for_each, by a data source; and a local that reads a resource is answered by the first part."""
    tf = _reads(tmp_path)
    one = load(monkeypatch, tf, TWO, ONE_RUN)
    parts = load(monkeypatch, tf, TWO, 1)
    assert parts_made[1] == 10  # one part per block
    assert_same(one, parts)
    staging = parts["staging"].resources
    assert staging["aws_s3_bucket.b"].values["bucket"] == "codedetect-staging-a-logs"
    assert staging["aws_s3_bucket.l"].values["bucket"] == "codedetect-staging-a/nested"
    assert set(staging) >= {'aws_s3_bucket.d["Env"]', 'aws_s3_bucket.d["Tier"]', "aws_s3_bucket.e[1]"}


def _differences(one: dict, other: dict) -> set[str]:
    return {f"{env}:{a}" for env in one for a in one[env].resources.keys() | other[env].resources.keys()
            if (one[env].resources.get(a) or 0) != (other[env].resources.get(a) or 0)}


def test_a_part_without_what_its_blocks_read_is_caught(tmp_path, monkeypatch):
    """Shown to fail: parts that do not hold what their blocks read give other models (what tfparse cannot
    resolve comes back unresolved, the same in every environment: a false equal), or are refused."""
    tf = _reads(tmp_path)
    monkeypatch.setattr(partition, "_named", lambda words, names: set())
    broken = load(monkeypatch, tf, TWO, 1)
    assert "aws_s3_bucket.d: the fast evaluator (tfparse) made no instance of it" in str(broken["staging"])
    (tf / "main.tf").write_text(READS.split('resource "aws_s3_bucket" "d"')[0])  # a and b only
    one = load(monkeypatch, tf, TWO, ONE_RUN)
    broken = load(monkeypatch, tf, TWO, 1)
    assert one["staging"].resources["aws_s3_bucket.b"].values["bucket"] == "codedetect-staging-a-logs"
    assert broken["staging"].resources["aws_s3_bucket.b"].values["bucket"] == "${aws_s3_bucket.a.bucket}-logs"
    assert broken["production"].resources["aws_s3_bucket.b"].values == broken["staging"].resources[
        "aws_s3_bucket.b"].values


def _joined(tf: Path, workspace: str) -> dict:
    with partition.split(tf, tf, size=1) as parts:
        return partition.merge(parts, [evaluator.here(p.dir, workspace, []) for p in parts])


def _locals(result: dict) -> list[dict]:
    return [{k: v for k, v in b.items() if k not in ("__tfmeta", "id")} for b in result["locals"]]


def test_locals_that_read_resources_are_taken_from_the_first_part(tmp_path, monkeypatch):
    """Every part holds the locals, right only in the first, which holds what they read: the joined result has
    one run's locals. Shown to fail: taken from every part, a later part's local is another value."""
    tf = _reads(tmp_path)
    one = _locals(evaluator.here(tf, "staging", []))
    assert one == [{"env": "staging", "bucket": "codedetect-staging-a", "nested": "codedetect-staging-a/nested",
                    "tier": "web"}]
    assert _locals(_joined(tf, "staging")) == one
    answers = partition._answers
    monkeypatch.setattr(partition, "_answers", lambda part, block: True if block["__tfmeta"].get("path") ==
                        "locals" else answers(part, block))
    assert _locals(_joined(tf, "staging")) != one


def test_copies_identifiers_stand_for_their_blocks(tmp_path, monkeypatch):
    """tfparse gives a block a new identifier in each run, and a value it cannot resolve is that identifier: read
    from a copy in another part, it must still name the block (else it is read another way)."""
    tf = tmp_path / "ids"
    tf.mkdir()
    (tf / "main.tf").write_text('resource "aws_vpc" "main" {\n  cidr_block = "10.0.0.0/16"\n}\n\n'
                                + "".join(f'resource "aws_subnet" "s{i}" {{\n  vpc_id = aws_vpc.main.id\n'
                                          f'  cidr_block = "10.0.{i}.0/24"\n}}\n\n' for i in range(4)))
    one = load(monkeypatch, tf, TWO, ONE_RUN)
    parts = load(monkeypatch, tf, TWO, 1)
    assert_same(one, parts)
    assert parts["staging"].resources["aws_subnet.s3"].values["vpc_id"] == "${aws_vpc.main}"
    monkeypatch.setattr(model._HclConverter, "__init__", _without_copies(model._HclConverter.__init__))
    forgotten = load(monkeypatch, tf, TWO, 1)["staging"].resources["aws_subnet.s3"].values["vpc_id"]
    assert forgotten != "${aws_vpc.main}"


def _without_copies(init):
    def __init__(self, parsed, redact):
        init(self, dict(parsed), redact)  # (a plain dict: the parts' copies forgotten)
    return __init__


# --------------------------------------------------------------------------- one run when parts cannot be trusted

def test_a_block_no_part_was_given_means_one_run(tmp_path, monkeypatch):
    """Should a part return a block the split did not give it (its reader and tfparse disagree), the module is
    evaluated in one run: the same models, never a joined guess."""
    tf = _reads(tmp_path)
    one = load(monkeypatch, tf, TWO, ONE_RUN)
    runs = []
    here = evaluator.here
    monkeypatch.setattr(evaluator, "here", lambda d, w, v: runs.append(Path(d)) or here(d, w, v))
    monkeypatch.setattr(partition, "_answers", lambda part, block: (_ for _ in ()).throw(partition.Disagree("x")))
    assert_same(one, load(monkeypatch, tf, TWO, 1))
    assert runs.count(tf) == 2  # each environment, in one run of the module itself


def test_an_error_in_a_part_is_the_error_one_run_gives(tmp_path, monkeypatch, parts_made):
    tf = copy_tf(tmp_path)
    envs = load_contract(CONTRACT, tf).environments
    (tf / "broken.tf").write_text('resource "aws_s3_bucket" "x" {\n  bucket = \n}\n')
    one = load(monkeypatch, tf, envs, ONE_RUN)
    parts = load(monkeypatch, tf, envs, 1)
    assert parts_made[1] > 1
    assert all(isinstance(parts[e], SuiteError) for e in envs)
    assert [str(parts[e]) for e in envs] == [str(one[e]) for e in envs]
    assert "broken.tf" in str(parts["production"])


# --------------------------------------------------------------------------- when a module is split

def test_small_modules_and_json_or_tofu_files_are_one_run(tmp_path):
    assert partition._plan(TF_DIR, TF_DIR, partition.SIZE) is None  # the bundled module: 70 blocks
    tf, _ = generate(tmp_path, 4 * partition.SIZE, 2)
    assert len(partition._plan(tf, tf, partition.SIZE)[1]) == 4
    for name in ("extra.tf.json", "extra.tofu"):
        (tf / name).write_text("{}\n")
        assert partition._plan(tf, tf, partition.SIZE) is None, name
        (tf / name).unlink()


def test_a_large_module_is_split_read_once_and_its_parts_removed(tmp_path, monkeypatch, parts_made):
    """At the default size: a synthetic module of 2,000 resources in parts; the same models as one run; each
    file read once by this process; no part left behind."""
    tf, contract = generate(tmp_path, 2000, 2)
    envs = load_contract(contract, tf).environments
    made_dirs = []
    real = partition.Part
    monkeypatch.setattr(partition, "Part", lambda **kw: made_dirs.append(kw["dir"]) or real(**kw))
    before = hcl.parse_count
    parts = model.load_all(tf, envs)
    assert hcl.parse_count - before == len(list(tf.glob("*.tf"))) + len(list(tf.glob("*.tfvars")))
    assert parts_made == [7] and len(made_dirs) == 7
    assert not any(d.exists() for d in made_dirs)
    assert_same(load(monkeypatch, tf, envs, ONE_RUN), parts)


# --------------------------------------------------------------------------- random modules

TYPES = ("aws_s3_bucket", "aws_sqs_queue")


@st.composite
def modules(draw):
    """A root module of 2-8 resources, as Terraform accepts it (no cycle): each reads nothing, the workspace, an
    earlier resource (directly, by count or for_each) or a local, and a local may read any resource."""
    n = draw(st.integers(2, 8))
    names = [f"{TYPES[i % 2]}.r{i}" for i in range(n)]
    locals_ = {f"l{j}": draw(st.sampled_from(names)) for j in range(draw(st.integers(0, 3)))}
    text = "locals {\n  env = terraform.workspace\n" + "".join(
        f'  {name} = "${{{target}.tags.Env}}-{name}"\n' for name, target in locals_.items()) + "}\n\n"
    for i, address in enumerate(names):
        rtype, rname = address.split(".")
        how = draw(st.sampled_from(["none", "workspace", "attr", "count", "for_each", "local"]))
        other = draw(st.sampled_from(names[:i])) if i else None
        how = "workspace" if other is None and how in ("attr", "count", "for_each") else how
        meta, value = "", f'"v{i}"'
        if how == "workspace":
            value = f'"v{i}-${{local.env}}"'
        elif how == "attr":
            value = f'"${{{other}.tags.Env}}-{i}"'
        elif how == "count":
            meta = f"  count = length({other}.tags)\n"
        elif how == "for_each":
            meta = f"  for_each = {other}.tags\n"
            value = '"${each.key}-${each.value}"'
        elif how == "local" and locals_:
            value = f"local.{draw(st.sampled_from(sorted(locals_)))}"
        text += (f'resource "{rtype}" "{rname}" {{\n{meta}  tags = {{ Env = "e{i}-${{local.env}}", '
                 f"Name = {value} }}\n}}\n\n")
    return text


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=modules(), size=st.sampled_from([1, 2]))
def test_random_modules_in_parts_equal_one_run(text, size, tmp_path_factory, monkeypatch):
    tf = tmp_path_factory.mktemp("random")
    (tf / "main.tf").write_text(text)
    one = load(monkeypatch, tf, TWO, ONE_RUN)
    # one run of tfparse can drop a block's instances (below): refused, and then not an oracle
    assume(not any(isinstance(m, SuiteError) and DROPPED in str(m) for m in one.values()))
    assert_same(one, load(monkeypatch, tf, TWO, size))


DROPS = """locals {
  env = terraform.workspace
}

resource "aws_s3_bucket" "r0" {
  tags = { Env = "e0-${local.env}", Name = "v0" }
}

resource "aws_sqs_queue" "r1" {
  for_each = aws_s3_bucket.r0.tags
  tags     = { Name = "${each.key}-${each.value}" }
}

resource "aws_s3_bucket" "r2" {
  for_each = aws_s3_bucket.r0.tags
  tags     = { Name = "${each.key}-${each.value}" }
}
"""
DROPPED = "the fast evaluator (tfparse) made no instance of it, but its for_each is known (2 instances)"


def test_instances_tfparse_drops_are_refused_never_empty(tmp_path, monkeypatch):
    """tfparse, expanding r2's for_each, loses what r1's reads (both read a bucket): r1 gets no instance in one
    run. It is refused by name (it used to be reported as "for_each is empty": never checked, silently). In parts
    (r1 apart from r2) tfparse makes both instances."""
    tf = tmp_path / "drops"
    tf.mkdir()
    (tf / "main.tf").write_text(DROPS)
    one = load(monkeypatch, tf, TWO, ONE_RUN)
    assert str(one["staging"]) == f"{tf / 'main.tf'}:9: aws_sqs_queue.r1: {DROPPED}; evaluate this module with " \
        "--evaluator terraform (real plans)"
    parts = load(monkeypatch, tf, TWO, 1)
    assert {a: r.values["tags"]["Name"] for a, r in parts["staging"].resources.items() if a.startswith("aws_sqs")} \
        == {'aws_sqs_queue.r1["Env"]': "Env-e0-staging", 'aws_sqs_queue.r1["Name"]': "Name-v0"}
    monkeypatch.setattr(model, "_known_instances", lambda value: 0)  # the check gone: the old silent "empty"
    silent = load(monkeypatch, tf, TWO, ONE_RUN)["staging"]
    assert silent.blocks["aws_sqs_queue.r1"].reason == "for_each is empty"
