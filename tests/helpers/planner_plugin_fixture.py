"""A planner kind as a plugin package would register it, for the plan-eval registry tests.

``tests/planners/test_planner_kinds.py`` points a hand-made ``importlib.metadata.EntryPoint``
at ``planner_plugin_fixture:EchoPlanner`` (``tests/conftest.py`` puts this folder on
``sys.path``), so the entry-point loader imports a real module, as it would for an installed
package.
"""

from pathlib import Path

from ahd.planners.competition.planner_base import Invocation, Limits, Outcome, Planner
from ahd.planners.competition.suite import Task


class EchoPlanner(Planner):
    """Writes its configuration as the plan: a planner with a known, trivial outcome."""

    kind = "echo"

    def invocation(self, task: Task, workdir: Path, limits: Limits,
                   deadline: float) -> Invocation:
        plan = workdir / "plan"
        return Invocation(["sh", "-c", f"echo '({self.config})' > {plan}"], plan, {})

    def interpret(self, returncode: int, log: str, workdir: Path) -> Outcome:
        plan = workdir / "plan"
        return Outcome("plan", plan) if returncode == 0 and plan.is_file() else Outcome("error")


#: Not a planner class: an entry point naming it is refused.
NOT_A_PLANNER = "just a string"
