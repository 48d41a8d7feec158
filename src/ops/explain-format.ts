import { describeClaim } from '../fleet/claim-record';
import type { ExplainReport } from './explain';
import type { LeftOut } from './left-out';

function leftOutLines(items: readonly LeftOut[]): string[] {
  return items.map((l) => `  left out: ${l.what}: ${l.reason}`);
}

/** `registrator explain` as text: the container, the host name's claim, then per writer what it writes and what it leaves out. Pure. */
export function formatExplain(report: ExplainReport): string {
  const { container: c, claim } = report;
  const state = c.running ? `running${c.health ? `, health ${c.health}` : ''}` : 'not running';
  const lines = [`container ${c.name} (${c.id.slice(0, 12)}): ${state}`];
  const holder = claim.holder ? `: ${describeClaim(claim.holder)}` : '';
  lines.push(
    claim.state === 'free' ? `host ${report.host}: not claimed by any daemon` : `host ${report.host}: claimed by ${claim.state}${holder}`,
  );
  for (const w of report.writers) {
    lines.push(`${w.writer}:`);
    if ('entry' in w) {
      if (w.entry.length > 0) {
        lines.push(`  entry (${w.changes === 0 ? 'in step' : `${w.changes} key${w.changes === 1 ? '' : 's'} to change`}):`);
        for (const { key, value } of w.entry) lines.push(`    ${key} = ${value}`);
      } else lines.push(w.changes === 0 ? '  no entry' : `  no entry (${w.changes} key${w.changes === 1 ? '' : 's'} to delete)`);
    } else {
      for (const s of w.services) lines.push(`  service ${s.id} (${s.name}) at ${s.address}: ${s.change}`);
      for (const id of w.deregister) lines.push(`  service ${id}: deregister`);
      if (w.services.length + w.deregister.length === 0) lines.push('  no service');
      if (!w.read) lines.push('  (what this registry holds is not read: these are the services the daemon would register)');
      for (const note of w.notes) lines.push(`  note: ${note}`);
    }
    lines.push(...leftOutLines(w.leftOut));
  }
  return lines.join('\n');
}
