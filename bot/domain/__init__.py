"""Plain-Python domain logic: no Slack, no SQLAlchemy, testable in microseconds."""
