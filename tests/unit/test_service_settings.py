"""Every service reads its settings through one layer: each field from its variable, a clear
error naming the variable, and ``--help`` listing every variable the settings read."""

from __future__ import annotations

import dataclasses

import pytest

from streamproc._settings import SettingsError
from streamproc.connect import ConnectSettings
from streamproc.sink import SinkSettings
from streamproc.worker._settings import WorkerSettings

SERVICES = [ConnectSettings, SinkSettings, WorkerSettings]


@pytest.mark.parametrize("cls", SERVICES)
def test_help_lists_every_variable(cls: type) -> None:
    text = cls.help()  # type: ignore[attr-defined]
    for field in dataclasses.fields(cls):
        variable = field.metadata.get("env")
        if variable:
            assert f"{variable}=" in text


def test_connect_reads_its_variables() -> None:
    env = {"STREAMPROC_CONNECT_PORT": "9100", "STREAMPROC_CONNECT_PUBLISH_TIMEOUT": "2.5"}
    settings = ConnectSettings.from_env(env)
    assert (settings.port, settings.publish_timeout) == (9100, 2.5)
    assert ConnectSettings.from_env(env, port=9200).port == 9200  # an option wins
    assert ConnectSettings.from_env({}).port == 8080


def test_sink_reads_its_variables_and_channel_modes() -> None:
    env = {
        "STREAMPROC_SINK_RETRY_FOR": "60",
        "STREAMPROC_LOG_LEVEL": "info",
        "STREAMPROC_YOUTUBE_REMOVE": "Delete",
    }
    settings = SinkSettings.from_env(env)
    assert settings.retry_for == 60.0
    assert settings.log_level == "INFO"
    assert settings.remove_modes["youtube"] == "delete"
    assert settings.remove_modes["facebook"] == "hide"


@pytest.mark.parametrize(
    ("cls", "env", "message"),
    [
        (ConnectSettings, {"STREAMPROC_CONNECT_PORT": "80a"}, "STREAMPROC_CONNECT_PORT='80a'"),
        (SinkSettings, {"STREAMPROC_SINK_HTTP_TIMEOUT": "soon"}, "expected a number"),
        (SinkSettings, {"STREAMPROC_LINKEDIN_REPLY": "shout"}, "expected one of private, public"),
        (WorkerSettings, {"STREAMPROC_BATCH_SIZE": "many"}, "expected an integer"),
    ],
)
def test_bad_values_name_the_variable(cls: type, env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        cls.from_env(env)  # type: ignore[attr-defined]
