"""Where each requested format goes: `--format X -o FILE` pairs, or `--output-dir DIR`."""

from __future__ import annotations

from pathlib import Path

from auditor.errors import InputError

EXTENSIONS = {"table": "txt", "json": "json", "sarif": "sarif", "junit": "xml", "markdown": "md", "html": "html"}


def plan_outputs(formats: tuple[str, ...], outputs: tuple[str, ...], output_dir: str | None,
                 known: set[str] | dict, stem: str = "token-auditor") -> list[tuple[str, str | None]]:
    """[(format, path or None for stdout)] in the order given; at most one format goes to stdout."""
    formats = tuple(dict.fromkeys(formats or ("table",)))
    unknown = [f for f in formats if f not in known]
    if unknown:
        raise InputError(f"unknown format {unknown[0]!r}; known: {', '.join(sorted(known))}")
    if output_dir:
        if outputs:
            raise InputError("--output-dir and -o/--output exclude each other")
        return [(f, str(Path(output_dir) / f"{stem}.{EXTENSIONS.get(f, f)}")) for f in formats]
    if len(formats) == 1:
        if len(outputs) > 1:
            raise InputError(f"{len(outputs)} -o/--output values for one --format")
        return [(formats[0], outputs[0] if outputs else None)]
    if len(outputs) != len(formats):
        raise InputError(f"{len(formats)} formats need {len(formats)} -o/--output values "
                         f"(one per --format, in order) or --output-dir; got {len(outputs)}")
    if sum(1 for o in outputs if o == "-") > 1:
        raise InputError("only one format can go to stdout (-o -)")
    return list(zip(formats, outputs))
