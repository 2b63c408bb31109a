"""README.md: its commands work when pasted in order into a fresh shell, with the install each section documents.

Every command of the README's bash blocks is read; each `mnist-edge ...` and
`python -m ...` one must reach its subcommand's `--help` in a fresh interpreter
where only the documented extras are importable (the others are blocked), and
every option it uses must be one that subcommand has.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

import mnist_edge
from bench.cli import BENCHMARKS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
ACTIVATE = "source .venv/bin/activate"
# The import name of each distribution whose absence --help must survive (the heavy or optional ones).
MODULE_OF = {"tensorflow-cpu": "tensorflow", "tensorflow": "tensorflow", "keras": "keras", "tf2onnx": "tf2onnx",
             "onnx": "onnx", "tflite-micro": "tflite_micro", "tqdm": "tqdm", "matplotlib": "matplotlib",
             "ai-edge-litert": "ai_edge_litert", "onnxruntime": "onnxruntime", "opencv-python-headless": "cv2"}
BASE_EXTRA = "runtime"  # the first set-up command's install: what every section starts from


def _extras() -> dict[str, set[str]]:
    """pyproject.toml's extras -> the optional modules each makes importable (self-references followed)."""
    text = (ROOT / "pyproject.toml").read_text()
    block = text[text.index("[project.optional-dependencies]"):text.index("[project.scripts]")]
    raw = {name: re.findall(r'"([^"]+)"', body) for name, body in re.findall(r"^(\w+) = \[(.*?)^\]", block, re.S | re.M)}

    def modules(extra: str) -> set[str]:
        out = set()
        for requirement in raw[extra]:
            nested = re.match(r"mnist-edge\[(.*)\]", requirement)
            if nested:
                out |= set().union(*(modules(e) for e in nested.group(1).split(",")))
                continue
            dist = re.split(r"[=<>;\s\[]", requirement)[0]
            if dist in MODULE_OF:
                out.add(MODULE_OF[dist])
        return out

    return {name: modules(name) for name in raw}


EXTRAS = _extras()


def _sections() -> list[tuple[str, list[str]]]:
    """(heading, the commands of its bash blocks in order): comments dropped, `a && b` split."""
    out = []
    for part in re.split(r"^## ", README, flags=re.M)[1:]:
        heading = part.splitlines()[0]
        commands = []
        for block in re.findall(r"```bash\n(.*?)```", part, re.S):
            for line in block.splitlines():
                line = re.sub(r"\s+#.*$", "", line).strip()
                if line and not line.startswith("#"):
                    commands += [c.strip() for c in line.split("&&")]
        out.append((heading, commands))
    return out


SECTIONS = _sections()

HELP_COMMANDS = ([[name] for name in mnist_edge.SUBCOMMANDS] + [["bench", name] for name in BENCHMARKS]
                 + [["-m", package] for package in ("train", "export", "runtime", "camera_demo", "bench")])


def _cli_commands() -> list[tuple[str, str, frozenset]]:
    """(section, command, extras installed when it runs) for every mnist-edge / python -m command of ours."""
    out = []
    for heading, commands in SECTIONS:
        extras = {BASE_EXTRA}
        for command in commands:
            words = shlex.split(command)
            program = Path(words[0]).name
            if program == "pip" or words[1:3] == ["pip", "install"]:
                extras |= {m.group(1) for m in re.finditer(r"\.\[(\w+)\]", command)}
            elif program == "mnist-edge" or (program == "python" and words[1] == "-m" and words[2] != "pytest"):
                out.append((heading, command, frozenset(extras)))
    return out


def _help_argv(words: list[str]) -> tuple[list[str], list[str]]:
    """(how to ask the command for --help, the options it uses)."""
    options = [w.split("=")[0] for w in words if w.startswith("--")]
    if Path(words[0]).name == "python":
        return ["-m", words[2], "--help"], options
    args = words[1:]
    if args and args[0] in mnist_edge.ALIASES:
        args = mnist_edge.ALIASES[args[0]] + args[1:]
    depth = 2 if args[:1] == ["bench"] and len(args) > 1 and not args[1].startswith("-") else 1
    return args[:depth] + ["--help"], options


HELP_CHILD = """
import contextlib, importlib.abc, io, json, runpy, sys
blocked, argvs = json.loads(sys.stdin.read())
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Block())
import mnist_edge
results = []
for argv in argvs:
    out, err, code = io.StringIO(), io.StringIO(), None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            if argv[0] == "-m":
                sys.argv = [argv[1]] + argv[2:]
                runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
            else:
                code = mnist_edge.main(argv)
        except SystemExit as stop:
            code = stop.code
        except BaseException:
            import traceback
            traceback.print_exc()
            code = "traceback"
    results.append([code or 0, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


@lru_cache(maxsize=None)
def _help_of_all(available: frozenset) -> dict:
    """Every --help the tests ask for, run in ONE fresh interpreter where the modules not in `available` are blocked."""
    argvs = sorted({tuple(_help_argv(shlex.split(c))[0]) for _, c, e in _cli_commands()
                    if frozenset().union(*(EXTRAS[x] for x in e)) == available} | {tuple(a + ["--help"]) for a in HELP_COMMANDS})
    blocked = sorted(set(MODULE_OF.values()) - available)
    proc = subprocess.run([sys.executable, "-c", HELP_CHILD], input=json.dumps([blocked, argvs]), capture_output=True,
                          text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {argv: subprocess.CompletedProcess(list(argv), *result) for argv, result in zip(argvs, json.loads(proc.stdout))}


def _run_help(argv: tuple[str, ...], available: frozenset) -> subprocess.CompletedProcess:
    return _help_of_all(available)[argv]


def test_the_readme_has_commands_of_every_kind():
    found = {Path(shlex.split(c)[0]).name for _, c, _ in _cli_commands()}
    assert {"mnist-edge", "python"} <= found
    assert len(_cli_commands()) >= 20


def test_commands_run_in_the_venv_in_a_fresh_shell():
    """Bare mnist-edge / python / pip only after `source .venv/bin/activate`; before it, the venv's paths."""
    activated = False
    for heading, commands in SECTIONS:
        for command in commands:
            if command == ACTIVATE:
                activated = True
                continue
            program = shlex.split(command)[0]
            if program in ("mnist-edge", "python", "pip"):
                assert activated, f"## {heading}: `{command}` runs before `{ACTIVATE}`: not found, or the system's"
    assert activated


@pytest.mark.parametrize("heading, command, extras", _cli_commands(), ids=lambda v: v if isinstance(v, str) else "")
def test_command_parses_with_the_documented_install(heading, command, extras):
    words = shlex.split(command)
    if Path(words[0]).name == "mnist-edge":
        assert words[1] in mnist_edge.SUBCOMMANDS or words[1] in mnist_edge.ALIASES, f"no such command: {command}"
    help_argv, options = _help_argv(words)
    if help_argv[0] == "bench" and len(help_argv) == 3:
        assert help_argv[1] in BENCHMARKS, f"no such benchmark: {command}"
    available = frozenset().union(*(EXTRAS[e] for e in extras))
    proc = _run_help(tuple(help_argv), available)
    assert proc.returncode == 0, f"## {heading}: `{' '.join(help_argv)}` with .[{','.join(sorted(extras))}]:\n{proc.stderr[-1500:]}"
    assert "Traceback" not in proc.stderr
    unknown = [o for o in options if o not in proc.stdout]
    assert not unknown, f"## {heading}: `{command}` uses options its --help does not list: {unknown}"


def test_inline_commands_exist():
    """`mnist-edge X` named in the prose is a real subcommand too."""
    for name in re.findall(r"`mnist-edge ([a-z][a-z0-9-]*)", README):
        assert name in mnist_edge.SUBCOMMANDS or name in mnist_edge.ALIASES, name



@pytest.mark.parametrize("argv", HELP_COMMANDS, ids=" ".join)
def test_help_works_on_a_device_install(argv):
    """--help of every command with only the runtime extra (a Pi): argparse is built before TensorFlow is imported."""
    proc = _run_help(tuple(argv + ["--help"]), frozenset(EXTRAS[BASE_EXTRA]))
    assert proc.returncode == 0 and "usage:" in proc.stdout, proc.stderr[-1500:]


def _table_widths(text: str) -> list[tuple[int, int, int]]:
    """(line number, header cells, separator cells) of each Markdown table in a text."""
    lines = text.splitlines()
    cells = lambda line: line.strip().strip("|").count("|") + 1  # noqa: E731
    return [(n + 2, cells(head), cells(sep)) for n, (head, sep) in enumerate(zip(lines, lines[1:]))
            if head.startswith("|") and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", sep.strip())]


@pytest.mark.parametrize("path", ["README.md", *sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("*/*.md")
                                                     if not p.parent.name.startswith("."))])
def test_every_table_has_as_many_columns_as_its_header(path):
    """A separator row with a column too many or too few mangles the table on GitHub (fresh-clone review:
    the README's parity table had 10 separator cells under 9 headings)."""
    tables = _table_widths((ROOT / path).read_text())
    assert [(line, head, sep) for line, head, sep in tables if head != sep] == []
