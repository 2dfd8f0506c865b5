"""floodpost: a flood-response command post for a county (绥宁县 first)."""

__version__ = "0.1.0"
