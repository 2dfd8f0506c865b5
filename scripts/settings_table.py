"""Print the README's configuration table from the Settings class (tests/test_docs.py checks it)."""

from __future__ import annotations

from floodpost.settings import Settings


def settings_table() -> str:
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        if field.default_factory is not None:
            default = "(bundled Suining geodata)"
        elif field.default is None:
            default = "(unset)"
        else:
            default = f"`{field.default}`"
        lines.append(f"| `FLOODPOST_{name.upper()}` | {default} | {field.description} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(settings_table())
