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
    MAX_DATASETS_PER_QUERY,
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
    heartbeat_jobs,
    list_active_jobs,
    list_jobs,
    update_job_progress,
)
from backend.db.repository._label_matches import (
    get_map_label_matches,
    save_map_label_matches,
)
from backend.db.repository._maps import (
    count_published_maps,
    create_map,
    fail_map,
    finish_map,
    get_dataset_boxes,
    get_map,
    get_map_boxes,
    get_map_checkpoint,
    get_published_map,
    get_published_map_ids,
    get_published_maps,
    list_maps,
    probe_published_map_ids,
    publish_map,
    save_map_boxes,
    update_map_params,
)
from backend.db.repository._neighbors import (
    get_map_neighbors,
    maps_with_neighbors,
    save_map_neighbors,
)
from backend.db.repository._representations import (
    get_representation_states,
    load_representations,
    save_representations,
)
from backend.db.repository._transfer import (
    count_transfer_scores,
    get_dataset_texts,
    get_transfer_scores,
    get_transfer_summary,
    import_transfer,
)
from backend.db.repository._types import (
    BoxRecord,
    CountsByStatus,
    DatasetDetail,
    DatasetPage,
    DatasetSummary,
    DatasetText,
    JobRecord,
    LabelMatches,
    LabelSet,
    MapBoxes,
    MapNeighborRows,
    MapRecord,
    RepresentationIn,
    RepresentationMatrix,
    RepresentationState,
    TransferImportResult,
    TransferScoreRecord,
    TransferScoresSummary,
    TransferTaskIn,
)

# Still public names of the package (`__all__`), as the records that carry them are;
# they are defined once in `backend.vocab`, shared with the REST schemas.
from backend.vocab import JobStatus, MapStatus

__all__ = [
    "INTERRUPTED_MESSAGE",
    "MAX_DATASETS_PER_QUERY",
    "BoxRecord",
    "CountsByStatus",
    "DatasetDetail",
    "DatasetPage",
    "DatasetSummary",
    "DatasetText",
    "JobRecord",
    "JobStatus",
    "LabelMatches",
    "LabelSet",
    "MapBoxes",
    "MapNeighborRows",
    "MapRecord",
    "MapStatus",
    "RepresentationIn",
    "RepresentationMatrix",
    "RepresentationState",
    "TransferImportResult",
    "TransferScoreRecord",
    "TransferScoresSummary",
    "TransferTaskIn",
    "claim_job",
    "count_datasets",
    "count_published_maps",
    "count_transfer_scores",
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
    "get_dataset_texts",
    "get_job",
    "get_label_sets",
    "get_labels_hashes",
    "get_map",
    "get_map_boxes",
    "get_map_checkpoint",
    "get_map_label_matches",
    "get_map_neighbors",
    "get_published_map",
    "get_published_map_ids",
    "get_published_maps",
    "get_representation_states",
    "get_transfer_scores",
    "get_transfer_summary",
    "heartbeat_jobs",
    "import_transfer",
    "labels_hash",
    "list_active_jobs",
    "list_jobs",
    "list_licenses",
    "list_maps",
    "load_representations",
    "maps_with_neighbors",
    "probe_published_map_ids",
    "publish_map",
    "save_crawl_batch",
    "save_map_boxes",
    "save_map_label_matches",
    "save_map_neighbors",
    "save_representations",
    "search_datasets",
    "update_job_progress",
    "update_map_params",
    "update_popularity",
]
