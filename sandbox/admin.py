"""`/_sandbox/...`: truth, churn, faults and stats, for tests and benchmarks only."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmsync.sandbox.faults import Faults, Stats
from crmsync.sandbox.world import World


def admin_routes(world: World, faults: Faults, stats: Stats) -> list[Route]:
    async def truth(request: Request) -> Response:
        return JSONResponse(world.truth())

    async def churn(request: Request) -> Response:
        body = await _body(request)
        try:
            shares = {k: float(body.get(k, 0.0)) for k in ("update", "create", "delete")}
            seed = int(body.get("seed", 1))
        except (TypeError, ValueError):
            return JSONResponse({"error": "update, create, delete are shares, seed an integer"}, 400)
        if any(not 0 <= v <= 1 for v in shares.values()):
            return JSONResponse({"error": "shares must be between 0 and 1"}, 400)
        return JSONResponse(world.churn(seed=seed, **shares))

    async def set_faults(request: Request) -> Response:
        body = await _body(request)
        unknown = set(body) - set(Faults.settings())
        if unknown:
            return JSONResponse({"error": f"unknown fault setting(s): {sorted(unknown)}"}, 400)
        try:
            faults.update(body)
        except ValueError as error:
            return JSONResponse({"error": str(error)}, 400)
        return JSONResponse(faults.as_dict())

    async def get_faults(request: Request) -> Response:
        return JSONResponse(faults.as_dict())

    async def get_stats(request: Request) -> Response:
        return JSONResponse(stats.as_dict())

    async def reset_stats(request: Request) -> Response:
        stats.reset()
        return JSONResponse(stats.as_dict())

    return [
        Route("/_sandbox/truth", truth, methods=["GET"]),
        Route("/_sandbox/churn", churn, methods=["POST"]),
        Route("/_sandbox/faults", set_faults, methods=["POST"]),
        Route("/_sandbox/faults", get_faults, methods=["GET"]),
        Route("/_sandbox/stats", get_stats, methods=["GET"]),
        Route("/_sandbox/stats", reset_stats, methods=["DELETE"]),
    ]


async def _body(request: Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
