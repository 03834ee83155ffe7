"""Every route module, mounted in one place."""

from __future__ import annotations

from fastapi import APIRouter

from backend.api.routes import datasets, health, jobs, maps, place, samples, transfer

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(datasets.router)
api_router.include_router(maps.router)
api_router.include_router(place.router)
api_router.include_router(jobs.router)
api_router.include_router(transfer.router)
api_router.include_router(samples.router)
