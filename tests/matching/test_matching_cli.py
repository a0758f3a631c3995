import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.filterwarnings("ignore"),
    pytest.mark.real_clock("runs the engine's command line in a subprocess"),
]


def run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "matcher.matching", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
    )


def test_solve_end_to_end(tmp_path: Path, small_problem):
    problem = tmp_path / "problem.json"
    problem.write_text(json.dumps(small_problem))
    out, edges = tmp_path / "result.json", tmp_path / "edges.csv"
    proc = run("solve", str(problem), "-o", str(out), "--edges", str(edges))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    placed = [m for g in result["groups"] for m in g["members"]] + [
        u["id"] for u in result["unmatched"]
    ]
    assert sorted(placed) == sorted(p["id"] for p in small_problem["participants"])
    rows = list(csv.reader(edges.open()))
    assert rows and all(len(r) == 3 for r in rows)
    scores = {frozenset((a, b)): float(s) for a, b, s in rows}
    for group in result["groups"]:
        if len(group["members"]) == 2:
            assert scores[frozenset(group["members"])] == pytest.approx(group["score"])


def test_solve_writes_to_stdout_without_output_flag(tmp_path, small_problem):
    problem = tmp_path / "problem.json"
    problem.write_text(json.dumps(small_problem))
    proc = run("solve", str(problem))
    assert proc.returncode == 0
    assert "groups" in json.loads(proc.stdout)


@pytest.mark.parametrize("count", [0, 1])
def test_empty_or_single_person_problem(tmp_path, count):
    people = [{"id": "solo", "team": "A"}][:count]
    problem = tmp_path / "problem.json"
    problem.write_text(json.dumps({"participants": people}))
    proc = run("solve", str(problem))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["groups"] == []
    assert len(result["unmatched"]) == count


BROKEN_FILES = {
    "bad_json": "{not json",
    "not_object": "[1, 2]",
    "unknown_person": json.dumps(
        {
            "participants": [{"id": "a", "team": "A"}],
            "history": [{"a": "a", "b": "x", "weeks_ago": 1}],
        }
    ),
    "duplicate": json.dumps({"participants": [{"id": "a", "team": "A"}, {"id": "a", "team": "B"}]}),
    "wrong_type": json.dumps({"participants": [{"id": "a", "team": ["A"]}]}),
    "bad_rule": json.dumps({"participants": [], "rules": {"group_size": "two"}}),
    "deep": "[" * 100000 + "]" * 100000,
    "binary": b"\xff\xfe\x00garbage",
}


@pytest.mark.parametrize("name", sorted(BROKEN_FILES))
def test_broken_problem_file_exits_2_with_one_line(tmp_path, name):
    content = BROKEN_FILES[name]
    path = tmp_path / "problem.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    proc = run("solve", str(path))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")


def test_missing_file_exits_2(tmp_path):
    proc = run("solve", str(tmp_path / "nope.json"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr


def test_unwritable_output_exits_2(tmp_path, small_problem):
    problem = tmp_path / "problem.json"
    problem.write_text(json.dumps(small_problem))
    proc = run("solve", str(problem), "-o", str(tmp_path / "missing-dir" / "out.json"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ")


def test_edges_all_writes_every_allowed_pair_with_the_engine_score(tmp_path):
    import itertools

    import orggen

    from matcher.matching import disallowed_pairs, problem_from_json

    data = orggen.generate(40, seed=2)
    problem_path = tmp_path / "problem.json"
    problem_path.write_text(json.dumps(data))
    out, edges, every = tmp_path / "r.json", tmp_path / "e.csv", tmp_path / "all.csv"
    proc = run(
        "solve", str(problem_path), "-o", str(out), "--edges", str(edges), "--edges-all", str(every)
    )
    assert proc.returncode == 0, proc.stderr
    problem = problem_from_json(data)
    ids = [p.id for p in problem.participants]
    bad = {
        frozenset(pair) for pair in disallowed_pairs(problem, list(itertools.combinations(ids, 2)))
    }
    expected = {frozenset(pair) for pair in itertools.combinations(ids, 2)} - bad
    rows = list(csv.reader(every.open()))
    assert {frozenset((a, b)) for a, b, _ in rows} == expected
    assert len(rows) == len(expected)
    # Candidate edges are a subset, with the same scores.
    scores = {frozenset((a, b)): s for a, b, s in rows}
    candidates = list(csv.reader(edges.open()))
    assert candidates and all(scores[frozenset((a, b))] == s for a, b, s in candidates)
