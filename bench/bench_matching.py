"""Benchmark of the matching engine: quality against the optimum over all allowed pairs, and speed.

    .venv/bin/python bench/bench_matching.py [--full] [--workdir DIR]

Quality: the pair total must reach 99% of the optimum over every allowed pair, scored with the
engine's own Scorer (bench/optimum.py): networkx's exact matching at 500 people, the
assignment bound above, on organisations from generator seeds the engine was not tuned on,
under the default weights and under location 5 / interests 0.5, with as many pairs as a
maximum-cardinality matching. Speed: wall time and peak memory of the whole `solve` command at
10,000 and 100,000 people. --full adds 10,000 and 20,000 people to the quality cases, every
seed at 500, and 1,000,000 people to the speed cases. Prints a markdown table; exits 1 on any
miss.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import optimum  # noqa: E402
import orggen  # noqa: E402

from matcher.matching import Problem, Weights, problem_from_json, solve  # noqa: E402

QUALITY_TARGET = 0.99
# Generator seeds for quality: the engine was tuned on seeds 0-9, the tests use 41-44.
QUALITY_SEEDS = (1001, 1002, 1003)
QUALITY_SIZES = (2_000,)
FULL_QUALITY_SIZES = (10_000, 20_000)
EXACT_SIZE = 500
WEIGHT_SETTINGS = {
    "defaults": {},
    "location 5 / interests 0.5": {"location": 5.0, "interests": 0.5},
}
SPEED_TARGETS = ((10_000, 2.0), (100_000, 20.0))
FULL_TARGET = (1_000_000, 300.0)
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


def problem_file(workdir: Path, n: int) -> Path:
    """The generated organisation of n people (seed n); reused if the workdir has it."""
    path = workdir / f"org{n}.json"
    if path.exists() and path.stat().st_size > 0:
        return path  # generation is deterministic, and takes minutes at 1M
    return orggen.write(path, n, seed=n)


def with_weights(problem: Problem, weights: dict[str, float]) -> Problem:
    """The same organisation under other score weights."""
    return replace(problem, rules=replace(problem.rules, weights=Weights(**weights)))


def optimum_of(problem: Problem, n: int, seed: int, name: str, cache: Path | None) -> dict:
    """The optimum (exact at EXACT_SIZE, else the assignment bound), cached in the workdir.

    The optimum depends only on the organisation and the weights, not on the engine, so a
    workdir keeps it across runs (minutes per case at 20,000 people).
    """
    path = None
    if cache is not None:
        slug = "".join(c if c.isalnum() else "-" for c in name)
        path = cache / f"optimum-{n}-{seed}-{slug}.json"
        if path.exists():
            return json.loads(path.read_text())
    if n <= EXACT_SIZE:
        best, pairs, seconds = optimum.exact_optimum(problem)
        found = {"kind": "exact", "best": best, "pairs": pairs, "seconds": seconds}
    else:
        best, seconds = optimum.assignment_bound(problem)
        # Everybody is paired (n even, cross-team pairs abound): that is maximum cardinality.
        found = {"kind": "bound", "best": best, "pairs": n // 2, "seconds": seconds}
    if path is not None:
        path.write_text(json.dumps(found))
    return found


def quality_case(
    n: int,
    seed: int,
    weights: dict[str, float],
    rows: list[Row],
    name: str,
    cache: Path | None = None,
) -> None:
    """One organisation: engine total vs the optimum over every allowed pair."""
    problem = with_weights(problem_from_json(orggen.generate(n, seed=seed)), weights)
    start = time.perf_counter()
    stats = solve(problem).stats
    seconds = time.perf_counter() - start
    found = optimum_of(problem, n, seed, name, cache)
    best, best_pairs, best_seconds = found["best"], found["pairs"], found["seconds"]
    if found["kind"] == "exact":
        how = f"exact (networkx {best_seconds:.0f} s vs engine {seconds:.2f} s)"
    else:
        how = f"assignment bound ({best_seconds:.0f} s; engine {seconds:.2f} s)"
    ratio = stats["pair_total"] / best if best else 1.0
    greedy = stats["greedy_pair_total"] / best if best else 1.0
    rows.append(
        Row(
            f"quality, {n:,} people, seed {seed}, {name}",
            f">= {QUALITY_TARGET:.0%} of optimum, max pairs",
            f"{ratio:.2%} of {how}; {stats['pairs']} vs {best_pairs} pairs; "
            f"greedy alone {greedy:.2%}",
            ratio >= QUALITY_TARGET and stats["pairs"] >= best_pairs,
        )
    )


def shared_shares(problem: Problem, pairs: list[tuple[int, int]]) -> tuple[float, float]:
    """Share of pairs (engine indices) sharing a project, and sharing an interest."""
    people = problem.participants
    project = sum(bool(set(people[a].projects) & set(people[b].projects)) for a, b in pairs)
    interest = sum(bool(set(people[a].interests) & set(people[b].interests)) for a, b in pairs)
    return project / len(pairs), interest / len(pairs)


def random_cross_team(problem: Problem, seed: int) -> list[tuple[int, int]]:
    """A random shuffle paired off in order, skipping same-team neighbours."""
    order = np.random.default_rng(seed).permutation(len(problem.participants)).tolist()
    teams = [p.team for p in problem.participants]
    pairs, waiting = [], []
    for x in order:
        partner = next((y for y in waiting if teams[y] != teams[x]), None)
        if partner is None:
            waiting.append(x)
        else:
            waiting.remove(partner)
            pairs.append((partner, x))
    return pairs


def shares_row(n: int, seed: int, rows: list[Row]) -> None:
    """What pairs share, engine vs a random cross-team shuffle of the same organisation."""
    problem = problem_from_json(orggen.generate(n, seed=seed))
    index = {p.id: k for k, p in enumerate(problem.participants)}
    groups = solve(problem).groups
    engine = [(index[g.members[0]], index[g.members[1]]) for g in groups if len(g.members) == 2]
    e_project, e_interest = shared_shares(problem, engine)
    r_project, r_interest = shared_shares(problem, random_cross_team(problem, seed))
    rows.append(
        Row(
            f"what pairs share, {n:,} people",
            "report",
            f"a project: {e_project:.0%} (random cross-team shuffle {r_project:.0%}); "
            f"an interest: {e_interest:.0%} (shuffle {r_interest:.0%})",
            None,
        )
    )


def quality(rows: list[Row], full: bool, cache: Path | None) -> None:
    exact_seeds = QUALITY_SEEDS if full else QUALITY_SEEDS[:1]
    for name, weights in WEIGHT_SETTINGS.items():
        for seed in exact_seeds:
            quality_case(EXACT_SIZE, seed, weights, rows, name, cache)
    for n in QUALITY_SIZES + (FULL_QUALITY_SIZES if full else ()):
        for name, weights in WEIGHT_SETTINGS.items():
            for seed in QUALITY_SEEDS:
                quality_case(n, seed, weights, rows, name, cache)
    shares_row(10_000, QUALITY_SEEDS[0], rows)


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
    parser.add_argument(
        "--full", action="store_true", help="also 10,000 and 20,000 quality and 1,000,000 speed"
    )
    parser.add_argument("--quality-only", action="store_true", help="quality cases only")
    parser.add_argument(
        "--workdir",
        help="keep generated files and computed optima here (default: a temp dir)",
    )
    parser.add_argument("--skip-quality", action="store_true", help="speed cases only")
    args = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-matching-") as tmp:
        workdir = Path(args.workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        if not args.skip_quality:
            quality(rows, args.full, Path(args.workdir) if args.workdir else None)
        cases = list(SPEED_TARGETS) + ([FULL_TARGET] if args.full else [])
        if not args.quality_only:
            speed(workdir, rows, cases)
        if not args.full:
            n, limit = FULL_TARGET
            rows.append(Row(f"speed, {n:,} people", f"<= {limit:g} s", "skipped (--full)", None))
    print_table(rows)
    return 1 if any(row.ok is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
