import { describeClaim } from '../fleet/claim-record';
import type { LsReport } from './ls';
import type { ListedPort } from './mirror-listing';
import { table } from './text';

function port(p: ListedPort): string {
  return p.extPort === '' ? `${p.port}/${p.proto}` : `${p.port}/${p.proto}->${p.extIp === '' ? '' : `${p.extIp}:`}${p.extPort}`;
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function claimLine(claim: LsReport['claim']): string {
  if (!claim) return 'claim: none (no live daemon holds this host name)';
  const who = claim.record ? describeClaim(claim.record) : 'not a claim';
  const lease = claim.lease === '0' ? 'no lease: it never ends by itself (registrator check reports it)' : `lease ${claim.lease}`;
  return `claim ${claim.key}: ${who}; ${lease}`;
}

/** `registrator ls` as text: a table per writer. Pure. */
export function formatLs(report: LsReport): string {
  const lines = [`host ${report.host}`, claimLine(report.claim)];
  if (report.mirror) {
    const { prefix, containers } = report.mirror;
    lines.push(`mirror ${prefix}: ${count(containers.length, 'container')}`);
    if (containers.length > 0) {
      lines.push(
        ...table(
          ['ID', 'NAME', 'IMAGE', 'STATE', 'IP', 'PORTS'],
          containers.map((c) => [
            c.id.slice(0, 12),
            c.name ?? '-',
            c.image ?? '-',
            c.state ?? '-',
            c.ip || '-',
            c.ports.map(port).join(', ') || '-',
          ]),
        ),
      );
    }
  }
  for (const registry of report.registries) {
    if (!registry.covered) {
      lines.push(`${registry.registry}: ${registry.reason}`);
      continue;
    }
    lines.push(`${registry.registry}: ${count(registry.services.length, 'service')}`);
    if (registry.services.length === 0) continue;
    lines.push(
      ...table(
        ['SERVICE', 'NAME', 'ADDRESS', 'CONTAINER', 'STATUS'],
        registry.services.map((s) => [
          s.id,
          s.name,
          `${s.ip}:${s.port}`,
          `${s.containerName} (${s.containerId.slice(0, 12)})`,
          s.takenOver ? 'taken over by a later registration' : s.intact ? 'intact' : 'not as written',
        ]),
      ),
    );
  }
  return lines.join('\n');
}
