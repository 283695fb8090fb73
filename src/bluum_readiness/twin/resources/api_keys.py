"""Placeholder: routes of this resource group are added by its work package."""

from starlette.routing import Route

routes: list[Route] = []
