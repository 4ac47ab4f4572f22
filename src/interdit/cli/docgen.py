"""Write the CLI reference (docs/cli.md) from the CLI itself: `make docs`.

It reads the commands' parameters and help texts, so the reference cannot drift from the CLI (a test
compares them).
"""

from __future__ import annotations

import inspect
from enum import Enum
from typing import Any

import typer

from interdit.cli.main import app

# typer builds click objects (its own vendored copy in recent releases), so they are read by duck typing.


def _choices(p: Any) -> list[str]:
    """The values a parameter accepts, when it is a choice (an Enum in typer's declaration)."""
    click_type = getattr(p, "type", None)
    if click_type is not None:
        return [str(c) for c in getattr(click_type, "choices", None) or ()]
    descriptor = getattr(p, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", None)
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, Enum):
            return [str(m.value) for m in candidate]
    return []


def _param_row(p: Any) -> str:
    is_option = getattr(p, "param_type_name", "") == "option"
    argument = getattr(p, "human_readable_name", None) or p.metavar or str(p.name).upper()
    names = ", ".join(f"`{n}`" for n in p.opts) if is_option else f"`{argument}`"
    help_text = getattr(p, "help", None) or ""
    choices = _choices(p)
    if choices:
        help_text += (" " if help_text else "") + "One of: " + ", ".join(f"`{c}`" for c in choices) + "."
    default = p.default if not callable(p.default) else None
    default = default.value if isinstance(default, Enum) else default
    if is_option and default not in (None, False, (), []) and not p.is_flag:
        help_text += f" Default: `{default}`."
    return f"| {names} | {' '.join(help_text.split())} |"


def _walk(cmd: Any, path: list[str]) -> list[str]:
    name = " ".join(path)
    lines = [f"## `{name}`", ""]
    doc = inspect.cleandoc(cmd.help or "")
    if doc:
        lines += [doc, ""]
    params = [p for p in cmd.params if p.name not in ("help",) and not getattr(p, "hidden", False)]
    if params:
        lines += ["| parameter | meaning |", "|---|---|", *(_param_row(p) for p in params), ""]
    if hasattr(cmd, "list_commands"):
        ctx = cmd.context_class(cmd, info_name=name)
        for sub in cmd.list_commands(ctx):
            child = cmd.get_command(ctx, sub)
            if child is not None and not child.hidden:
                lines += _walk(child, [*path, sub])
    return lines


def render() -> str:
    root = typer.main.get_command(app)
    head = ["# Command-line reference", "",
            "Generated from the CLI by `make docs`; `interdit COMMAND --help` prints the same.", ""]
    return "\n".join(head + _walk(root, ["interdit"])) + "\n"


if __name__ == "__main__":
    print(render(), end="")
