"""The repository: the ONLY code that builds queries or commits.

Every function takes a `Session` first, then keyword-only arguments (the three crawler-facing
functions `get_dataset_shas`, `save_crawl_batch` and `update_popularity` also accept their
second argument positionally, as the crawler contract spells them), and returns plain records
(`backend.db.repository._types`), never ORM objects. Functions that write commit once, so
each call is one transaction. The implementation is split by table family into private
modules; import from here.
"""

from backend.db.repository._common import labels_hash
from backend.db.repository._crawl import (
    get_dataset_shas,
    get_dataset_sources,
    save_crawl_batch,
    update_popularity,
)
from backend.db.repository._datasets import (
    MAX_PAGE,
    count_datasets,
    get_dataset,
    get_dataset_summaries,
    get_label_sets,
    get_labels_hashes,
    list_licenses,
    search_datasets,
)
from backend.db.repository._jobs import (
    INTERRUPTED_MESSAGE,
    claim_job,
    create_job,
    fail_interrupted_jobs,
    fail_job,
    finish_job,
    get_active_job,
    get_job,
    list_jobs,
    update_job_progress,
)
from backend.db.repository._maps import (
    RELATIONS,
    count_published_maps,
    create_map,
    fail_map,
    finish_map,
    get_dataset_boxes,
    get_map,
    get_map_boxes,
    get_map_checkpoint,
    get_published_map,
    list_maps,
    publish_map,
    save_map_boxes,
)
from backend.db.repository._representations import (
    get_representation_states,
    load_representations,
    save_representations,
)
from backend.db.repository._transfer import get_transfer_scores, save_transfer_scores
from backend.db.repository._types import (
    BoxRecord,
    CountsByStatus,
    DatasetDetail,
    DatasetPage,
    DatasetSummary,
    JobRecord,
    JobStatus,
    LabelSet,
    MapBoxes,
    MapRecord,
    MapStatus,
    RepresentationIn,
    RepresentationMatrix,
    RepresentationState,
    TransferScoreRecord,
)

__all__ = [
    "INTERRUPTED_MESSAGE",
    "MAX_PAGE",
    "RELATIONS",
    "BoxRecord",
    "CountsByStatus",
    "DatasetDetail",
    "DatasetPage",
    "DatasetSummary",
    "JobRecord",
    "JobStatus",
    "LabelSet",
    "MapBoxes",
    "MapRecord",
    "MapStatus",
    "RepresentationIn",
    "RepresentationMatrix",
    "RepresentationState",
    "TransferScoreRecord",
    "claim_job",
    "count_datasets",
    "count_published_maps",
    "create_job",
    "create_map",
    "fail_interrupted_jobs",
    "fail_job",
    "fail_map",
    "finish_job",
    "finish_map",
    "get_active_job",
    "get_dataset",
    "get_dataset_boxes",
    "get_dataset_shas",
    "get_dataset_sources",
    "get_dataset_summaries",
    "get_job",
    "get_label_sets",
    "get_labels_hashes",
    "get_map",
    "get_map_boxes",
    "get_map_checkpoint",
    "get_published_map",
    "get_representation_states",
    "get_transfer_scores",
    "labels_hash",
    "list_jobs",
    "list_licenses",
    "list_maps",
    "load_representations",
    "publish_map",
    "save_crawl_batch",
    "save_map_boxes",
    "save_representations",
    "save_transfer_scores",
    "search_datasets",
    "update_job_progress",
    "update_popularity",
]
