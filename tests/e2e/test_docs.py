"""The docs cannot drift from the code.

Every `modelops` line of a code block in docs/cli.md and README.md is run against a sandbox of
this test's own, in the order the pages show them (docs/cli.md is one session, top to bottom;
then the README's commands that docs/cli.md does not show). Each must succeed or, where the line
after it reads `# fails: TEXT`, fail printing TEXT (a trailing "…" shortens it).
`modelops sandbox` and `modelops serve` are started in the background on free ports, and the
others pointed at them; each of the others runs in a process of its own, forked from one that
imported the CLI once (tests/forked_cli.py saves each command 1.5 s of imports).

The sandbox is not the session's shared one: the docs start from an empty sandbox, as a reader
does, and their version numbers and one-model defaults would otherwise depend on which other
modules ran first on the worker.

The quick checks beside it: every command shown parses, docs/cli.md shows every command of the
parser, every YAML block is a valid part of a spec (or, tagged with a file, an excerpt of it),
the README stays a front page, every relative link resolves, and every repository path the docs
name exists.
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from modelops_dev.cli.parser import build_parser
from modelops_dev.sandbox import PROJECT_ROOT
from tests.forked_cli import forked_cli
from tests.helpers import HYMOD_DATA, cli_environment, free_port

README = PROJECT_ROOT / "README.md"
CLI_DOC = PROJECT_ROOT / "docs" / "cli.md"
PAGES = sorted([README, *(PROJECT_ROOT / "docs").glob("*.md")])
# Commands that serve until stopped: started in the background, ready when they print this.
SERVERS = {"sandbox": "sandbox serving on", "serve": "online API on"}
NOT_RUN = {"demo": "`make demo` runs it (minutes of training and scoring); here it is parsed only"}
FAILS = "# fails: "
COMMAND = re.compile(r"^(\S*/)?modelops ")  # `modelops …`, `.venv/bin/modelops …`


@dataclass(frozen=True)
class Shown:
    """A command a page shows: its arguments after `modelops`, the failure the page says it
    ends with (None: it succeeds), and where it is."""

    argv: tuple[str, ...]
    fails: str | None
    where: str

    def __str__(self) -> str:
        return f"{self.where}: modelops {shlex.join(self.argv)}"


def shown_commands(page: Path) -> list[Shown]:
    """The `modelops` lines of a page's code blocks (a line ending in a backslash goes on),
    each with the `# fails:` line that follows it, if any."""
    lines = page.read_text().splitlines()
    found: list[Shown] = []
    in_block, number = False, 0
    while number < len(lines):
        line = lines[number].strip()
        number += 1
        if line.startswith("```"):
            in_block = not in_block
            continue
        if not in_block or not COMMAND.match(line):
            continue
        start = number
        while line.endswith("\\") and number < len(lines):
            line = line[:-1] + " " + lines[number].strip()
            number += 1
        following = lines[number].strip() if number < len(lines) else ""
        fails = following.removeprefix(FAILS) if following.startswith(FAILS) else None
        argv = tuple(shlex.split(COMMAND.sub("", line), comments=True))
        found.append(Shown(argv, fails, f"{page.relative_to(PROJECT_ROOT)}:{start}"))
    return found


def session() -> list[Shown]:
    """docs/cli.md's commands in order, then the README's that docs/cli.md does not show."""
    commands = shown_commands(CLI_DOC)
    seen = {shown.argv for shown in commands}
    return commands + [shown for shown in shown_commands(README) if shown.argv not in seen]


def test_every_command_shown_parses():
    parser = build_parser()
    commands = session()
    assert len(commands) > 30
    for shown in commands:
        try:
            parser.parse_args(shown.argv)
        except SystemExit as refused:
            pytest.fail(f"{shown} does not parse (exit {refused.code})")


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command of the parser, as the words that name it (`models show` is two)."""
    for action in parser._actions:  # argparse keeps its subcommands only here
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = list(_commands(sub, (*prefix, name)))
                yield from nested or [(*prefix, name)]


def test_cli_md_shows_every_command():
    shown = [shown.argv for shown in shown_commands(CLI_DOC)]
    missing = [
        " ".join(command)
        for command in _commands(build_parser())
        if not any(argv[: len(command)] == command for argv in shown)
    ]
    assert missing == [], "docs/cli.md has no example of these commands"


def yaml_blocks(page: Path) -> list[tuple[str, str, str]]:
    """(the file a block is an excerpt of, or "", its text, where) of each ```yaml block."""
    found = []
    for match in re.finditer(r"^```yaml *(\S*)\n(.*?)^```", page.read_text(), flags=re.MULTILINE | re.DOTALL):
        line = page.read_text()[: match.start()].count("\n") + 1
        found.append((match.group(1), match.group(2), f"{page.relative_to(PROJECT_ROOT)}:{line}"))
    return found


# A spec that every untagged YAML block of the docs is laid over: a block must be valid in it.
BASE_SPEC = {
    "name": "docs",
    "source": {"tables": ["t"], "sql": "SELECT * FROM t WHERE d BETWEEN $start AND $end"},
    "timestamp": "d",
    "outcome": "y",
    "features": {"x": {"type": "numeric"}},
    "estimator": {"kind": "hist_gradient_boosting"},
}


def test_every_yaml_block_is_a_valid_spec_or_an_excerpt_of_its_file():
    import yaml

    from modelops.domain.spec import SpecError, parse_spec

    blocks = [block for page in PAGES for block in yaml_blocks(page)]
    assert len(blocks) >= 5
    for excerpt_of, text, where in blocks:
        if excerpt_of:  # its lines, in order, are lines of the file
            remaining = iter((PROJECT_ROOT / excerpt_of).read_text().splitlines())
            for line in filter(None, text.splitlines()):
                assert any(line == candidate for candidate in remaining), (
                    f"{where}: {line!r} not in {excerpt_of}"
                )
            continue
        try:
            parse_spec(yaml.safe_dump({**BASE_SPEC, **yaml.safe_load(text)}), source=where)
        except SpecError as error:
            pytest.fail(str(error))


def test_the_readme_is_a_front_page():
    text = README.read_text()
    assert len(text.splitlines()) <= 200
    assert "make demo" in text and "make test" in text  # CI greps for both


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation but '-' and '_' dropped, spaces '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", page.read_text(), flags=re.MULTILINE)
    return {_slug(re.sub(r"`", "", heading)) for heading in headings}


def test_every_relative_link_resolves():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in _anchors(linked)):
                broken.append(f"{page.relative_to(PROJECT_ROOT)}: {target}")
    assert broken == []


# A `path/like/this.py` in backquotes names a file of the repository, written whole or from any
# folder down (`domain/model/promotion.py`); these are written by `make` targets, not kept.
PATH_TOKEN = re.compile(r"`([\w.\-/]+/[\w.\-]+\.(?:py|md|yaml|yml|json|txt|toml|csv))`")
GENERATED = {"bench/results.json", "bench/scale.json", "out/iam.json"}


def test_every_repository_path_the_docs_name_exists():
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    missing = []
    for page in PAGES:
        for token in PATH_TOKEN.findall(page.read_text()):
            name = token.removeprefix("./")
            if name in GENERATED or any(f == name or f.endswith(f"/{name}") for f in tracked):
                continue
            missing.append(f"{page.relative_to(PROJECT_ROOT)}: {token}")
    assert missing == []


def _with_ports(argv: tuple[str, ...], sandbox: int, api: int) -> list[str]:
    """The command aimed at this test's servers (a later option overrides an earlier one)."""
    extra = {
        "sandbox": ["--port", str(sandbox)],
        "serve": ["--port", str(api)],
        "invoke": ["--url", f"http://127.0.0.1:{api}"],
    }
    return [*argv, *extra.get(argv[0], [])]


@contextmanager
def _serving(shown: Shown, argv: list[str], env: dict[str, str], cwd: Path) -> Iterator[None]:
    """A server command in the background until the block ends; its output goes to a file (a
    pipe nobody reads would fill and stop it)."""
    log = cwd / f"{argv[0]}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "modelops_dev.cli", *argv],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
        )
    try:
        deadline = time.monotonic() + 120
        while SERVERS[argv[0]] not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{shown} did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def _judge(shown: Shown, done: subprocess.CompletedProcess[str]) -> None:
    printed = " ".join((done.stdout + done.stderr).split())
    if shown.fails is None:
        assert done.returncode == 0, f"{shown} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        return
    expected = " ".join(shown.fails.removesuffix("…").split())
    assert done.returncode != 0, f"{shown} succeeded; the page says it fails:\n{done.stdout}"
    assert expected in printed, f"{shown} failed otherwise than the page says ({shown.fails}):\n{printed}"


@pytest.mark.e2e
def test_every_command_shown_runs_as_the_page_says(tmp_path):
    shutil.copy(HYMOD_DATA, tmp_path / "hymod_input.csv")  # as docs/cli.md tells a reader to
    for folder in ("models", "events"):
        (tmp_path / folder).symlink_to(PROJECT_ROOT / folder)
    sandbox, api = free_port(), free_port()
    env = {**cli_environment(), "MODELOPS_ENDPOINT_URL": f"http://127.0.0.1:{sandbox}"}
    commands = session()
    assert commands[0].argv[0] == "sandbox", "docs/cli.md starts the sandbox before anything else"
    scratch = tmp_path / "output"
    scratch.mkdir()
    with ExitStack() as servers, forked_cli(env, scratch) as modelops:
        for shown in commands:
            if shown.argv[0] in NOT_RUN:
                continue
            argv = _with_ports(shown.argv, sandbox, api)
            if shown.argv[0] in SERVERS:
                servers.enter_context(_serving(shown, argv, env, tmp_path))
                continue
            _judge(shown, modelops(argv, tmp_path))
