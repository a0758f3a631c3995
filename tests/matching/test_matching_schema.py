import copy
import json
from pathlib import Path

import pytest

from matcher.matching import problem_from_json, result_to_json, solve

jsonschema = pytest.importorskip("jsonschema")
DOCS = Path(__file__).resolve().parents[2] / "docs"


def schema(name: str) -> dict:
    return json.loads((DOCS / name).read_text())


def test_generated_and_example_problems_follow_the_schema(small_problem):
    import orggen

    validator = jsonschema.Draft202012Validator(schema("problem.schema.json"))
    validator.validate(small_problem)
    validator.validate(orggen.generate(40, seed=1))


def test_schema_rejects_what_the_parser_rejects(small_problem):
    validator = jsonschema.Draft202012Validator(schema("problem.schema.json"))
    for mutate in (
        lambda d: d["rules"].update(colour=1),
        lambda d: d["participants"][0].update(team=3),
        lambda d: d["history"][0].update(weeks_ago="3"),
        lambda d: d.update(seed=-1),
    ):
        data = copy.deepcopy(small_problem)
        mutate(data)
        assert not validator.is_valid(data)


def test_results_follow_the_result_schema(small_problem):
    result = result_to_json(solve(problem_from_json(small_problem)))
    jsonschema.Draft202012Validator(schema("result.schema.json")).validate(result)
