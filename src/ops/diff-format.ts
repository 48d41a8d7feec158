import type { DiffReport } from './diff';

/**
 * `registrator diff` as text: per writer, the services that would change, then `+` new keys,
 * `~` changed keys and `-` deleted keys with their values; a last line sums it up. Pure.
 */
export function formatDiff(report: DiffReport): string {
  const lines: string[] = [];
  for (const writer of report.writers) {
    if (!writer.covered) {
      lines.push(`${writer.writer}: ${writer.reason}`);
      continue;
    }
    if (writer.put.length + writer.delete.length === 0) {
      lines.push(`${writer.writer}: nothing to change`);
      continue;
    }
    lines.push(`${writer.writer}:`);
    for (const s of writer.services ?? []) lines.push(`  ${s.change} ${s.id} (${s.name}, container ${s.containerId.slice(0, 12)})`);
    for (const p of writer.put)
      lines.push(p.previous === null ? `  + ${p.key} = ${p.value}` : `  ~ ${p.key} = ${p.value} (was ${p.previous})`);
    for (const d of writer.delete) lines.push(`  - ${d.key} = ${d.previous}`);
  }
  for (const writer of report.writers) {
    if (writer.covered) for (const warning of writer.warnings) lines.push(`${writer.writer}: skipped: ${warning}`);
  }
  if (report.changes === 0) lines.push(`host ${report.host}: nothing to change`);
  else {
    const puts = report.writers.reduce((n, w) => n + (w.covered ? w.put.length : 0), 0);
    lines.push(`host ${report.host}: ${puts} key${puts === 1 ? '' : 's'} to put, ${report.changes - puts} to delete`);
  }
  return lines.join('\n');
}
