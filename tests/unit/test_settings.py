"""Settings: a typed model of the environment, checked when a function starts, with one error
naming every variable that is missing or empty."""

import pytest

from modelops import settings
from modelops.handler import lambda_entry
from modelops_dev.sandbox import PROJECT_ROOT
from modelops_dev.sandbox.template import load


def test_the_environment_becomes_typed_settings(function_environment):
    loaded = settings.load(function_environment)
    assert (loaded.bucket, loaded.registry_table) == ("test-bucket", "test-registry_table")
    assert settings.load({**function_environment, "UNRELATED": "x"}) == loaded  # others are ignored
    optional = {
        k: v for k, v in function_environment.items() if k not in ("ALERT_TOPIC_ARN", "LAKE_DATABASE")
    }
    assert settings.load(optional).lake_database == ""


def test_a_missing_or_empty_variable_is_one_error_naming_it(function_environment):
    without = {k: v for k, v in function_environment.items() if k not in ("REGISTRY_TABLE", "SCORES_TABLE")}
    with pytest.raises(settings.SettingsError) as missing:
        settings.load({**without, "MODELOPS_BUCKET": ""})
    assert str(missing.value) == (
        "modelops settings: missing environment variable REGISTRY_TABLE, SCORES_TABLE; empty environment "
        "variable MODELOPS_BUCKET (template.yaml's Globals give every function these)"
    )
    with pytest.raises(settings.SettingsError, match="variable READER_GRACE_SECONDS is not a whole number"):
        settings.load({**function_environment, "READER_GRACE_SECONDS": "15 minutes"})


def test_a_handler_fails_its_cold_start_naming_the_missing_variable(function_environment, monkeypatch):
    def stage(doc: settings.Settings) -> settings.Settings:
        return doc

    monkeypatch.delenv("METADATA_TABLE")
    with pytest.raises(settings.SettingsError, match="missing environment variable METADATA_TABLE"):
        lambda_entry(stage)  # made when the function's module loads: its cold start


def test_the_templates_globals_give_every_function_each_required_setting():
    template = load(PROJECT_ROOT / "template.yaml")
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    settings.load(
        {**dict.fromkeys(variables, "from the template"), "READER_GRACE_SECONDS": "900"}
    )  # nothing missing
    required = {f.alias for f in settings.Settings.model_fields.values() if f.is_required()}
    assert required <= set(variables)
