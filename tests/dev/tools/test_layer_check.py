"""`make sizes`' import check gives each handler the environment the template gives it: the
template's own values, a parameter's default where a variable refers to one (the settings
check READER_GRACE_SECONDS as a number at cold start), a stand-in for what CloudFormation
resolves."""

from modelops.settings import load as load_settings
from modelops_dev.sandbox import PROJECT_ROOT
from modelops_dev.sandbox.template import load
from modelops_dev.tools.layer_check import _stand_in

TEMPLATE = load(PROJECT_ROOT / "template.yaml")


def test_each_global_variable_gets_a_value_the_settings_accept():
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    environment = {key: _stand_in(value, TEMPLATE) for key, value in variables.items()}
    assert environment["READER_GRACE_SECONDS"] == "900"  # ReaderGraceSeconds' default
    assert environment["POWERTOOLS_LOG_LEVEL"] == "INFO" and environment["SCORES_TABLE"] == "layer-check"
    assert load_settings(environment).reader_grace_seconds == 900
