"""Command line: `python -m matcher.matching solve PROBLEM.json [options]` (see --help)."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Sequence

from .allpairs import allowed_pair_blocks
from .capacity import solve_with_graph
from .encode import encode
from .errors import ProblemError
from .jsonio import problem_from_json, result_to_json, write_edge_block, write_edges
from .model import Problem
from .scoring import Scorer
from .solver import SolverOptions, peak_rss_mb

EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m matcher.matching", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    solve = commands.add_parser("solve", help="group the participants of a problem file")
    solve.add_argument("problem", help="problem JSON file ('-' for standard input)")
    solve.add_argument("-o", "--output", help="write the result JSON here (default: stdout)")
    solve.add_argument("--edges", help="write every candidate pair as a,b,score lines here")
    solve.add_argument(
        "--edges-all",
        help="write every allowed pair (not only candidates) as a,b,score lines here; "
        "O(n^2), meant for checking against the true optimum up to ~20,000 people",
    )
    solve.add_argument("--timings", action="store_true", help="add phase timings to stats")
    return parser


def _load(path: str) -> object:
    try:
        if path == "-":
            return json.load(sys.stdin)
        with open(path, encoding="utf-8") as stream:
            return json.load(stream)
    except json.JSONDecodeError as exc:
        raise ProblemError(f"{path}: not valid JSON: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ProblemError(f"{path}: not UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise ProblemError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _write_all_edges(path: str, problem: Problem) -> None:
    ids = tuple(p.id for p in problem.participants)
    scorer = Scorer(encode(problem), problem.rules.weights)
    with open(path, "w", encoding="utf-8", newline="") as stream:
        for a, b, score in allowed_pair_blocks(scorer):
            write_edge_block(stream, a, b, score, ids)


def _run_solve(args: argparse.Namespace, keep: list[object] | None) -> int:
    raw = _load(args.problem)
    loaded_mb = peak_rss_mb()
    problem = problem_from_json(raw, consume=True)
    del raw  # the decoded JSON is the largest object alive; free it before solving
    parsed_mb = peak_rss_mb()
    # A one-off process with nothing else running in it: safe to fork a helper onto a second core.
    workers = min(2, os.cpu_count() or 1)
    options = SolverOptions(timings=args.timings, workers=workers)
    outcome = solve_with_graph(problem, options)
    result = result_to_json(outcome.result)
    if keep is not None:
        keep += (problem, outcome, result)
    if args.timings:
        result["stats"]["peak_rss_mb_after"].update(load=loaded_mb, parse=parsed_mb)
    try:
        if args.edges:
            with open(args.edges, "w", encoding="utf-8", newline="") as stream:
                write_edges(stream, outcome.graph, tuple(p.id for p in problem.participants))
        if args.edges_all:
            _write_all_edges(args.edges_all, problem)
        # json.dumps without indent runs the C encoder; json.dump is pure Python (4x slower).
        if args.output:
            with open(args.output, "w", encoding="utf-8") as stream:
                stream.write(json.dumps(result, ensure_ascii=False))
                stream.write("\n")
        else:
            sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
            sys.stdout.write("\n")
    except OSError as exc:
        raise ProblemError(f"cannot write output: {exc.strerror or exc}") from None
    return 0


def main(argv: Sequence[str] | None = None, keep: list[object] | None = None) -> int:
    """Entry point; returns the exit status (2 with one `error:` line for bad input)."""
    # `keep` receives the solve's big objects, so a caller about to exit can skip freeing them.
    args = _parser().parse_args(argv)
    # Millions of long-lived objects and no reference cycles worth collecting: the cyclic
    # collector would only rescan them over and over (it doubles parse time at 100k people).
    gc.disable()
    try:
        return _run_solve(args, keep)
    except ProblemError as exc:
        message = " ".join(str(exc).split())  # always exactly one line
        print(f"error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RecursionError:
        print("error: problem JSON is nested too deeply", file=sys.stderr)
        return EXIT_BAD_INPUT
