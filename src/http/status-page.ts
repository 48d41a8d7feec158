import { describeClaim } from '../fleet/claim-record';
import type { StatusData } from './status-data';

/** Text made safe for HTML content and attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}code{font-size:.9em;word-break:break-all}.in-step{color:#176117}.out-of-step{color:#a31515}
.left-out{color:#8a5300}h2{margin-top:1.5em}ul{margin:0;padding-left:1.2em}`;

function list(items: readonly string[], empty: string): string {
  return items.length === 0 ? escapeHtml(empty) : `<ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>`;
}

/** `GET /status`: one HTML page, no external assets, refreshed by the browser every 5 seconds. Every value is escaped. Pure. */
export function statusPage(data: StatusData): string {
  const e = escapeHtml;
  const claim = data.claim
    ? `${e(data.claim.state)}${data.claim.holder ? ` (held by ${e(describeClaim(data.claim.holder))})` : ''}${data.claim.reason ? `: ${e(data.claim.reason)}` : ''}`
    : 'none (no writer in the daemon&#39;s etcd)';
  const writers = data.writers
    .map((w) => `<tr><td>${e(w.name)}</td><td class="${e(w.state)}">${e(w.state)}</td><td>${w.containersHeld}</td></tr>`)
    .join('');
  const rows = data.containers.map((c) => {
    const mirror = c.mirror
      ? list(
          c.mirror.entry.map((k) => `<code>${e(k.key)}</code> = <code>${e(k.value)}</code>`),
          'no entry',
        )
      : '';
    const leftOut = [
      ...(c.mirror?.leftOut.map((l) => ({ where: 'mirror', ...l })) ?? []),
      ...c.registries.flatMap((r) => r.leftOut.map((l) => ({ where: r.registry, ...l }))),
    ];
    const cells = c.registries.map(
      (r) =>
        `<td>${list(
          r.services.map((s) => `${e(s.id)} (${e(s.name)}) at ${e(s.address)}`),
          'none',
        )}</td>`,
    );
    const why = list(
      leftOut.map((l) => `${e(l.where)}: ${e(l.what)}: ${e(l.reason)}`),
      'nothing',
    );
    return `<tr><td>${e(c.name)}<br><code>${e(c.id.slice(0, 12))}</code></td>${c.mirror ? `<td>${mirror}</td>` : ''}${cells.join('')}<td class="left-out">${why}</td></tr>`;
  });
  const mirrorHead = data.mirror ? '<th>mirror entry</th>' : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>registrator ${e(data.host)}</title><style>${CSS}</style></head><body>
<h1>registrator on ${e(data.host)}</h1>
<p>Host name claim: ${claim}. Docker: ${e(data.docker)}. Refreshes every 5 seconds; data: <a href="status.json">status.json</a>.</p>
<h2>Writers</h2>
<table><thead><tr><th>writer</th><th>state</th><th>containers held</th></tr></thead><tbody>${writers}</tbody></table>
<h2>Containers (${data.containers.length})</h2>
<table id="containers"><thead><tr><th>container</th>${mirrorHead}${data.registries.map((r) => `<th>${e(r)}</th>`).join('')}<th>left out, and why</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
</body></html>
`;
}
