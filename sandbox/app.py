"""The sandbox ASGI app: every provider under its own prefix, admin routes beside them."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount

from crmsync.sandbox.admin import admin_routes
from crmsync.sandbox.faults import FaultMiddleware, Faults, Stats
from crmsync.sandbox.world import World


def create_app(world: World, faults: Faults | None = None) -> Starlette:
    faults = faults or Faults()
    stats = Stats()
    providers = list(world.providers.values())
    routes = admin_routes(world, faults, stats)
    routes += [Mount(f"/_sandbox/{p.name}", routes=p.admin_routes()) for p in providers if p.admin_routes()]
    routes += [Mount(p.prefix, routes=p.routes()) for p in providers]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(FaultMiddleware, providers=providers, faults=faults, stats=stats)],
    )
    app.state.world = world
    app.state.faults = faults
    app.state.stats = stats
    return app
