"""Reading a text file the user named: its content, or one input error line naming it (exit 2)."""

from __future__ import annotations

from pathlib import Path

from auditor.errors import InputError


def read_user_text(path: str, label: str | None = None, not_text: str | None = None) -> str:
    """UTF-8 text of path; `label` names it in errors (e.g. `--opa-url @FILE`), `not_text` replaces the decoder's
    own message for a file that is not UTF-8."""
    where = label or path
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{where}: no such file") from None
    except OSError as exc:
        raise InputError(f"{where}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{where}: {not_text or f'cannot read: {exc}'}") from None
