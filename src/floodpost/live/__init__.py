"""The live command post: event stream, live map state, escalation and silent zones."""
