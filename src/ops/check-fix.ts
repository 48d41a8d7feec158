import type { Etcd3, ICompare, ITxnRequest } from 'etcd3';
import { MAX_TXN_BYTES, MAX_TXN_OPS, prefixEnd, toRequestOp } from '../etcd/key-ops';
import type { Finding, KeySpan } from './check-finding';

/** What `--fix` did with a finding: deleted its keys, or kept them because something it was judged on changed. */
export type FixOutcome = 'deleted' | 'kept';

/** Findings fixed at once (each one transaction, or a few for a very large entry). */
const FIXES_IN_FLIGHT = 8;

/** `mod_revision < revision + 1`: unchanged since `revision`, and for an absent key (mod_revision 0) still absent. */
function unchangedSince(span: KeySpan, revision: string): ICompare {
  const compare: ICompare = { target: 'Mod', result: 'Less', mod_revision: (BigInt(revision) + 1n).toString() };
  return 'key' in span
    ? { ...compare, key: Buffer.from(span.key) }
    : { ...compare, key: Buffer.from(span.prefix), range_end: prefixEnd(span.prefix) };
}

function deletion(span: KeySpan) {
  return toRequestOp('key' in span ? { delete: span.key } : { deletePrefix: span.prefix });
}

/** Request bytes of a compare and a delete of a span, with framing (a range carries its end too). */
function spanBytes(span: KeySpan): number {
  return 'key' in span ? 2 * Buffer.byteLength(span.key) + 64 : 4 * Buffer.byteLength(span.prefix) + 64;
}

/**
 * The transactions that fix one finding as of `revision`: each compares every key and range the
 * finding was judged on, and those it deletes, with `mod_revision < revision + 1`, and deletes only
 * if they all hold. One transaction unless the finding deletes more keys than etcd takes in one
 * (an entry with many labels/ keys): then the extra keys go first, a share per transaction, each
 * under the same guard plus its own keys, and the finding's own key or range goes last. Pure.
 */
export function fixTxns(finding: Finding, revision: string): ITxnRequest[] {
  const [own, ...rest] = finding.deletes;
  const guard = [...finding.judgedOn, own];
  const all = [...guard, ...rest];
  const bytes = (spans: readonly KeySpan[]) => spans.reduce((n, s) => n + spanBytes(s), 0);
  const txn = (compared: readonly KeySpan[], deleted: readonly KeySpan[]): ITxnRequest => ({
    compare: compared.map((s) => unchangedSince(s, revision)),
    success: deleted.map(deletion),
  });
  if (all.length <= MAX_TXN_OPS && bytes(all) <= MAX_TXN_BYTES) return [txn(all, finding.deletes)];
  const txns: ITxnRequest[] = [];
  let share: KeySpan[] = [];
  for (const span of rest) {
    if (share.length > 0 && (guard.length + share.length >= MAX_TXN_OPS || bytes([...guard, ...share, span]) > MAX_TXN_BYTES)) {
      txns.push(txn([...guard, ...share], share));
      share = [];
    }
    share.push(span);
  }
  if (share.length > 0) txns.push(txn([...guard, ...share], share));
  txns.push(txn(guard, [own]));
  return txns;
}

/**
 * Fixes each finding in its own guarded transaction(s), as of the check's `revision`, and says per
 * finding what happened; a finding whose guard fails is kept (and, when split, what is left of it).
 * Findings never share a key they delete, and a deletion only makes another finding's guard hold,
 * so the order they are fixed in does not matter.
 */
export async function fixFindings(client: Etcd3, findings: readonly Finding[], revision: string): Promise<FixOutcome[]> {
  const outcomes: FixOutcome[] = new Array(findings.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < findings.length) {
      const i = next++;
      outcomes[i] = 'deleted';
      for (const txn of fixTxns(findings[i], revision)) {
        if ((await client.kv.txn(txn)).succeeded) continue;
        outcomes[i] = 'kept';
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(FIXES_IN_FLIGHT, findings.length) }, worker));
  return outcomes;
}
