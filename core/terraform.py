"""Real Terraform, offline, in a throwaway copy: the oracle behind the exact evaluator and the sandbox.

Nothing here touches the user's state, backend or credentials:

- the root module is copied into a temporary directory (``.terraform/``, state files and the lock
  file are left behind; ``.terraform/modules`` is kept so that remote modules resolve offline);
- an override file replaces the backend with a throwaway ``local`` one and gives the ``aws``
  provider dummy credentials and endpoints pointing at a local (moto) server;
- ``TF_CLI_CONFIG_FILE`` points provider installation at the filesystem mirror found on this
  machine, so ``terraform init`` never reaches the network.

    with Workdir(tf_dir, endpoint="http://127.0.0.1:5000") as wd:
        plan = wd.plan(workspace="staging", var_files=["staging.tfvars"])   # `terraform show -json`
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from core.errors import SuiteError

MIRROR_ENV = "CODEDETECT_TF_MIRROR"  # a provider filesystem mirror (folder holding registry.terraform.io/)
_MIRROR_CANDIDATES = ("/opt/tf-plugins", "~/.terraform.d/plugins", "/usr/share/terraform/plugins",
                      "/usr/local/share/terraform/plugins")
OVERRIDE_NAME = "zz_codedetect_suite_override.tf"
# Services the override points at the local endpoint (the aws provider's `endpoints` block keys).
ENDPOINT_SERVICES = ("acm", "autoscaling", "cloudwatch", "dynamodb", "ec2", "ecr", "ecs", "efs", "elb", "elbv2",
                     "events", "iam", "kms", "lambda", "logs", "rds", "route53", "s3", "secretsmanager", "sns",
                     "sqs", "ssm", "sts")
DUMMY_KEY = "codedetect-suite-dummy"  # not a secret: moto accepts any key


def terraform_binary() -> str | None:
    return os.environ.get("CODEDETECT_TERRAFORM") or shutil.which("terraform")


def find_mirror() -> Path | None:
    """The provider filesystem mirror that holds hashicorp/aws, or None."""
    candidates = [os.environ[MIRROR_ENV]] if os.environ.get(MIRROR_ENV) else list(_MIRROR_CANDIDATES)
    for c in candidates:
        path = Path(c).expanduser()
        if (path / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return path
    return None


def unavailable_reason() -> str | None:
    """Why the exact evaluator cannot run here (None: it can)."""
    if not terraform_binary():
        return "terraform is not on the PATH (set CODEDETECT_TERRAFORM)"
    if not find_mirror():
        return f"no provider filesystem mirror holding hashicorp/aws (set {MIRROR_ENV})"
    return None


def override_text(endpoint: str, access_key: str = DUMMY_KEY, secret_key: str = DUMMY_KEY) -> str:
    endpoints = "\n".join(f'    {s} = "{endpoint}"' for s in ENDPOINT_SERVICES)
    return f"""# Written by the codedetect suite into a throwaway copy; never into the user's repository.
terraform {{
  backend "local" {{}}
}}

provider "aws" {{
  access_key                  = "{access_key}"
  secret_key                  = "{secret_key}"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true

  endpoints {{
{endpoints}
  }}
}}
"""


def _ignore(directory: str, names: list[str]) -> set[str]:
    skip = {n for n in names if n.endswith((".tfstate", ".tfstate.backup", ".tfplan")) or n == ".terraform.lock.hcl"}
    if Path(directory).name == ".terraform":
        skip |= {n for n in names if n != "modules"}  # providers come from the mirror; modules stay
    return skip


class Workdir:
    """A temporary copy of a root module wired to a local endpoint; ``init`` runs on entry."""

    def __init__(self, tf_dir: str | os.PathLike, endpoint: str, timeout: int = 600,
                 variables_env: Mapping[str, str] | None = None, credentials: tuple[str, str] | None = None):
        """``variables_env``: values passed as ``TF_VAR_<name>`` (below every var file and ``-var`` in
        Terraform's precedence), e.g. placeholders for required variables nothing else sets.
        ``credentials``: the access key pair the provider signs with (a local moto maps keys to accounts)."""
        self.source = Path(tf_dir).resolve()
        self.endpoint = endpoint
        self.timeout = timeout
        self.variables_env = dict(variables_env or {})
        self.credentials = credentials or (DUMMY_KEY, DUMMY_KEY)
        self.tmp: Path | None = None
        self.dir: Path | None = None

    def __enter__(self) -> Workdir:
        reason = unavailable_reason()
        if reason:
            raise SuiteError(f"the exact evaluator cannot run: {reason}", path=str(self.source))
        self.tmp = Path(tempfile.mkdtemp(prefix="codedetect-tf-"))
        self.dir = self.tmp / self.source.name
        shutil.copytree(self.source, self.dir, ignore=_ignore, symlinks=False)
        (self.dir / OVERRIDE_NAME).write_text(override_text(self.endpoint, *self.credentials))
        (self.tmp / "cli.tfrc").write_text(
            f'provider_installation {{\n  filesystem_mirror {{\n    path = "{find_mirror()}"\n  }}\n}}\n')
        # local modules are installed by reference; remote ones only from a copied .terraform/modules (offline)
        get = "false" if (self.dir / ".terraform" / "modules" / "modules.json").is_file() else "true"
        self.run("init", "-input=false", "-backend=true", f"-get={get}")
        return self

    def __exit__(self, *exc) -> None:
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)

    @property
    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}  # never the user's
        tf_vars = {f"TF_VAR_{k}": v for k, v in self.variables_env.items()}
        return {**keep, **tf_vars, "TF_CLI_CONFIG_FILE": str(self.tmp / "cli.tfrc"), "TF_IN_AUTOMATION": "1",
                "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1", "AWS_EC2_METADATA_DISABLED": "true",
                "TF_DATA_DIR": str(self.dir / ".terraform")}

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([terraform_binary(), *args, "-no-color"], cwd=self.dir, env=self.env,
                              capture_output=True, text=True, timeout=self.timeout)
        if check and proc.returncode != 0:
            detail = " ".join((proc.stderr or proc.stdout).split())[:600]
            raise SuiteError(f"terraform {args[0]} failed: {detail}", path=str(self.source))
        return proc

    def select_workspace(self, workspace: str) -> None:
        if workspace == "default":
            self.run("workspace", "select", "default")
        else:
            self.run("workspace", "select", "-or-create=true", workspace)

    def _var_args(self, var_files: Sequence[str], variables: Mapping[str, str] | None) -> list[str]:
        args = [f"-var-file={(self.dir / vf).resolve() if not Path(vf).is_absolute() else vf}" for vf in var_files]
        args += [f"-var={k}={v}" for k, v in sorted((variables or {}).items())]
        return args

    def plan(self, workspace: str, var_files: Sequence[str] = (), variables: Mapping[str, str] | None = None,
             refresh: bool = False) -> dict:
        """The plan of one workspace as ``terraform show -json`` prints it."""
        self.select_workspace(workspace)
        out = f"{workspace}.tfplan"
        self.run("plan", "-input=false", "-lock=false", f"-refresh={'true' if refresh else 'false'}",
                 f"-out={out}", *self._var_args(var_files, variables))
        return json.loads(self.run("show", "-json", out).stdout)

    def apply(self, workspace: str, var_files: Sequence[str] = (), variables: Mapping[str, str] | None = None,
              *extra: str) -> subprocess.CompletedProcess:
        self.select_workspace(workspace)
        return self.run("apply", "-input=false", "-auto-approve", "-lock=false",
                        *self._var_args(var_files, variables), *extra)
