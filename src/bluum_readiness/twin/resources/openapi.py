"""Placeholder: the OpenAPI document route is added with the OpenAPI work package."""

from starlette.routing import Route

routes: list[Route] = []
