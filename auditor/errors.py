"""Errors that end a run with a documented exit code and a one-line message."""

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INPUT = 2
EXIT_ENGINE = 3


class AuditorError(Exception):
    """Base error: its message is printed on one line, never with a traceback."""

    exit_code = EXIT_INPUT


class InputError(AuditorError):
    """Bad usage or bad input (exit 2)."""

    exit_code = EXIT_INPUT


class ValidationFailed(InputError):
    """One or more schema errors; each line names file, line and JSON pointer."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__(errors[0] if errors else "validation failed")


class EngineError(AuditorError):
    """OPA missing, unreachable, refusing us, or failing to compile/evaluate (exit 3)."""

    exit_code = EXIT_ENGINE
