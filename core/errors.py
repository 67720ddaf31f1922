"""The one exception type for bad input: a one-line message naming file, line and fix."""

from __future__ import annotations


class SuiteError(Exception):
    """Bad input (Terraform, tfvars, contract, plan JSON, document).

    ``str()`` is one line: ``path:line: what is wrong; what to do``.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None, hint: str = ""):
        self.path = path
        self.line = line
        self.message = message
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        text = f"{where}{self.message}"
        if self.hint:
            text += f"; {self.hint}"
        return " ".join(text.split())
