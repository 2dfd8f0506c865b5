"""One router per resource; each a handful of lines per route."""
