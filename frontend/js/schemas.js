// @ts-check
/**
 * JSDoc shapes of the REST payloads the page reads, after backend/schemas.py (the contract).
 * Types only: `tsc` checks the page against them; at run time this module exports nothing.
 * Only the fields the page uses are required to be exact; relation and direction stay plain
 * strings because the page compares them with values read from the URL and the DOM.
 */

/**
 * @typedef {object} ErrorPublic
 * @property {string} error - A stable machine code, e.g. 'not_found'.
 * @property {string} detail - A human sentence.
 */

/**
 * @typedef {object} DatasetSummary
 * @property {string} id
 * @property {string|null} [author]
 * @property {number} downloads
 * @property {number} likes
 * @property {string|null} [license]
 * @property {number} num_labels
 * @property {number|null} [num_examples]
 * @property {'ok'|'skipped'|'failed'} status
 * @property {string|null} [skip_reason]
 * @property {string[]} [matched_labels] - The classes a `label=` search matched.
 */

/**
 * @typedef {object} DatasetsPublic
 * @property {number} total
 * @property {number} [limit]
 * @property {number} [offset]
 * @property {DatasetSummary[]} items
 */

/**
 * @typedef {object} BoxPublic
 * @property {number[]} lo
 * @property {number[]} hi
 */

/**
 * @typedef {DatasetSummary & {
 *   pretty_name?: string|null, description?: string|null, tags?: string[],
 *   splits?: Record<string, number>, labels: string[], labels_truncated?: boolean,
 *   opaque_labels?: boolean, sha?: string|null, last_modified?: string|null,
 *   crawled_at?: string|null, source: string, error?: string|null, hub_url?: string|null,
 *   boxes?: Record<string, BoxPublic>}} DatasetPublic
 */

/**
 * @typedef {object} MapPublic
 * @property {number} id
 * @property {string} relation - 'containment' or 'transfer'.
 * @property {number} dim
 * @property {string} representation
 * @property {string} status - 'training', 'ready', 'published', 'retired' or 'failed'.
 * @property {number} size - Number of boxes.
 * @property {Record<string, unknown>} [params] - `params.model` names the network.
 * @property {Record<string, number>} [metrics] - e.g. `fidelity_f1`, `fidelity_spearman`.
 * @property {boolean} [has_network]
 * @property {string|null} [error]
 * @property {string} created_at
 * @property {string|null} [published_at]
 */

/**
 * @typedef {object} MapsPublic
 * @property {MapPublic[]} items
 */

/**
 * The compact column form of every box of a map, index-aligned.
 * @typedef {object} MapBoxesPublic
 * @property {MapPublic} map
 * @property {string[]} ids
 * @property {number[][]} lo
 * @property {number[][]} hi
 * @property {number[]} num_labels
 * @property {(number|null)[]} num_examples
 * @property {number[]} downloads
 * @property {(number|null)[]} license - Index into `licenses`, or null.
 * @property {string[]} licenses
 * @property {boolean[]} measured
 */

/**
 * @typedef {object} MapRef
 * @property {number} id
 * @property {string} relation
 * @property {number} dim
 * @property {string} [representation]
 */

/**
 * @typedef {object} RelatedItem
 * @property {string} id
 * @property {number} score
 * @property {number} p_in - P(A⊆B), A the queried dataset.
 * @property {number} p_contains - P(B⊆A).
 * @property {string[]} [shared_labels]
 * @property {boolean} measured
 * @property {number|null} [measured_score]
 * @property {'measured'|'estimated'|'predicted'|null} [kind] - transfer lists: where the
 *   pair's score comes from; null for containment.
 */

/**
 * @typedef {object} RelatedPublic
 * @property {string} [dataset]
 * @property {string} relation
 * @property {string} [direction]
 * @property {MapRef} map
 * @property {RelatedItem[]} items
 */

/**
 * @typedef {object} SampleImagePublic
 * @property {string} src - On the dataset viewer's asset host.
 * @property {string} label - The image's class name.
 */

/**
 * @typedef {object} SamplesPublic
 * @property {string} dataset_id
 * @property {SampleImagePublic[]} items - Empty when the viewer is off, unreachable or has none.
 * @property {string|null} note - Why `items` is empty.
 */

/**
 * @typedef {object} LabelPointsPublic
 * @property {MapRef} map
 * @property {string} dataset
 * @property {string[]} labels
 * @property {number[][]} points - One point per label, in the map's dims.
 */

/**
 * @typedef {object} PlacePublic
 * @property {MapRef} map - The map whose network placed `box` and gave the scores.
 * @property {BoxPublic} box
 * @property {Record<string, BoxPublic>} [boxes] - The predicted box per published map id.
 * @property {RelatedItem[]} contained_in
 * @property {RelatedItem[]} contains
 */

/**
 * @typedef {object} JobPublic
 * @property {number} id
 * @property {string} kind - 'crawl' or 'train'.
 * @property {string} status - 'queued', 'running', 'succeeded' or 'failed'.
 * @property {number} progress
 * @property {number|null} total
 * @property {string|null} message
 * @property {string|null} error - Why it failed (a failed job only).
 */

/**
 * @typedef {object} JobsPublic
 * @property {JobPublic[]} items
 */

/**
 * @typedef {object} HealthPublic
 * @property {string} status
 * @property {boolean} database
 * @property {Record<string, number|null>} published_maps
 */

export {};
