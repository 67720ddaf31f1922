"""The document's prose as part of the contract: each claim (contract ``claims:``) checked against the model, and
every candidate claim of the document (inline code, commands) that no claim covers reported.

A claim is anchored to the document's line; when the document moves or rewords it, the claim fails and says where
the text is now. Claims of kind ``ignore`` say why a candidate is not about the Terraform (``make gate``).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from core.contract import Claim, Contract
from core.findings import Finding, Status
from core.model import EnvModel
from parity.checks import _MISSING, resolve
from parity.document import candidates
from parity.engine import entries, rel


def claim_id(claim: Claim) -> str:
    return f"{claim.text} @{claim.line}"


def _lines(doc_path: str | Path) -> list[str]:
    return Path(doc_path).read_text().splitlines()


def _fail(claim: Claim, doc: str, env: str, message: str, resource: str = "", attribute: str = "",
          expected=None, actual=None, where: str = "") -> Finding:
    tf = f" (Terraform: {where})" if where else ""
    return Finding(check=claim_id(claim), kind="document", status=Status.FAIL, env=env, resource=resource,
                   attribute=attribute, expected=expected, actual=actual, file=rel(".", doc), line=claim.line,
                   message=message + tf)


def _at(model: EnvModel, r) -> str:
    return f"{rel(model.root, r.file)}:{r.line}"


def _command_parts(text: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """(-var-file values, -var names, workspaces selected, outputs read) of a documented command line."""
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    var_files, var_names, workspaces, outputs = [], [], [], []
    for i, w in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w.startswith("-var-file="):
            var_files.append(w.split("=", 1)[1])
        elif w == "-var-file" and nxt:
            var_files.append(nxt)
        elif w.startswith("-var="):
            var_names.append(w.split("=", 2)[1])
        elif w == "-var" and nxt:
            var_names.append(nxt.split("=", 1)[0])
        elif w == "workspace" and nxt in ("select", "new") and i + 2 < len(words):
            workspaces.append(words[i + 2])
        elif w == "output" and nxt and not nxt.startswith("-"):
            outputs.append(nxt)
        m = re.match(r"^TF_VAR_(\w+)=?", w)
        if m:
            var_names.append(m.group(1))
    return var_files, var_names, workspaces, outputs


def _declared(model: EnvModel, name: str) -> bool:
    """A variable the root module declares: in the model, or (a model read from a plan lists only the variables
    the plan was given) in the root module's source."""
    if name in model.variables:
        return True
    pattern = re.compile(rf'^\s*variable\s+"{re.escape(name)}"', re.M)
    return any(pattern.search(tf.read_text()) for tf in sorted(Path(model.root).glob("*.tf")))


def _is_applying(text: str) -> bool:
    return bool(re.search(r"\bterraform\s+(?:-chdir=\S+\s+)?(plan|apply|destroy)\b", text))


def _var_file_matches(given: str, declared: str) -> bool:
    return given == declared or given.endswith("/" + declared) or Path(given).name == Path(declared).name


def check_claim(claim: Claim, contract: Contract, models: dict[str, EnvModel], doc: str,
                project=None) -> list[Finding]:
    """Every failing finding of one claim (empty: it holds), PASS findings included for the record."""
    lines = _lines(doc)
    said = lines[claim.line - 1] if 0 < claim.line <= len(lines) else ""
    if claim.text not in said:
        now = [n for n, line in enumerate(lines, 1) if claim.text in line]
        where = f"it is at line {', '.join(map(str, now))} now" if now else "the document no longer says it"
        return [_fail(claim, doc, "", f"the claim is anchored at line {claim.line}, which does not say "
                      f"{claim.text!r}: {where}; update the claim's line in {rel('.', contract.path)}",
                      expected=claim.text, actual=said.strip())]
    if claim.kind == "ignore":
        return [Finding(check=claim_id(claim), kind="document", status=Status.PASS, env="", file=rel(".", doc),
                        line=claim.line, message=f"not about the Terraform: {claim.why}")]
    envs = [e for e in (claim.envs or tuple(models)) if e in models]
    if not envs:
        return [Finding(check=claim_id(claim), kind="document", status=Status.PASS, env="", file=rel(".", doc),
                        line=claim.line, message=f"not checked in this run: it is about {', '.join(claim.envs)}")]
    out: list[Finding] = []
    for env in envs:
        out += _check_in(claim, models[env], doc, project, contract)
    if not out:
        out.append(Finding(check=claim_id(claim), kind="document", status=Status.PASS, env=",".join(envs),
                           file=rel(".", doc), line=claim.line, message=f"{claim.kind} holds"))
    return out


def _check_in(claim: Claim, model: EnvModel, doc: str, project, contract: Contract) -> list[Finding]:
    text, env = claim.text, model.name
    if claim.kind == "log_group":
        groups = model.of_type("aws_cloudwatch_log_group")
        if any(g.values.get("name") == text for g in groups):
            return []
        return [_fail(claim, doc, env, f"the document names log group {text!r}; {env} declares no such log group",
                      "aws_cloudwatch_log_group", "name", text, sorted(str(g.values.get("name")) for g in groups),
                      ", ".join(_at(model, g) for g in groups))]
    if claim.kind == "alarm_prefix":
        alarms = model.of_type("aws_cloudwatch_metric_alarm", "aws_cloudwatch_composite_alarm")
        if not alarms:
            return [_fail(claim, doc, env, f"the document says alarm names start with {text!r}; {env} has no alarm",
                          "aws_cloudwatch_metric_alarm", "alarm_name", f"{text} ...", "(no alarm)")]
        return [_fail(claim, doc, env, f"the document says alarm names start with {text!r}", a.address, "alarm_name",
                      f"{text} ...", a.values.get("alarm_name"), _at(model, a))
                for a in alarms if not str(a.values.get("alarm_name", "")).startswith(text)]
    if claim.kind == "tag":
        from policies.tagging import tags_all, takes_tags

        key, sep, value = text.partition("=")
        out = []
        for r in sorted(model.managed().values(), key=lambda r: r.address):
            if not takes_tags(r.type, project):
                continue
            tags = tags_all(r, model)
            got = tags.get(key) if isinstance(tags, dict) else tags
            if (sep and got != value) or (not sep and not got):
                out.append(_fail(claim, doc, env, f"the document says resources are tagged {text!r}", r.address,
                                 f"tags_all.{key}", value if sep else "(any non-empty value)", got, _at(model, r)))
        return out[:5]  # the first few: CKV_CD_1 lists them all
    if claim.kind == "workspace":
        ok = model.env.workspace == text
        return [] if ok else [_fail(claim, doc, env, f"the document says {env}'s workspace is {text!r}",
                                    f"environments.{env}", "workspace", text, model.env.workspace)]
    if claim.kind == "var_file":
        ok = any(_var_file_matches(text, vf) for vf in model.env.var_files)
        return [] if ok else [_fail(claim, doc, env, f"the document says {env} uses var file {text!r}",
                                    f"environments.{env}", "var_files", text, list(model.env.var_files))]
    if claim.kind == "output":
        name = text.split()[-1]
        return [] if name in model.outputs else [_fail(claim, doc, env, f"the document tells people to read "
                                                       f"output {name!r}; {env} declares no such output",
                                                       f"output.{name}", "", name, sorted(model.outputs))]
    if claim.kind == "variable":
        name = re.sub(r"^TF_VAR_", "", text).split("=")[0]
        return [] if _declared(model, name) else [_fail(claim, doc, env, f"the document names variable {name!r}; "
                                                         f"{env} declares no such variable", f"var.{name}", "",
                                                         name, "(not declared)")]
    if claim.kind == "value":
        ents = entries(model, contract)
        got = resolve(ents.get(claim.address, {}), claim.attribute or "value") if claim.address in ents else _MISSING
        got = "(no such resource or attribute)" if got is _MISSING else got
        return [] if str(got) == text else [_fail(claim, doc, env, f"the document says {text!r}", claim.address,
                                                  claim.attribute, text, got)]
    if claim.kind == "command":
        var_files, var_names, workspaces, outputs = _command_parts(text)
        out = []
        if _is_applying(text) and claim.envs:
            declared = list(model.env.var_files)
            if len(var_files) != len(declared) or not all(_var_file_matches(g, d) for g, d in
                                                          zip(var_files, declared, strict=False)):
                out.append(_fail(claim, doc, env, f"the document's command for {env} passes var files {var_files}, "
                                 f"the contract's {env} uses {declared}", f"environments.{env}", "var_files",
                                 declared, var_files))
        for name in var_names:
            if not _declared(model, name):
                out.append(_fail(claim, doc, env, f"the document's command sets variable {name!r}, which {env} "
                                 "does not declare", f"var.{name}", "", name, "(not declared)"))
        for ws in workspaces:
            if ws != model.env.workspace:
                out.append(_fail(claim, doc, env, f"the document's command selects workspace {ws!r}",
                                 f"environments.{env}", "workspace", ws, model.env.workspace))
        for name in outputs:
            if name not in model.outputs:
                out.append(_fail(claim, doc, env, f"the document's command reads output {name!r}, which {env} "
                                 "does not declare", f"output.{name}", "", name, sorted(model.outputs)))
        if not (var_files or var_names or workspaces or outputs or (_is_applying(text) and claim.envs)):
            out.append(_fail(claim, doc, env, "nothing in this command can be checked against the Terraform: claim "
                             "it as kind ignore with a reason, or name the environments it applies to"))
        return out
    return []


def uncovered(contract: Contract, doc: str) -> list[Finding]:
    """A finding per candidate claim of the document (inline code, command) that no claim of the contract covers."""
    covered = {(c.text, c.line) for c in contract.claims}
    out = []
    for text, line in candidates(doc):
        if (text, line) in covered:
            continue
        out.append(Finding(check="document claims", kind="document", status=Status.FAIL, env="", attribute=text,
                           file=rel(".", doc), line=line,
                           message=f"the document says `{text}` here and no claim of {rel('.', contract.path)} covers "
                           "it: add a claim (log_group, alarm_prefix, tag, workspace, var_file, output, variable, "
                           "command, value) or one of kind ignore with a reason"))
    return out
