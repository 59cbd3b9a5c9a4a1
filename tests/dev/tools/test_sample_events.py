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


def test_make_events_writes_the_event_of_every_function_a_state_machine_invokes():
    invoked = {function for flow in ("training", "scoring") for function in asl_functions(flow)}
    assert set(sample_events.FUNCTIONS.values()) == invoked
    assert {event_name(f) for f in invoked} == set(sample_events.FUNCTIONS)
