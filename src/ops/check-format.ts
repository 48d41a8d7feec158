import type { CheckReport, ReportedFinding, StoreReport } from './check';

/** Longest value shown in text; --json has them whole. */
const VALUE_CHARS = 120;

/** How many findings `--fix` dealt with this way. */
function countFixes(findings: readonly { fix?: string }[], fix: string): number {
  return findings.filter((f) => f.fix === fix).length;
}

/** One line whatever a key or value holds: control characters escaped as `\uXXXX`. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what it escapes
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function shownValue(value: string): string {
  const line = oneLine(value);
  return line.length > VALUE_CHARS ? `${line.slice(0, VALUE_CHARS)}...` : line;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

const FIX_TEXT = { deleted: 'deleted', kept: 'kept: changed since the check' } as const;

function findingLine(f: ReportedFinding): string {
  const value = f.value === null ? '' : ` = ${shownValue(f.value)}`;
  return `${f.kind} ${oneLine(f.key)}${value}: ${oneLine(f.reason)}${f.fix ? `: ${FIX_TEXT[f.fix]}` : ''}`;
}

function storeLine(store: StoreReport, fix: boolean): string {
  const read: string[] = [];
  if (store.mirror) {
    const m = store.mirror;
    read.push(
      `${m.prefix} ${plural(m.keys, 'key')} (${plural(m.entries, 'entry', 'entries')}, ` +
        `${plural(m.hostKeys, 'hosts/ key')}, ${plural(m.labelKeys, 'labels/ key')}, ${m.notChecked} not checked)`,
    );
  }
  const o = store.owners;
  const scopes = [
    ...(store.mirror ? [`${o.mirrorRecords} mirror`] : []),
    ...o.registries.map((r) => `${r.records} ${r.registry}`),
    `${o.notChecked} not checked`,
  ];
  read.push(`${o.prefix} ${plural(o.records, 'record')} (${scopes.join(', ')})`);
  if (store.claims) read.push(`${store.claims.prefix} ${plural(store.claims.claims, 'host-name claim')} (${store.claims.leased} leased)`);
  const found = store.findings.length === 0 ? 'no findings' : plural(store.findings.length, 'finding');
  const fixed =
    fix && store.findings.length > 0
      ? `, ${countFixes(store.findings, 'deleted')} deleted, ${countFixes(store.findings, 'kept')} kept`
      : '';
  return `etcd ${store.etcd} at revision ${store.revision}: read ${read.join(' and ')} in ${plural(store.pages, 'page')}: ${found}${fixed}`;
}

/**
 * `registrator check` as text: one line per finding (kind, key, value, reason; with --fix what was
 * done), then one summary line per etcd read and a line per registry not checked. Pure.
 */
export function formatCheck(report: CheckReport): string {
  const lines: string[] = [];
  for (const store of report.stores) lines.push(...store.findings.map(findingLine));
  for (const store of report.stores) lines.push(storeLine(store, report.fix));
  for (const { registry, reason } of report.notCovered) lines.push(`${registry}: ${reason}`);
  return lines.join('\n');
}
