"""events/ holds a sample event for every function of template.yaml, and `make events`
(modelops_dev.tools.sample_events) writes one for every function the state machines invoke."""

import re

from modelops_dev.sandbox import PROJECT_ROOT
from modelops_dev.sandbox.template import load
from modelops_dev.tools import sample_events
from tests.helpers import EVENTS, asl_functions

RESOURCES = load(PROJECT_ROOT / "template.yaml")["Resources"]
FUNCTIONS = [k for k, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"]


def event_name(function: str) -> str:
    """CollectOutcomesFunction -> collect_outcomes (the stage's and its event's name)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", function.removesuffix("Function")).lower()


def test_every_function_has_a_sample_event():
    assert len(FUNCTIONS) >= 17
    missing = [f for f in FUNCTIONS if not (EVENTS / f"{event_name(f)}.json").is_file()]
    assert missing == []


def every_function_of(flow: str) -> set[str]:
    """Every function a state machine may invoke, on its way and on its failure paths."""
    text = (PROJECT_ROOT / "statemachines" / f"{flow}.asl.json").read_text()
    return set(re.findall(r"\$\{(\w+Function)Arn\}", text))


def test_make_events_writes_the_event_of_every_function_a_state_machine_invokes():
    invoked = every_function_of("training") | every_function_of("scoring")
    assert set(asl_functions("scoring")) < invoked  # the failure path's explain_map_failure too
    assert set(sample_events.FUNCTIONS.values()) == invoked
    assert {event_name(f) for f in invoked} == set(sample_events.FUNCTIONS)
