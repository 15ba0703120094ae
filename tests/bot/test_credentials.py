"""Which channels run: those whose variables are set; a half-configured channel stops start-up."""

from __future__ import annotations

import pytest

from bot.channels.credentials import MissingCredentials, enabled_channels

CHANNELS = {
    "rest": None,
    "socketio": {"cors_allowed_origins": "${CORS_ORIGINS:-*}"},
    "slack": {"slack_token": "${SLACK_TOKEN}", "slack_signing_secret": "${SLACK_SIGNING_SECRET}",
              "api_url": "${SLACK_API_URL:-https://slack.invalid/api/}"},
}


def test_channels_without_their_variables_are_left_out() -> None:
    """Unset secrets disable the channel; optional settings take their defaults."""
    assert enabled_channels(CHANNELS, {}) == {"rest": None, "socketio": {"cors_allowed_origins": "*"}}


def test_channel_with_all_variables_is_enabled_and_secrets_stay_references() -> None:
    """Secrets are left as ${VAR} for Rasa to fill; optional ones are filled here."""
    env = {"SLACK_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "http://127.0.0.1:9/api/", "CORS_ORIGINS": "https://firm.example"}
    enabled = enabled_channels(CHANNELS, env)
    assert enabled["slack"] == {"slack_token": "${SLACK_TOKEN}", "slack_signing_secret": "${SLACK_SIGNING_SECRET}",
                                "api_url": "http://127.0.0.1:9/api/"}
    assert enabled["socketio"] == {"cors_allowed_origins": "https://firm.example"}


def test_half_configured_channel_names_the_missing_variable() -> None:
    """A token without its signing secret is an error that names SLACK_SIGNING_SECRET."""
    with pytest.raises(MissingCredentials, match="SLACK_SIGNING_SECRET"):
        enabled_channels(CHANNELS, {"SLACK_TOKEN": "xoxb-1"})
