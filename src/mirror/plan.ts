import type { KeyOp } from '../etcd/key-ops';
import type { MirrorLayout } from './keys';

/**
 * What the mirror writes for one container (SPEC §3): a put for every key that is missing or holds
 * another value, a delete for every key held but no longer wanted. Pure: the writer commits the
 * result, `registrator diff` shows it.
 *
 * `held` is what this host holds for the container, `wanted` what it should hold (empty when the
 * container is no longer active).
 */
export function planMirror(id: string, held: ReadonlyMap<string, string>, wanted: ReadonlyMap<string, string>, layout: MirrorLayout): KeyOp[] {
  const ops: KeyOp[] = [];
  for (const [key, value] of wanted) if (held.get(key) !== value) ops.push({ put: key, value });
  for (const key of held.keys()) {
    if (wanted.has(key)) continue;
    // A hosts/<host>/<name> key may already belong to a new container of the same name.
    ops.push(key.startsWith(layout.hostsPrefix) ? { delete: key, ifValue: id } : { delete: key });
  }
  return ops;
}
