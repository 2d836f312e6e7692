"""Pure Block Kit builders: domain objects in, `slack_sdk.models` blocks out."""
