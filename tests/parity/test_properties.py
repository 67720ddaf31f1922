"""Property tests of the diff and the normalisation (hypothesis).

For generated pairs of models: a change at a path outside the allowed set is always reported, a
change inside it never is, and the verdict depends neither on the order of unordered collections
nor on which environment is compared first.
"""

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from core.contract import Contract, Row, Selector
from core.model import EnvSpec
from core.redact import Secret
from parity.engine import EXISTS, Difference, _identical, diff_entries, format_path, judge

UNORDERED = ("cidr_blocks", "ingress")
scalars = st.one_of(st.integers(-5, 5), st.booleans(), st.text("abc", max_size=3))
cidrs = st.lists(st.sampled_from(["10.0.0.0/8", "0.0.0.0/0", "::/0", "192.168.0.0/16"]), unique=True, max_size=3)
rules = st.lists(st.fixed_dictionaries({"from_port": st.integers(0, 3), "cidr_blocks": cidrs}),
                 max_size=3, unique_by=lambda r: (r["from_port"], tuple(sorted(r["cidr_blocks"]))))
resource = st.fixed_dictionaries({"size": scalars, "name": scalars, "ordered": st.lists(scalars, max_size=3),
                                  "ingress": rules, "cidr_blocks": cidrs})
models = st.dictionaries(st.sampled_from(["aws_a.x", "aws_a.y", "aws_b.z[0]", "var.v"]), resource, min_size=1)
ATTRIBUTES = ["size", "name", "ordered", "ingress", "cidr_blocks"]


def contract_allowing(allowed: set[tuple[str, str]]) -> Contract:
    sels = tuple(Selector(address=a, attributes=(attr,)) for a, attr in sorted(allowed))
    rows = (Row(id="Allowed", table="different", document={}, select=sels, values={}, allow=sels),) if sels else ()
    envs = {"production": EnvSpec("production", "default"), "staging": EnvSpec("staging", "staging")}
    return Contract(path="contract.yaml", document="", reference="production", environments=envs, normalise={},
                    unordered=UNORDERED, json_attributes=(), rows=rows)


def changed(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 100
    if isinstance(value, str):
        return value + "!"
    if isinstance(value, list):
        return [*value, {"from_port": 99, "cidr_blocks": []}] if value and isinstance(value[0], dict) else [*value, 999]
    raise AssertionError(value)


def disallowed(contract, ref, other):
    return [v for v in judge(contract, ref, other, "staging") if not v.allowed]


@settings(max_examples=150, deadline=None)
@given(models, st.data())
def test_change_outside_allowed_set_is_always_reported(ref, data):
    address = data.draw(st.sampled_from(sorted(ref)))
    attr = data.draw(st.sampled_from(ATTRIBUTES))
    allowed = data.draw(st.sets(st.tuples(st.sampled_from(sorted(ref)), st.sampled_from(ATTRIBUTES))))
    allowed.discard((address, attr))
    other = copy.deepcopy(ref)
    other[address][attr] = changed(other[address][attr])
    found = disallowed(contract_allowing(allowed), ref, other)
    assert found, "a change outside the allowed set went unreported"
    assert all(v.diff.address == address and v.diff.path.split("[")[0].split(".")[0] == attr for v in found)


@settings(max_examples=150, deadline=None)
@given(models, st.data())
def test_change_inside_allowed_set_is_never_reported(ref, data):
    address = data.draw(st.sampled_from(sorted(ref)))
    attr = data.draw(st.sampled_from(ATTRIBUTES))
    other = copy.deepcopy(ref)
    other[address][attr] = changed(other[address][attr])
    assert disallowed(contract_allowing({(address, attr)}), ref, other) == []


@settings(max_examples=150, deadline=None)
@given(models, st.randoms(use_true_random=False))
def test_order_of_unordered_collections_does_not_matter(ref, rnd):
    other = copy.deepcopy(ref)
    for values in other.values():
        rnd.shuffle(values["cidr_blocks"])
        rnd.shuffle(values["ingress"])
        for rule in values["ingress"]:
            rnd.shuffle(rule["cidr_blocks"])
    assert judge(contract_allowing(set()), ref, other, "staging") == []


@settings(max_examples=100, deadline=None)
@given(models, models)
def test_verdict_does_not_depend_on_which_environment_comes_first(a, b):
    contract = contract_allowing({("aws_a.x", "size")})

    def summary(x, y):
        return {(v.diff.address, v.diff.path.split("[")[0].split(".")[0], v.allowed)
                for v in judge(contract, x, y, "staging")}

    assert summary(a, b) == summary(b, a)


@settings(max_examples=100, deadline=None)
@given(models, st.data())
def test_a_resource_in_one_environment_only_is_reported(ref, data):
    address = data.draw(st.sampled_from(sorted(ref)))
    other = copy.deepcopy(ref)
    del other[address]
    found = disallowed(contract_allowing({(address, a) for a in ATTRIBUTES}), ref, other)
    assert [(v.diff.address, v.diff.path) for v in found] == [(address, "")]


# --------------------------------------------------------------------------- normalisation

NAMES = {"codedetect-staging-uploads-2025": "codedetect-prod-uploads-2025", "[STAGING]": "[PROD]",
         "staging": "production"}
words = st.lists(st.sampled_from([*NAMES, "codedetect-", "-db", " ", "/aws/ec2/", "x"]), max_size=8)


def norm_contract() -> Contract:
    c = contract_allowing(set())
    return Contract(**{**c.__dict__, "normalise": {"staging": tuple(NAMES.items())}})


@given(words)
def test_normalising_staging_names_gives_production_names(parts):
    staging = "".join(parts)
    production = "".join(NAMES.get(p, p) for p in parts)
    assert norm_contract().normaliser("staging")(staging) == production


@given(words)
def test_normalisation_is_idempotent_and_leaves_the_reference_alone(parts):
    norm = norm_contract().normaliser("staging")
    value = {"k": ["".join(parts)], "tags": {"Environment": "".join(parts)}}
    assert norm(norm(value)) == norm(value)
    assert norm_contract().normaliser("production")(value) == value


# --------------------------------------------------------------------------- the diff's shortcuts (issue 12)

leaves = st.one_of(st.none(), st.booleans(), st.integers(0, 2), st.sampled_from([0.0, 1.0, 1.5]),
                   st.text("ab", max_size=2), st.builds(Secret, st.sampled_from(["s1", "s2"])))
values = st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.sampled_from(["p", "q"]), inner, max_size=2)),
                      max_leaves=6)
entries = st.dictionaries(st.sampled_from(["aws_a.x", "aws_b.y"]),
                          st.dictionaries(st.sampled_from(["size", "ingress", "cidr_blocks", "tags"]), values,
                                          max_size=4), max_size=2)


def deepdiff_everywhere(ref, other, unordered):
    """The diff before its shortcuts: DeepDiff over each whole entry that is not identical."""
    from deepdiff import DeepDiff

    def ignore_order(level):
        keys = [k for k in level.path(output_format="list") if isinstance(k, str)]
        return bool(keys) and keys[-1] in unordered

    found = []
    for address in sorted(set(ref) | set(other)):
        if address not in other or address not in ref:
            where = ("present", "absent") if address in ref else ("absent", "present")
            found.append(Difference(address, EXISTS, *where))
            continue
        if _identical(ref[address], other[address]):
            continue
        dd = DeepDiff(ref[address], other[address], ignore_order_func=ignore_order, view="tree", verbose_level=2,
                      threshold_to_diff_deeper=0)
        for levels in dd.values():
            for level in levels:
                t1 = None if type(level.t1).__name__ == "NotPresent" else level.t1
                t2 = None if type(level.t2).__name__ == "NotPresent" else level.t2
                found.append(Difference(address, format_path(level.path(output_format="list")), t1, t2))
    return sorted(found, key=lambda d: (d.address, d.path))


@settings(max_examples=300, deadline=None)
@given(entries, entries)
def test_diff_shortcuts_find_exactly_what_deepdiff_finds(ref, other):
    """Only the attributes that differ go to DeepDiff, and two differing plain scalars (not 1 vs 1.0 vs True,
    not a Secret: those keep DeepDiff's verdict) are reported without it: the same differences, same values."""
    def key(d):
        return (d.address, d.path, repr(d.reference), type(d.reference).__name__, repr(d.other),
                type(d.other).__name__)

    expected = deepdiff_everywhere(ref, other, set(UNORDERED))
    assert sorted(map(key, diff_entries(ref, other, UNORDERED))) == sorted(map(key, expected))
