"""A local AWS (moto) holding what terraform/ deploys for every environment, to practise the live checks.

    python -m live_checks.sandbox --port 5555      # then, in another shell:
    pytest -m live live_checks --aws-endpoint http://127.0.0.1:5555 --require-live

Every environment is deployed by real Terraform (``terraform apply`` of its workspace and var files,
offline, through ``core.terraform.Workdir``) into an in-process moto server on loopback. Where moto
cannot answer the AWS provider, the sandbox answers instead, in this process only (see ``patch_moto``).
Nothing is written by hand. Variables without a value (the database password) get a throwaway random
value that never leaves the sandbox.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import logging
import os
import secrets
import signal
import sys
import threading
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from core.contract import load_contract
from core.errors import SuiteError
from core.model import EnvSpec

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
ROOT = Path(__file__).resolve().parent.parent


class SandboxError(RuntimeError):
    pass


def configure_moto() -> None:
    """moto settings the sandbox needs; call before moto is imported (and again after, for ACM)."""
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "0")
    if "moto.settings" in sys.modules:
        sys.modules["moto.settings"].ACM_VALIDATION_WAIT = 0


def patch_moto() -> None:
    """Answers moto does not give the AWS provider, in this process's moto only.

    ``aws_instance`` with ``monitoring = true`` calls EC2 ``MonitorInstances`` after RunInstances; moto
    5.2 raises NotImplementedError (HTTP 500), which the provider retries without end, so the apply
    never finishes. Here it sets the instance's monitoring state, as AWS does.
    """
    from moto.ec2.responses.monitoring import Monitoring

    if getattr(Monitoring, "_codedetect_patched", False):
        return

    def _set(self, state: str, answer: str):
        self.error_on_dryrun()
        ids = self._get_param("InstanceIds", [])
        items = ""
        for instance_id in ids:
            self.ec2_backend.get_instance(instance_id).monitoring_state = state
            items += (f"<item><instanceId>{instance_id}</instanceId><monitoring><state>{answer}</state>"
                      "</monitoring></item>")
        return (f'<{self._action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
                f"<requestId>codedetect-sandbox</requestId><instancesSet>{items}</instancesSet>"
                f"</{self._action}Response>")

    def monitor_instances(self):
        self._action = "MonitorInstances"
        return _set(self, "enabled", "pending")

    def unmonitor_instances(self):
        self._action = "UnmonitorInstances"
        return _set(self, "disabled", "disabling")

    Monitoring.monitor_instances = monitor_instances
    Monitoring.unmonitor_instances = unmonitor_instances
    Monitoring._codedetect_patched = True

    # moto gives every DB instance the same DbiResourceId; the provider reads an instance back by that id
    # (filter dbi-resource-id) and, finding two once both environments exist, fails "couldn't find resource".
    from moto.rds.models import DBInstance

    original_init = DBInstance.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        digest = hashlib.sha256(f"{self.account_id}/{self.region}/{self.db_instance_identifier}".encode()).digest()
        self.dbi_resource_id = "db-" + base64.b32encode(digest).decode()[:26]

    DBInstance.__init__ = init

    # snapshot() deep-copies moto's state; SSM's parameter store is a defaultdict whose class needs arguments.
    from moto.ssm.models import ParameterDict

    def _deepcopy(self, memo):
        new = ParameterDict(self.account_id, self.region_name)
        memo[id(self)] = new
        new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        for key, value in self.items():
            new[key] = copy.deepcopy(value, memo)
        return new

    ParameterDict.__deepcopy__ = _deepcopy


def start_server(port: int = 0):
    """A moto server on 127.0.0.1 (port 0: a free one). Returns (server, endpoint URL)."""
    configure_moto()
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    patch_moto()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    configure_moto()
    host, bound = server.get_host_and_port()
    endpoint = f"http://{host}:{bound}"
    # moto keeps its backends per process and builds each once, reading its settings then: a backend another
    # moto in this process made before configure_moto() (an IAM without AWS-managed policies) must not survive.
    reset(endpoint)
    return server, endpoint


def _loopback(endpoint: str) -> None:
    if urlparse(endpoint).hostname not in LOOPBACK:
        raise SandboxError(f"the sandbox works only on a local endpoint, not {endpoint}")


def unset_variables(tf_dir: str | Path) -> list[str]:
    """Root variables with no default (e.g. db_password): the sandbox gives them throwaway values."""
    import hcl2

    names = []
    for tf in sorted(Path(tf_dir).glob("*.tf")):
        with tf.open() as fh:
            for block in hcl2.load(fh).get("variable", []):
                names += [n.strip('"') for n, body in block.items() if "default" not in body]
    return names


def account_credentials(endpoint: str, account_id: str) -> tuple[str, str]:
    """An access key of a new IAM user in ``account_id`` of the local moto: what is signed with it (by Terraform
    or boto3) lands in that account, as moto takes the account from the access key."""
    import boto3

    _loopback(endpoint)
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="sandbox",
                       aws_secret_access_key="sandbox")  # noqa: S106 - moto accepts any key
    iam.meta.events.register("before-send", lambda request, **_: request.headers.__setitem__(
        "x-moto-account-id", account_id))
    user = f"codedetect-sandbox-{secrets.token_hex(4)}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def apply_env(tf_dir: str | Path, endpoint: str, env: EnvSpec, timeout: int = 900,
              credentials: tuple[str, str] | None = None) -> None:
    """``terraform apply`` of one environment (its workspace and var files) into the sandbox (into the account
    of ``credentials``, see account_credentials; default: moto's default account)."""
    from core.terraform import Workdir

    _loopback(endpoint)
    # Throwaway values, never printed, passed in the environment (not on a command line or in a file).
    secret_env = {name: "Sbx" + secrets.token_hex(12) for name in unset_variables(tf_dir)}
    with Workdir(tf_dir, endpoint, timeout=timeout, variables_env=secret_env, credentials=credentials) as wd:
        wd.apply(env.workspace, env.var_files)


def deploy(endpoint: str, tf_dir: str | Path = ROOT / "terraform",
           contract: str | Path = ROOT / "parity" / "contract.yaml") -> list[str]:
    """Every environment of the contract applied by Terraform, one after the other (moto loses reads when two
    applies run at once); returns their names."""
    _loopback(endpoint)
    envs = load_contract(contract, tf_dir).environments
    for env in envs.values():
        apply_env(tf_dir, endpoint, env)
    return list(envs)


def reset(endpoint: str) -> None:
    """Empty the moto server at ``endpoint`` (loopback only)."""
    _loopback(endpoint)
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", data=b"", method="POST")  # noqa: S310 - loopback
    urllib.request.urlopen(request, timeout=30).close()  # noqa: S310 - loopback moto server


# ----------------------------------------------------------------------------- in-process snapshots


def _backend_dicts():
    from moto.backends import get_backend, list_of_moto_modules

    for name in list_of_moto_modules():
        try:
            yield name, get_backend(name)
        except Exception:  # noqa: BLE001, S112 - a moto module whose optional dependency is missing
            continue


def snapshot() -> dict:
    """A deep copy of this process's moto state (only a server started here): restore() brings it back.
    The tests apply Terraform once per session and restore this after a test drifted the sandbox."""
    state = {}
    for name, backends in _backend_dicts():
        if not isinstance(backends, dict):
            continue
        accounts = {acct: dict(regions) for acct, regions in backends.items() if isinstance(regions, dict) and regions}
        if accounts:
            state[name] = copy.deepcopy(accounts)
    return state


def restore(state: dict) -> None:
    for name, backends in _backend_dicts():
        if not isinstance(backends, dict):
            continue
        for regions in backends.values():
            if isinstance(regions, dict):
                regions.clear()
        for acct, regions in copy.deepcopy(state.get(name, {})).items():
            for region, backend in regions.items():
                backends[acct][region] = backend


# ----------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m live_checks.sandbox", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=5555, help="port on 127.0.0.1 (default 5555; 0: a free one)")
    parser.add_argument("--tf-dir", default=str(ROOT / "terraform"))
    parser.add_argument("--contract", default=str(ROOT / "parity" / "contract.yaml"))
    args = parser.parse_args(argv)

    server, endpoint = start_server(args.port)
    try:
        envs = deploy(endpoint, args.tf_dir, args.contract)
    except SuiteError as err:
        server.stop()
        print(f"sandbox: {err}", file=sys.stderr)
        return 2
    except BaseException:
        server.stop()
        raise
    print(f"AWS endpoint: {endpoint}", flush=True)
    print(f"Deployed {', '.join(envs)} from {args.tf_dir} with terraform apply. Try:\n"
          f"  pytest -m live live_checks --aws-endpoint {endpoint} --require-live\n"
          f"  AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox aws --endpoint-url {endpoint} "
          f"--region us-east-1 ec2 describe-instances\n"
          "Stop with Ctrl-C.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
