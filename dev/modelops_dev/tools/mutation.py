"""`make mutation`: mutation testing of the pure domain modules against their own unit tests.

mutmut (pinned in requirements/dev.txt) changes one thing at a time in a module's real file
(``<`` to ``<=``, a number plus one, a string, ``and`` to ``or``, ...), runs that module's unit
tests, and restores the file; a mutant is killed when a test fails. A mutant that survives
is either a gap in the tests or *equivalent* (no input can tell it from the original); the
equivalent ones are listed, each with its reason, in tests/mutation_equivalents.txt, and the
score is killed / (mutants - equivalent).

The tests run in a fork server (``mutation_server``): one process imports the third-party
libraries once and forks a child per mutant that imports the project's code fresh from disk.

    python -m modelops_dev.tools.mutation [MODULE ...]      # all modules by default
"""

from __future__ import annotations

import argparse
import json
import shlex
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from modelops_dev.tools import mutation_server
from modelops_dev.tools.mutation_server import PROJECT_ROOT, RESULTS, Server, run_tests

DOMAIN = Path("layers/core/modelops/domain")
EQUIVALENTS = Path("tests/mutation_equivalents.txt")
# Each module is mutated against the unit tests written for it, and only those.
MODULE_TESTS: dict[str, tuple[str, ...]] = {
    "data/features": ("tests/unit/domain/data/test_features.py",),
    "model/fastscore": ("tests/unit/domain/model/test_fastscore.py",),
    "spec/sections": ("tests/unit/domain/test_spec.py",),
    "spec/model": ("tests/unit/domain/test_spec.py",),
    "model/versions": ("tests/unit/domain/model/test_versions.py",),
    "campaign": ("tests/unit/domain/test_campaign.py",),
    "publication": ("tests/unit/domain/test_publication.py",),
    "monitoring/alerts": (
        "tests/unit/domain/monitoring/test_alerts.py",
        "tests/unit/domain/monitoring/test_retraining.py",
    ),
    "model/promotion": ("tests/unit/domain/model/test_promotion.py",),
    "model/deployment": ("tests/unit/domain/model/test_deployment.py",),
    "monitoring/performance": ("tests/unit/domain/monitoring/test_performance.py",),
    "monitoring/reference": ("tests/unit/domain/monitoring/test_drift.py",),
    "monitoring/statistics": ("tests/unit/domain/monitoring/test_drift.py",),
    "monitoring/evaluation": ("tests/unit/domain/monitoring/test_drift.py",),
    "monitoring/sampling": (
        "tests/unit/domain/monitoring/test_sampling.py",
        "tests/unit/domain/monitoring/test_segments.py",
    ),
    "model/metrics": ("tests/unit/domain/model/test_metrics.py",),
    "monitoring/sketches": ("tests/unit/domain/monitoring/test_sketches.py",),
    "data/validity": ("tests/unit/domain/data/test_validity.py",),
    "data/reconcile": ("tests/unit/domain/data/test_reconcile.py",),
    "data/skew": ("tests/unit/domain/data/test_skew.py",),
    "data/datacheck": ("tests/unit/domain/data/test_datacheck.py",),
    "schedules": ("tests/unit/domain/test_schedules.py",),
    "data/repeats": ("tests/unit/domain/data/test_repeats.py",),
    "monitoring/profiles": ("tests/unit/domain/monitoring/test_profiles.py",),
    "contract": ("tests/unit/domain/test_contract.py",),
    "periods": ("tests/unit/domain/test_contract.py", "tests/unit/domain/test_periods.py"),
}
# Modules whose score must reach MIN_SCORE for `make mutation` to pass.
GATED = (
    "data/features",
    "model/fastscore",
    "spec/sections",
    "spec/model",
    "model/versions",
    "campaign",
    "publication",
    "monitoring/alerts",
    "model/promotion",
    "model/deployment",
    "monitoring/performance",
    "monitoring/reference",
    "monitoring/statistics",
    "monitoring/evaluation",
    "monitoring/sampling",
    "data/reconcile",
    "data/skew",
)
MIN_SCORE = 0.80
# A mutant whose tests outlive mutmut's limit (10 x the clean run) is run again with this
# limit, so a busy machine does not turn a slow run into a kill; past it, it is an endless loop.
RECHECK_SECONDS = 120.0

KILLED_STATUSES = frozenset({"ok_killed", "ok_suspicious"})  # suspicious: killed, but slowly
SURVIVED, TIMEOUT = "bad_survived", "bad_timeout"


# ---------------------------------------------------------------- results and the report


@dataclass(frozen=True)
class Survivor:
    line_number: int  # 1-based
    original: str
    mutant: str


@dataclass
class ModuleResult:
    module: str
    total: int
    killed: int
    timeouts: int  # still running after RECHECK_SECONDS: an endless loop, counted as killed
    survivors: list[Survivor]
    seconds: float

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> ModuleResult:
        return cls(**{**document, "survivors": [Survivor(**s) for s in document["survivors"]]})


@dataclass(frozen=True)
class Equivalent:
    module: str
    original: str  # the source line and the mutated line, stripped
    mutant: str
    reason: str


def parse_equivalents(text: str) -> list[Equivalent]:
    """Entries of three lines: ``module: reason``, ``- original line``, ``+ mutated line``."""
    entries: list[Equivalent] = []
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    for start in range(0, len(lines), 3):
        block = lines[start : start + 3]
        head, *diff = block
        module, colon, reason = head.partition(":")
        if (
            not colon
            or module.strip() not in MODULE_TESTS
            or len(diff) != 2
            or not diff[0].startswith("-")
            or not diff[1].startswith("+")
        ):
            raise ValueError(
                f"{EQUIVALENTS}: entry {len(entries) + 1} ({head!r}) is not "
                "'module: reason' followed by a '- original' and a '+ mutant' line"
            )
        entries.append(Equivalent(module.strip(), diff[0][1:].strip(), diff[1][1:].strip(), reason.strip()))
    return entries


@dataclass
class Score:
    result: ModuleResult
    survivors: list[Survivor] = field(default_factory=list)  # not judged equivalent
    equivalent: list[tuple[Survivor, Equivalent]] = field(default_factory=list)

    @property
    def non_equivalent(self) -> int:
        return self.result.total - len(self.equivalent)

    @property
    def value(self) -> float:
        caught = self.result.killed + self.result.timeouts
        return caught / self.non_equivalent if self.non_equivalent else 1.0


def score(result: ModuleResult, equivalents: Iterable[Equivalent]) -> Score:
    known = {(e.original, e.mutant): e for e in equivalents if e.module == result.module}
    scored = Score(result)
    for survivor in result.survivors:
        match = known.get((survivor.original.strip(), survivor.mutant.strip()))
        if match is None:
            scored.survivors.append(survivor)
        else:
            scored.equivalent.append((survivor, match))
    return scored


def stale(scores: Sequence[Score], equivalents: Iterable[Equivalent]) -> list[Equivalent]:
    """Entries of the modules just run that no survivor matches (the code or tests changed)."""
    used = {id(e) for s in scores for _, e in s.equivalent}
    run = {s.result.module for s in scores}
    return [e for e in equivalents if e.module in run and id(e) not in used]


def render(scores: Sequence[Score], unused: Sequence[Equivalent]) -> str:
    width = max([len("module"), *(len(s.result.module) for s in scores)]) + 2  # keys like model/promotion
    out = [
        "Mutation score: killed / (mutants - equivalent), each module against its own unit tests",
        f"{'module':<{width}}{'mutants':>8}{'killed':>8}{'survived':>10}{'equivalent':>12}{'score':>8}{'time':>8}",
    ]
    for s in scores:
        r = s.result
        gate = f"   (gate {MIN_SCORE:.0%})" if r.module in GATED else ""
        out.append(
            f"{r.module:<{width}}{r.total:>8}{r.killed + r.timeouts:>8}{len(s.survivors):>10}"
            f"{len(s.equivalent):>12}{s.value:>8.1%}{r.seconds:>7.0f}s{gate}"
        )
    for s in scores:
        if s.survivors:
            out.append(f"\n{s.result.module}.py: {len(s.survivors)} surviving mutants")
            for survivor in s.survivors:
                out.append(f"  line {survivor.line_number}:  - {survivor.original.strip()}")
                out.append(f"  {'':>{len(str(survivor.line_number)) + 5}}    + {survivor.mutant.strip()}")
    for s in scores:
        if s.equivalent:
            out.append(f"\n{s.result.module}.py: {len(s.equivalent)} equivalent ({EQUIVALENTS})")
            out.extend(f"  line {survivor.line_number}: {e.reason}" for survivor, e in s.equivalent)
    if unused:
        out.append(f"\nEntries of {EQUIVALENTS} that match no surviving mutant (delete them):")
        out.extend(f"  {e.module}: {e.reason}  (- {e.original})" for e in unused)
    return "\n".join(out)


def failed_gates(scores: Sequence[Score]) -> list[str]:
    return [
        f"{s.result.module}: {s.value:.1%} < {MIN_SCORE:.0%}"
        for s in scores
        if s.result.module in GATED and s.value < MIN_SCORE
    ]


# ---------------------------------------------------------------- running mutmut


def _source(module: str) -> Path:
    return DOMAIN / f"{module}.py"


def _result(module: str, suffix: str) -> Path:
    """Where a module's run keeps ``suffix`` (its log, its results): a key such as
    ``model/promotion`` names a sub-folder, which is made on the way."""
    path = RESULTS / f"{module}{suffix}"
    (PROJECT_ROOT / path).parent.mkdir(parents=True, exist_ok=True)
    return path


def _restore_interrupted(module: str) -> None:
    """mutmut keeps the original as ``<file>.bak`` while a mutant is in place; a run killed
    hard leaves both behind."""
    path = PROJECT_ROOT / _source(module)
    backup = path.with_name(path.name + ".bak")
    if backup.exists():
        backup.replace(path)
        print(f"mutation: restored {_source(module)} from the backup an interrupted run left")


def _survivor(source: str, line: str, index: int, line_number: int) -> Survivor:
    """A surviving mutant as the source line and its mutated text; a removed decorator is named
    with the line it decorates, so that an equivalent entry cannot match another one."""
    mutant = _mutant_line(source, line, index, line_number)
    if mutant == "(line removed)":
        following = source.split("\n")[line_number + 1 :]
        decorated = next((text.strip() for text in following if not text.strip().startswith("@")), "")
        line = f"{line.strip()} (on {decorated})"
    return Survivor(line_number + 1, line, mutant)


def _mutant_line(source: str, line: str, index: int, line_number: int) -> str:
    """The mutated text of a source line (mutmut applies mutant ``index`` of that line)."""
    from mutmut import Context, RelativeMutationID, mutate

    context = Context(
        source=source, mutation_id=RelativeMutationID(line, index, line_number), dict_synonyms=[]
    )
    mutated, _ = mutate(context)
    lines = mutated.split("\n")
    same_lines = len(lines) == source.count("\n") + 1
    mutant = str(lines[line_number]) if same_lines else ""
    return mutant if mutant.strip() else "(line removed)"  # a decorator


def _read_cache(cache: Path) -> list[tuple[str, int, int, str, int]]:
    """(line, line number (0-based), mutant index, status, mutant id) from mutmut's cache."""
    with sqlite3.connect(cache) as db:
        rows = db.execute(
            "SELECT l.line, l.line_number, m.`index`, m.status, m.id FROM Mutant m "
            "JOIN Line l ON m.line = l.id ORDER BY l.line_number, m.`index`"
        ).fetchall()
    return [(str(a), int(b), int(c), str(d), int(e)) for a, b, c, d, e in rows]


def _recheck(module: str, mutant_id: int, server: Server, tests: Sequence[str]) -> str:
    """Run a timed-out mutant again with a long limit; 'killed', 'survived' or 'timeout'."""
    path = PROJECT_ROOT / _source(module)
    original = path.read_text()
    try:
        subprocess.run(  # noqa: S603 - mutmut of our own interpreter
            [sys.executable, "-m", "mutmut", "apply", str(mutant_id)], cwd=PROJECT_ROOT, check=True
        )
        code = run_tests(server.address, tests, timeout=RECHECK_SECONDS)
    finally:
        path.write_text(original)
    return {0: "survived", 1: "killed", 124: "timeout"}.get(code, "error")


def run_module(module: str, server: Server) -> ModuleResult:
    tests = MODULE_TESTS[module]
    _restore_interrupted(module)
    cache = PROJECT_ROOT / ".mutmut-cache"
    cache.unlink(missing_ok=True)  # every run starts fresh: no result is taken on trust
    runner = shlex.join([sys.executable, "-m", mutation_server.MODULE, "test", server.address, *tests])
    started = time.monotonic()
    log_path = _result(module, ".log")
    with (PROJECT_ROOT / log_path).open("w") as log:
        done = subprocess.run(  # noqa: S603 - mutmut of our own interpreter
            [
                sys.executable,
                "-m",
                "mutmut",
                "run",
                "--paths-to-mutate",
                str(_source(module)),
                "--tests-dir",
                "tests/unit",
                "--runner",
                runner,
                "--simple-output",
                "--no-progress",
                "--CI",
            ],
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server.check()
    if done.returncode != 0:
        raise SystemExit(f"mutation: mutmut failed on {module} (see {log_path})")
    rows = _read_cache(cache)
    source = (PROJECT_ROOT / _source(module)).read_text()
    killed = timeouts = 0
    survivors = []
    for line, line_number, index, status, mutant_id in rows:
        if status == TIMEOUT:
            status = {"killed": "ok_killed", "survived": SURVIVED}.get(
                _recheck(module, mutant_id, server, tests), TIMEOUT
            )
        if status in KILLED_STATUSES:
            killed += 1
        elif status == TIMEOUT:
            timeouts += 1
        elif status == SURVIVED:
            survivors.append(_survivor(source, line, index, line_number))
        else:
            raise SystemExit(f"mutation: {module}: a mutant was left {status} (see {log_path})")
    cache.unlink()
    result = ModuleResult(module, len(rows), killed, timeouts, survivors, time.monotonic() - started)
    (PROJECT_ROOT / _result(module, ".json")).write_text(json.dumps(asdict(result), indent=1))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m modelops_dev.tools.mutation", description=__doc__)
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=", ".join(MODULE_TESTS))
    parser.add_argument("--report", action="store_true", help="print the last run's results again")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.modules) - set(MODULE_TESTS))
    if unknown:
        parser.error(f"unknown module {unknown[0]!r} (choose from {', '.join(MODULE_TESTS)})")
    modules: list[str] = args.modules or list(MODULE_TESTS)
    equivalents = parse_equivalents((PROJECT_ROOT / EQUIVALENTS).read_text())
    (PROJECT_ROOT / RESULTS).mkdir(exist_ok=True)
    results: list[ModuleResult] = []
    if args.report:
        for module in modules:
            saved = PROJECT_ROOT / _result(module, ".json")
            if saved.exists():
                results.append(ModuleResult.from_dict(json.loads(saved.read_text())))
    else:
        tests = sorted({test for module in modules for test in MODULE_TESTS[module]})
        server = Server(tests)
        try:
            for module in modules:
                print(f"mutating {_source(module)} against {' '.join(MODULE_TESTS[module])} ...", flush=True)
                results.append(run_module(module, server))
        finally:
            server.stop()
    scores = [score(result, equivalents) for result in results]
    print(render(scores, stale(scores, equivalents)))
    failed = failed_gates(scores)
    if failed:
        print(f"\nmutation: below the gate: {'; '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
