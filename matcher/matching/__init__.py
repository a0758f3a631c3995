"""Pure matching engine: participants, history and rules in; scored, explained groups out.

Imports only the standard library and numpy, so it runs without the web app.
"""

from .capacity import solve
from .check import disallowed_pairs
from .errors import ProblemError
from .facts import FACT_KINDS, Fact, pick, sentence, sentences
from .jsonio import problem_from_json, problem_to_json, result_to_json
from .model import (
    MAX_CAPACITY,
    MAX_MANAGERS,
    MEETING_MODES,
    Group,
    Participant,
    PastPairing,
    PersonId,
    Problem,
    Result,
    Unmatched,
    Window,
)
from .rules import DEFAULT_RULES, DEFAULT_WEIGHTS, Rules, Weights
from .scoring import COMPONENTS
from .solver import SolverOptions

__all__ = [
    "COMPONENTS",
    "DEFAULT_RULES",
    "DEFAULT_WEIGHTS",
    "FACT_KINDS",
    "Fact",
    "MAX_CAPACITY",
    "MAX_MANAGERS",
    "MEETING_MODES",
    "Group",
    "Participant",
    "PastPairing",
    "PersonId",
    "Problem",
    "ProblemError",
    "Result",
    "Rules",
    "SolverOptions",
    "Unmatched",
    "Weights",
    "Window",
    "disallowed_pairs",
    "pick",
    "problem_from_json",
    "problem_to_json",
    "result_to_json",
    "sentence",
    "sentences",
    "solve",
]
