"""manifest.yml against Slack's published app manifest schema, for the keys and limits it defines.

The schema is slackapi/manifest-schema's `schemas/manifest.schema.1.0.0.json` (commit 4a68bcc),
its parts a classic Bolt app uses copied into fixtures/slack_manifest_schema_v1.json. No
jsonschema dependency for one test: `problems` checks the keywords those parts use.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from bot.installs import BOT_SCOPES, REDIRECT_PATH

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "slack_manifest_schema_v1.json").read_text())
KNOWN = {"type", "required", "additionalProperties", "properties", "items", "minLength", "maxLength", "minItems",
         "maxItems", "uniqueItems", "pattern", "regex", "enum", "$ref", "default", "description",
         "definitions", "_source", "_note"}
TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "integer": int}


def problems(value, schema: dict, path: str = "") -> list[str]:
    """Where `value` breaks `schema` (the subset of JSON Schema draft 7 the fixture uses)."""
    if "$ref" in schema:
        schema = SCHEMA["definitions"][schema["$ref"].rsplit("/", 1)[-1]]
    unknown = set(schema) - KNOWN
    assert not unknown, f"{path}: the checker does not know {unknown}"
    where = path or "(top)"
    kind = schema.get("type")
    if kind and not (isinstance(value, TYPES[kind]) and not (kind == "integer" and isinstance(value, bool))):
        return [f"{where}: should be {kind}, is {type(value).__name__}"]
    found = []
    if isinstance(value, dict):
        found += [f"{where}: {key} is required" for key in schema.get("required", []) if key not in value]
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                found += problems(item, properties[key], f"{path}.{key}".lstrip("."))
            elif schema.get("additionalProperties") is False:
                found.append(f"{where}: {key} is not a key Slack knows")
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            found.append(f"{where}: more than {schema['maxItems']} items")
        if "minItems" in schema and len(value) < schema["minItems"]:
            found.append(f"{where}: fewer than {schema['minItems']} items")
        if schema.get("uniqueItems") and len({json.dumps(v, sort_keys=True) for v in value}) != len(value):
            found.append(f"{where}: items repeat")
        for n, item in enumerate(value):
            found += problems(item, schema.get("items", {}), f"{path}[{n}]")
    if isinstance(value, str):
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(f"{where}: longer than {schema['maxLength']}")
        if "minLength" in schema and len(value) < schema["minLength"]:
            found.append(f"{where}: shorter than {schema['minLength']}")
        # Slack's schema says "regex" for background_color: held to it like a pattern.
        for key in ("pattern", "regex"):
            if key in schema and not re.search(schema[key], value):
                found.append(f"{where}: {value!r} does not match {schema[key]}")
        if "enum" in schema and value not in schema["enum"]:
            found.append(f"{where}: {value!r} is not one of {schema['enum']}")
    return found


def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_the_manifest_keeps_to_slacks_schema():
    assert problems(manifest(), SCHEMA) == []


@pytest.mark.parametrize(("change", "complaint"), [
    (lambda m: m["display_information"].update(name="G" * 36), "display_information.name: longer than 35"),
    (lambda m: m["display_information"].update(background_color="green"), "does not match"),
    (lambda m: m["features"]["slash_commands"][0].update(command="growth"), "does not match"),
    (lambda m: m["features"]["slash_commands"][0].update(description=""), "shorter than 1"),
    (lambda m: m["settings"].update(socket_mode="yes"), "socket_mode is not a key Slack knows"),
    (lambda m: m["oauth_config"].update(redirect_urls=["https://a/slack/oauth_redirect"] * 2), "items repeat"),
    (lambda m: m["settings"]["interactivity"].pop("is_enabled"), "is_enabled is required"),
    (lambda m: m["settings"].update(org_deploy_enabled="true"), "should be boolean"),
])
def test_the_check_catches_what_slack_would_refuse(change, complaint):
    broken = manifest()
    change(broken)
    assert any(complaint in line for line in problems(broken, SCHEMA))


def test_an_install_asks_for_the_manifests_bot_scopes():
    assert list(BOT_SCOPES) == manifest()["oauth_config"]["scopes"]["bot"]


def test_the_manifest_names_the_redirect_url_the_bot_serves():
    text = (ROOT / "manifest.yml").read_text()
    assert f"https://YOUR-HOST{REDIRECT_PATH}" in text
    assert "https://YOUR-HOST/slack/install" in text
    # The redirect URL as it would be uncommented holds to the schema too.
    with_redirect = manifest()
    with_redirect["oauth_config"]["redirect_urls"] = [f"https://YOUR-HOST{REDIRECT_PATH}"]
    assert problems(with_redirect, SCHEMA) == []


def test_every_event_the_bot_listens_to_is_subscribed_in_the_manifest():
    # Slack sends only subscribed events: a listener without its subscription never runs (the
    # uninstall handling did exactly that until its events were added). `message` comes as
    # message.im; the Grid-only events are named in the manifest's org_deploy comment instead.
    listened = set()
    for source in (ROOT / "bot" / "listeners").glob("*.py"):
        listened |= set(re.findall(r'app\.event\("([a-z_.]+)"', source.read_text()))
    subscribed = set(manifest()["settings"]["event_subscriptions"]["bot_events"])
    grid_only = {"team_access_granted", "team_access_revoked"}
    text = (ROOT / "manifest.yml").read_text()
    assert listened - grid_only - {"message"} <= subscribed
    assert "message.im" in subscribed
    assert all(event in text for event in grid_only & listened)
    assert {"app_uninstalled", "tokens_revoked", "app_home_opened"} <= listened
