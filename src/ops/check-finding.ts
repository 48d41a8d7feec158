/**
 * What `registrator check` reports: one key (or one entry) that the rest of the tree contradicts,
 * what it holds, why it is wrong, and exactly what its fix deletes and is judged on.
 */

/**
 * `label-key`: a `labels/<label>/<id>` index key; `host-key`: a `hosts/<host>/<name>` key; `entry`: a
 * `containers/<id>/` entry; `mirror-record`: a mirror index record `/_registrator/owners/<host>/mirror/<dir>/<id>`;
 * `registry-record`: a registry's ownership record `/_registrator/owners/<host>/<scheme>/<path>/...`;
 * `host-claim`: a host-name claim `/_registrator/hosts/<host>` that never ends (no lease) or is not a claim.
 * @public
 */
export type FindingKind = 'label-key' | 'host-key' | 'entry' | 'mirror-record' | 'registry-record' | 'host-claim';

/** One key, or every key under a prefix (a range). */
export type KeySpan = { key: string } | { prefix: string };

export interface Finding {
  kind: FindingKind;
  /** The key found wrong; for an entry, its `containers/<id>/` prefix. */
  key: string;
  /** What the key holds; null for an entry (a range of keys). */
  value: string | null;
  reason: string;
  /**
   * The keys and ranges, besides those deleted, whose state at the check's revision (a value, or
   * being absent) made this a finding. The fix goes ahead only while they and the deleted ones are
   * unchanged since that revision.
   */
  judgedOn: KeySpan[];
  /** What `--fix` deletes, the finding's own key (or range) first. */
  deletes: KeySpan[];
}
