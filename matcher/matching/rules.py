"""Admin rules: hard constraints, group size and the weights of the pair score."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from .errors import ProblemError

MIN_GROUP_SIZE = 2
MAX_GROUP_SIZE = 4
MAX_COOLDOWN_WEEKS = 52
MAX_WEIGHT = 10.0


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class Weights:
    """Multipliers of the eight score components; each component lies in [0, 1]."""

    interests: float = 2.0
    projects: float = 2.0
    org_distance: float = 1.0
    location: float = 1.0
    hours: float = 1.0
    novelty: float = 1.5
    fairness: float = 0.5
    # Directed: what one wants help with and the other offers (0 without wants/offers).
    help: float = 2.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not _is_number(value) or not math.isfinite(value):
                raise ProblemError(
                    f"rules.weights.{f.name}: must be a finite number, got {value!r}"
                )
            if not 0.0 <= value <= MAX_WEIGHT:
                raise ProblemError(
                    f"rules.weights.{f.name}: must be between 0 and {MAX_WEIGHT:g}, got {value!r}"
                )

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Component names in their canonical order."""
        return tuple(f.name for f in fields(cls))

    def as_tuple(self) -> tuple[float, ...]:
        """Weights in canonical component order."""
        return tuple(float(getattr(self, name)) for name in self.names())

    @classmethod
    def from_dict(cls, data: Any) -> Weights:
        """Build weights from a JSON object; missing names take defaults, unknown ones raise."""
        if not isinstance(data, dict):
            raise ProblemError(f"rules.weights: must be an object, got {type(data).__name__}")
        unknown = sorted(set(data) - set(cls.names()))
        if unknown:
            raise ProblemError(
                f"rules.weights: unknown weight {unknown[0]!r} (known: {', '.join(cls.names())})"
            )
        return cls(**data)

    def to_dict(self) -> dict[str, float]:
        """Weights as a JSON object."""
        return {name: float(getattr(self, name)) for name in self.names()}


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True, slots=True)
class Rules:
    """What the admin decides: hard constraints, group size and score weights."""

    cross_team_only: bool = True
    repeat_cooldown_weeks: int = 4
    group_size: int = 2
    weights: Weights = field(default_factory=Weights)
    # Hard: every pair joins two different, non-empty roles (mentor and mentee); pairs only.
    distinct_roles: bool = False
    # Hard: nobody is paired with their direct manager or a direct report (Participant.managers).
    avoid_managers: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.cross_team_only, bool):
            raise ProblemError(
                f"rules.cross_team_only: must be true or false, got {self.cross_team_only!r}"
            )
        cooldown = self.repeat_cooldown_weeks
        if not isinstance(cooldown, int) or isinstance(cooldown, bool):
            raise ProblemError(f"rules.repeat_cooldown_weeks: must be an integer, got {cooldown!r}")
        if not 0 <= cooldown <= MAX_COOLDOWN_WEEKS:
            raise ProblemError(
                f"rules.repeat_cooldown_weeks: must be from 0 to {MAX_COOLDOWN_WEEKS}, "
                f"got {cooldown}"
            )
        size = self.group_size
        if not isinstance(size, int) or isinstance(size, bool):
            raise ProblemError(f"rules.group_size: must be an integer, got {size!r}")
        if not MIN_GROUP_SIZE <= size <= MAX_GROUP_SIZE:
            raise ProblemError(
                f"rules.group_size: must be from {MIN_GROUP_SIZE} to {MAX_GROUP_SIZE}, got {size}"
            )
        if not isinstance(self.weights, Weights):
            raise ProblemError("rules.weights: must be a Weights instance")
        if not isinstance(self.distinct_roles, bool):
            raise ProblemError(
                f"rules.distinct_roles: must be true or false, got {self.distinct_roles!r}"
            )
        if not isinstance(self.avoid_managers, bool):
            raise ProblemError(
                f"rules.avoid_managers: must be true or false, got {self.avoid_managers!r}"
            )
        if self.distinct_roles and size != 2:
            raise ProblemError(
                f"rules.distinct_roles: needs group_size 2 (pairs of two roles), got {size}"
            )

    @classmethod
    def from_dict(cls, data: Any) -> Rules:
        """Build rules from a JSON object; missing keys take defaults, unknown keys raise."""
        if not isinstance(data, dict):
            raise ProblemError(f"rules: must be an object, got {type(data).__name__}")
        known = tuple(f.name for f in fields(cls))
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ProblemError(f"rules: unknown rule {unknown[0]!r} (known: {', '.join(known)})")
        values = dict(data)
        if "weights" in values:
            values["weights"] = Weights.from_dict(values["weights"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Rules as a JSON object that `from_dict` reads back unchanged."""
        return {
            "cross_team_only": self.cross_team_only,
            "repeat_cooldown_weeks": self.repeat_cooldown_weeks,
            "group_size": self.group_size,
            "weights": self.weights.to_dict(),
            "distinct_roles": self.distinct_roles,
            "avoid_managers": self.avoid_managers,
        }


DEFAULT_RULES = Rules()
