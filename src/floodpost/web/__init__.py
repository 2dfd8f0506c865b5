"""The web layer: FastAPI app, routers, templates. Only this package imports FastAPI."""
