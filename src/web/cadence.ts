/**
 * When the lab records a step besides the config's own schedule (record.every): every step of
 * the first 100, every 10th up to step 1000, then every 100th. The gradient changes fastest at
 * the start (the seed network's first layer gets 63× less error than the last at step 0 and
 * only 3× less by step 1000), so the charts sample the start densely and the rest sparsely.
 * These extra records only feed the page's charts; exports hold the config's records alone,
 * the same as `gradlab run` writes. Pure.
 */

/**
 * Whether the lab records step `s` on its own account.
 * @example [0, 99, 100, 105, 110, 1010, 1100].map(labRecords) // [true, true, true, false, true, false, true]
 */
export function labRecords(s: number): boolean {
  return s < 100 || (s < 1000 && s % 10 === 0) || s % 100 === 0;
}
