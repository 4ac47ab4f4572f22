"""The exception tree. Every error a person sees says what went wrong, where, and how to fix it.

    InterditError
    ├── ConfigError          settings, database URL, sources
    ├── CatalogueError       the shipped catalogue is malformed (a packaging bug)
    ├── PolicyError          policy.yaml: carries file, line and a fix
    ├── InputError           an input file or record cannot be read at all
    ├── StorageError         the database refused (migration missing, locked, ...)
    ├── AnalysisError        an APK could not be analysed
    └── EnforcementError     a payload could not be built or pushed
        └── OptionError      an --option the target does not declare, of the wrong kind, or that does not apply
"""

from __future__ import annotations


class InterditError(Exception):
    """Base of every error interdit raises on purpose. `exit_code` is what the CLI returns."""

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.message = message
        self.where = where
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


class ConfigError(InterditError):
    pass


class CatalogueError(InterditError):
    pass


class PolicyError(InterditError):
    """A policy problem. `problems` holds every problem found, not only the first."""

    def __init__(self, message: str, *, where: str | None = None, fix: str | None = None,
                 problems: list[PolicyError] | None = None) -> None:
        self.problems = problems or []
        super().__init__(message, where=where, fix=fix)

    def __str__(self) -> str:
        if not self.problems:
            return super().__str__()
        return "\n".join(str(p) for p in self.problems)


class InputError(InterditError):
    pass


class StorageError(InterditError):
    pass


class AnalysisError(InterditError):
    pass


class EnforcementError(InterditError):
    pass


class OptionError(EnforcementError):
    pass
