/**
 * Test fixtures: a small map payload in the API's column form (MapBoxesPublic).
 */

/**
 * A map payload of `n` boxes on a diagonal; box i has i+2 classes and 1000·(n−i) downloads.
 * @param {number} n - Number of boxes.
 * @returns {object} The payload.
 */
export function payload(n = 5) {
  const ids = [];
  const lo = [];
  const hi = [];
  for (let i = 0; i < n; i += 1) {
    ids.push(`owner/ds-${i}`);
    lo.push([i, i, 0.5]);
    hi.push([i + 2, i + 1, 0.7]);
  }
  return {
    map: {
      id: 'm1',
      relation: 'containment',
      dim: 3,
      representation: 'label-text',
      status: 'published',
      size: n,
    },
    ids,
    lo,
    hi,
    num_labels: ids.map((_, i) => i + 2),
    num_examples: ids.map((_, i) => (i === 1 ? null : 10 ** (i + 2))),
    downloads: ids.map((_, i) => 1000 * (n - i)),
    license: ids.map((_, i) => (i === 0 ? null : i % 2)),
    licenses: ['mit', 'apache-2.0'],
    measured: ids.map((_, i) => i !== 2),
  };
}
