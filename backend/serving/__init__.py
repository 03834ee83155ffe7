"""Read-side services shared by the API routes and the CLI: the in-memory cache of map arrays,
ranking related datasets, the `/boxes` payload and placing unseen datasets.

Routes stay thin (HTTP ↔ these functions); the CLI calls the same functions, so `task2box
place` and `POST /api/place` answer alike by construction.
"""
