import type { Etcd3 } from 'etcd3';
import type { KeyOp } from '../../etcd/key-ops';
import { readPrefixes } from '../../etcd/reads';
import type { KeyLayout } from '../registration-ops';
import type { Service } from '../service';

/**
 * What `-cleanup` removes from an etcd-based registry, read without writing: services under the
 * layout's root whose ID starts with `<host>:` (this host's default ID, as gliderlabs/registrator
 * also writes it) that neither `keep` nor `held` accounts for, left by an earlier registrator without
 * ownership records, or by a hand. Returns the ops and the keys or trees they remove. Only the
 * names this host registers (now or by its records) are looked under, and in each only the IDs
 * that start with `<host>:`, so it costs what this host holds, not the fleet.
 */
export async function danglingOps(
  etcd: Etcd3,
  layout: KeyLayout,
  host: string,
  keep: readonly Service[],
  held: readonly Service[],
): Promise<{ ops: KeyOp[]; removed: string[] }> {
  const kept = new Set(keep.flatMap((s) => layout.entries(s).map(([key]) => key)));
  const names = new Set([...keep, ...held].map((s) => s.name));
  const ownId = `${host}:`;
  const ops: KeyOp[] = [];
  const removed = new Set<string>();
  // One batched read of `<root><name>/<host>:` for every name (each in pages when large).
  const found = await readPrefixes(
    etcd,
    [...names].map((name) => `${layout.root}${name}/${ownId}`),
  );
  for (const name of names) {
    const base = `${layout.root}${name}/`;
    for (const [key, value] of found.get(`${base}${ownId}`) ?? []) {
      const parts = key.slice(layout.root.length).split('/');
      const id = parts[1];
      if (kept.has(key) || (!layout.tree && parts.length !== 2)) continue;
      const tree = `${base}${id}/`;
      if (layout.tree && key.startsWith(tree)) {
        if (!removed.has(tree)) ops.push({ deletePrefix: tree });
        removed.add(tree);
      } else {
        ops.push({ delete: key, ifValue: value });
        removed.add(key);
      }
    }
  }
  return { ops, removed: [...removed] };
}
