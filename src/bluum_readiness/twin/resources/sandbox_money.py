"""Placeholder: sandbox controls of this area are added by its work package (paths relative to /_sandbox)."""

from starlette.routing import Route

routes: list[Route] = []
