"""The commands CI runs must be ones README.md documents.

README.md's ```bash / ```sh / ```shell / ```console blocks document commands; a workflow ``run:`` step
or a pre-commit hook ``entry`` that invokes make, pytest or python must be one of them (compared as
shell words, so quoting and spacing do not matter). ``${{ matrix.X }}`` is expanded with the job's
matrix values; any other expression must appear literally in the README.
"""

from __future__ import annotations

import itertools
import re
import shlex
from pathlib import Path

RUNNERS = re.compile(r"^(make|pytest|python(3(\.\d+)?)?)$")
FENCE = re.compile(r"^```[ \t]*(bash|sh|shell|console)\b[^\n]*\n(.*?)^```", re.M | re.S)
MATRIX = re.compile(r"\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}")
SEPARATORS = {"&&", "||", ";", "|", "&"}


def split_commands(script: str, prompt: bool = False) -> list[tuple[str, ...]]:
    """Shell words of each simple command in a script (comments dropped, continuations joined)."""
    text = script.replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if prompt:  # console blocks: only prompted lines are commands
            if not line.startswith("$ "):
                continue
            line = line[2:]
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        try:
            words = list(lexer)
        except ValueError:  # unbalanced quotes: keep the line whole so it cannot match by accident
            words = [line]
        current: list[str] = []
        for w in [*words, ";"]:
            if w in SEPARATORS:
                if current:
                    out.append(tuple(current))
                current = []
            else:
                current.append(w)
    return out


def invokes_runner(words: tuple[str, ...]) -> bool:
    """make/pytest/python (any path, e.g. .venv/bin/python), after VAR=value assignments."""
    for w in words:
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w):
            continue
        return bool(RUNNERS.match(Path(w).name))
    return False


def readme_commands(readme: str) -> set[tuple[str, ...]]:
    commands = set()
    for lang, body in FENCE.findall(readme):
        commands |= {c for c in split_commands(body, prompt=lang == "console") if invokes_runner(c)}
    return commands


def _matrix_values(job: dict) -> list[dict[str, str]]:
    matrix = ((job.get("strategy") or {}).get("matrix")) or {}
    if not isinstance(matrix, dict):
        return [{}]
    axes = {k: v for k, v in matrix.items() if isinstance(v, list)}
    combos = [dict(zip(axes, values, strict=True)) for values in itertools.product(*axes.values())]
    combos += [{k: str(v) for k, v in inc.items()} for inc in matrix.get("include") or [] if isinstance(inc, dict)]
    return combos or [{}]


def workflow_commands(workflow: dict) -> list[tuple[str, str, tuple[str, ...]]]:
    """(job id, step name, words) of every make/pytest/python command the workflow runs."""
    found = []
    for job_id, job in (workflow.get("jobs") or {}).items():
        for step in job.get("steps") or []:
            script = step.get("run")
            if not script:
                continue
            for values in _matrix_values(job):
                rendered = MATRIX.sub(lambda m, v=values: str(v.get(m.group(1), m.group(0))), script)
                for words in split_commands(rendered):
                    if invokes_runner(words) and (job_id, step.get("name", ""), words) not in found:
                        found.append((job_id, step.get("name", ""), words))
    return found


def precommit_commands(config: dict) -> list[tuple[str, tuple[str, ...]]]:
    return [(hook["id"], words) for repo in config.get("repos") or [] for hook in repo.get("hooks") or []
            for words in split_commands(hook.get("entry", "")) if invokes_runner(words)]


def undocumented(commands, documented: set[tuple[str, ...]]) -> list[str]:
    return [f"{' / '.join(where)}: {shlex.join(words)}" for *where, words in commands if words not in documented]
