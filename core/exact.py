"""The exact evaluator: each environment's real plan, made offline by real Terraform.

    models = exact_models(tf_dir, contract.environments, plan_dir)

For every environment: a throwaway copy of the root module (``core.terraform.Workdir``: local
backend, dummy credentials, provider mirror; never the user's state, backend, credentials or
``AWS_*``/``TF_*`` environment), ``terraform plan -refresh=false`` of its workspace and var files
against one in-process moto server (data sources are read from it), ``terraform show -json``, then
``core.model.load_plan``: the same code path as ``--plan-json``. Environments are planned in
parallel, one copy each.

A variable that nothing gives a value (a secret such as ``db_password`` has no default and is in no
file) gets a deterministic placeholder through ``TF_VAR_<name>``, the lowest precedence Terraform has,
so any value the configuration or the var files give wins. Such a variable is marked sensitive in the
model: its placeholder is never printed.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from core.errors import SuiteError
from core.model import EnvModel, EnvSpec, hidden, load_plan
from core.terraform import Workdir, unavailable_reason

PLACEHOLDER = "codedetect-placeholder"  # not a secret: stands in for a value only the deployer knows


def chosen_evaluator(requested: str) -> str:
    """``--evaluator``: fast or terraform as asked; auto is terraform when it can run here, else fast."""
    if requested == "auto":
        return "terraform" if unavailable_reason() is None else "fast"
    return requested


def required_variables(tf_dir: str | os.PathLike) -> dict[str, str]:
    """Root-module variables without a default -> a placeholder of their type, as HCL (``TF_VAR_`` syntax)."""
    import hcl2
    from hcl2 import SerializationOptions

    out: dict[str, str] = {}
    for tf in sorted(Path(tf_dir).glob("*.tf")):
        try:
            doc = hcl2.loads(tf.read_text(), serialization_options=SerializationOptions(strip_string_quotes=True))
        except Exception:  # noqa: BLE001, S112 - Terraform itself reports the syntax error with its line
            continue
        for block in doc.get("variable", []):
            for name, body in block.items():
                if isinstance(body, dict) and "default" not in body:
                    out[name] = _placeholder(name, str(body.get("type", "string")))
    return out


def _placeholder(name: str, type_expr: str) -> str:
    kind = type_expr.strip("${}").split("(")[0].strip()
    return {"number": "0", "bool": "false", "list": "[]", "set": "[]", "tuple": "[]", "map": "{}",
            "object": "{}"}.get(kind, f"{PLACEHOLDER}-{name}")


@contextmanager
def moto_endpoint() -> Iterator[str]:
    """An in-process moto server on a free loopback port, for the data sources Terraform reads."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log lines in the gate's output
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{server._server.server_port}"
    finally:
        server.stop()


def _inputs_key(tf_dir: Path, env: EnvSpec) -> str:
    """What a plan of ``env`` depends on: every file Terraform reads (var files other environments use are
    left out only if not auto-loaded), the workspace and the var files. Equal keys give equal plans."""
    import hashlib

    h = hashlib.sha256(f"{env.workspace}\0{list(env.var_files)}\0".encode())
    for path in sorted(p for p in tf_dir.rglob("*") if p.is_file() and ".terraform" not in p.parts):
        name = path.relative_to(tf_dir).as_posix()
        auto = name.endswith((".tf", ".tf.json")) or name in ("terraform.tfvars", "terraform.tfvars.json") or \
            name.endswith((".auto.tfvars", ".auto.tfvars.json")) or "/" in name
        if auto or name in env.var_files:
            h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _sync(source: Path, target: Path) -> None:
    """Make an initialised copy hold another variant of the same root module (same providers and modules)."""
    import shutil

    from core.terraform import OVERRIDE_NAME, _ignore

    for old in target.iterdir():
        ours = old.name in (OVERRIDE_NAME, ".terraform.lock.hcl") or old.name.endswith(".tfplan")  # init/plan's
        if old.is_file() and not ours and not (source / old.name).exists():
            old.unlink()
    shutil.copytree(source, target, ignore=_ignore, dirs_exist_ok=True)


def plan_variants(variants: list[tuple[Path, EnvSpec]], endpoint: str, placeholders: Mapping[str, str],
                  jobs: int) -> list[dict]:
    """Real plans of many (root module directory, environment) pairs, in order.

    Pairs whose inputs are identical are planned once; ``jobs`` worker threads each initialise one
    throwaway copy (``Workdir``) and re-point it at each variant they plan (variants must share providers
    and modules, as mutated copies of one root module do)."""
    import queue
    import threading

    keys = [_inputs_key(d, e) for d, e in variants]
    todo: queue.Queue = queue.Queue()
    first: dict[str, tuple[Path, EnvSpec]] = {}
    for key, pair in zip(keys, variants, strict=True):
        if key not in first:
            first[key] = pair
            todo.put(key)
    plans: dict[str, dict] = {}
    errors: list[BaseException] = []

    def worker() -> None:
        wd = None
        try:
            while True:
                try:
                    key = todo.get_nowait()
                except queue.Empty:
                    return
                tf_dir, env = first[key]
                if wd is None:
                    wd = Workdir(tf_dir, endpoint, variables_env=placeholders).__enter__()
                else:
                    _sync(Path(tf_dir), wd.dir)
                plans[key] = wd.plan(env.workspace, env.var_files)
        except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(err)
        finally:
            if wd is not None:
                wd.__exit__(None, None, None)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, min(jobs, len(first))))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    return [plans[k] for k in keys]


def exact_models(tf_dir: str | os.PathLike, envs: Mapping[str, EnvSpec], plan_dir: str | os.PathLike,
                 jobs: int | None = None) -> dict[str, EnvModel]:
    """Every environment's model from its real plan (plans written to ``plan_dir/<env>.plan.json``)."""
    return exact_models_of([(tf_dir, envs)], plan_dir, jobs)[0]


def exact_models_of(roots: list[tuple[str | os.PathLike, Mapping[str, EnvSpec]]], plan_dir: str | os.PathLike,
                    jobs: int | None = None) -> list[dict[str, EnvModel]]:
    """``exact_models`` for several variants of one root module at once (mutated copies), planned in parallel
    with initialised copies reused and identical inputs planned once."""
    reason = unavailable_reason()
    if reason:
        raise SuiteError(f"--evaluator terraform cannot run: {reason}", path=str(roots[0][0]),
                         hint="install Terraform and the aws provider mirror, or use --evaluator fast")
    plan_dir = Path(plan_dir)
    pairs: list[tuple[Path, EnvSpec]] = []
    for tf_dir, envs in roots:
        tf_dir = Path(tf_dir).resolve()
        for env in envs.values():
            for var_file in env.var_files:
                if not (tf_dir / var_file).is_file():
                    raise SuiteError(f"var file of environment {env.name!r} does not exist",
                                     path=str(tf_dir / var_file), hint="create it or fix var_files in the contract")
            pairs.append((tf_dir, env))
    placeholders = required_variables(roots[0][0])
    with moto_endpoint() as endpoint:
        docs = plan_variants(pairs, endpoint, placeholders, jobs or max(1, os.cpu_count() or 1))
    out: list[dict[str, EnvModel]] = []
    i = 0
    for n, (tf_dir, envs) in enumerate(roots):
        tf_dir = Path(tf_dir).resolve()
        models = {}
        for name, env in envs.items():
            path = plan_dir / (f"{name}.plan.json" if len(roots) == 1 else f"{n}-{name}.plan.json")
            path.write_text(json.dumps(docs[i], sort_keys=True))
            i += 1
            spec = replace(env, plan_json=str(path))  # checkov reads the real plan too
            model = load_plan(path, spec, tf_dir=tf_dir, source=f"terraform:{tf_dir}")
            models[name] = _mark_placeholders(model, placeholders)
        out.append(models)
    return out


def _mark_placeholders(model: EnvModel, placeholders: Mapping[str, str]) -> EnvModel:
    """Variables that got a placeholder are sensitive in the model: the placeholder is never shown."""
    variables = dict(model.variables)
    for name, text in placeholders.items():
        v = variables.get(name)
        value = text if text.startswith(PLACEHOLDER) else json.loads(text)
        if v is not None and not v.sensitive and v.value == value:
            variables[name] = replace(v, value=hidden(v.value), sensitive=True)
    return replace(model, variables=variables)
