"""Static and live parity are one engine: fed the same pair of environments, they give the same contract row
(and the same allowed/not allowed) for the same difference."""

import dataclasses
import types

import pytest

from core.findings import Status
from live_checks.aws import AwsSession
from live_checks.run import UNLISTED, LiveRun
from parity.engine import entries, judge

CERT_RECORD = 'aws_route53_record.cert_validation["codedetect.example.com"]'


class _Quiet(dict):
    """Inventories that read nothing and report no error: the views below are the deployed values."""

    def __missing__(self, key):
        return types.SimpleNamespace(errors=[])


@pytest.fixture
def pair(models, contract):
    """Production and staging as the static gate sees them, plus what a real deployment adds: the certificate's
    validation record (production only), and two disallowed differences."""
    ref = entries(models["production"], contract)
    norm = contract.normaliser("staging")
    other = {norm(a): norm(v) for a, v in entries(models["staging"], contract).items()}
    ref[CERT_RECORD] = {"name": "_x.codedetect.example.com", "type": "CNAME", "ttl": 60}
    other["aws_db_instance.main"] = {**other["aws_db_instance.main"], "storage_encrypted": False}
    other["aws_sns_topic.extra"] = {"name": "codedetect-production-extra"}  # no row covers it
    return ref, other


def _live(models, contract, ref, other) -> LiveRun:
    run = LiveRun(AwsSession(endpoint="http://127.0.0.1:9", region="us-east-1"), models, contract)
    run.__dict__["inventories"] = _Quiet()
    run.__dict__["views"] = {"production": ({}, ref, {}), "staging": ({}, other, {})}
    run.contract = dataclasses.replace(contract, normalise={})  # the pair is normalised already
    return run


def test_same_row_for_the_same_difference_static_and_live(models, contract, pair):
    ref, other = pair
    static = judge(contract, ref, other, "staging")
    run = _live(models, contract, ref, other)
    for row in [r.id for r in contract.rows] + [UNLISTED]:
        want = {(v.diff.address, v.diff.path) for v in static if not v.allowed
                and ((row in v.rows) if row != UNLISTED else not v.rows)}
        got = {(f.resource, f.attribute) for f in run.parity(row) if f.status == Status.DRIFT}
        assert got == want, row
    # the three differences made above, each attributed once and the same way
    by_address = {v.diff.address: v for v in static if v.diff.address in (
        CERT_RECORD, "aws_db_instance.main", "aws_sns_topic.extra") and (v.diff.path in ("", "storage_encrypted"))}
    assert by_address[CERT_RECORD].rows == ("Domain/SSL",) and by_address[CERT_RECORD].allowed
    assert by_address["aws_db_instance.main"].rows and not by_address["aws_db_instance.main"].allowed
    assert by_address["aws_sns_topic.extra"].rows == () and not by_address["aws_sns_topic.extra"].allowed


def test_the_validation_record_the_gate_allows_is_not_a_live_drift(models, contract, pair):
    ref, other = pair
    run = _live(models, contract, ref, other)
    for row in [r.id for r in contract.rows] + [UNLISTED]:
        assert not [f for f in run.parity(row) if f.resource == CERT_RECORD and f.status != Status.PASS], row
    encrypted = [f for r in contract.rows for f in run.parity(r.id)
                 if f.status == Status.DRIFT and f.resource == "aws_db_instance.main"]
    assert [(f.attribute, f.expected, f.actual) for f in encrypted] == [("storage_encrypted", True, False)]
    assert [f.resource for f in run.parity(UNLISTED) if f.status == Status.DRIFT] == ["aws_sns_topic.extra"]
