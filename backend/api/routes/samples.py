"""Sample images of a stored dataset, from the dataset viewer.

Under `/api/samples/{id}` rather than `/api/datasets/{id}/samples`: ids hold a slash, so a
suffix route would shadow every Hub dataset named `samples` (`owner/samples`).
"""

from __future__ import annotations

from fastapi import APIRouter

from backend import schemas
from backend.api.errors import error_responses
from backend.api.ids import checked_dataset_id
from backend.api.params import DatasetIdPath
from backend.db import repository
from backend.deps import SamplesDep, SessionDep
from backend.errors import NotFoundError

router = APIRouter(prefix="/api/samples", tags=["datasets"])


@router.get(
    "/{dataset_id:path}", response_model=schemas.SamplesPublic, responses=error_responses(404, 422)
)
def dataset_samples(
    dataset_id: DatasetIdPath, session: SessionDep, samples: SamplesDep
) -> schemas.SamplesPublic:
    """A few images of a stored dataset from the dataset viewer's first rows, each with its
    class name; an empty list with a `note` when the viewer is off, unreachable or has none.
    The browser loads the images from the viewer's host (the page's CSP allows it)."""
    dataset_id = checked_dataset_id(dataset_id)
    if not repository.dataset_exists(session, dataset_id=dataset_id):
        raise NotFoundError(f"no dataset {dataset_id!r}")
    return samples.for_dataset(dataset_id)
