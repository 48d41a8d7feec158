import type { LeftOut } from '../registrator/service';

export type { LeftOut } from '../registrator/service';

/** What a warning is about: the port it names (`port 80/tcp`), else the whole container. */
function subjectOf(reason: string): string {
  const port = /\bport (\d+\/(?:tcp|udp))\b/.exec(reason);
  return port ? `port ${port[1]}` : 'container';
}

/**
 * One warning as a left-out item. The model's warnings start `container <name> (<short id>): `, a
 * registry's `<name> port <p>/<proto>: `; that prefix names the container again and is dropped.
 */
export function warningAsLeftOut(warning: string, containerName: string, shortId: string): LeftOut {
  const own = `container ${containerName} (${shortId}): `;
  const registry = `${containerName} port `;
  let reason = warning;
  if (warning.startsWith(own)) reason = warning.slice(own.length);
  else if (warning.startsWith(registry)) {
    const colon = warning.indexOf(': ', registry.length);
    if (colon !== -1) return { what: `port ${warning.slice(registry.length, colon)}`, reason: warning.slice(colon + 2) };
  }
  return { what: subjectOf(reason), reason };
}

/** What one writer's plan leaves out, and why: its left-out list, then its warnings. Pure. */
export function leftOutOfPlan(
  plan: { leftOut?: readonly LeftOut[]; warnings?: readonly string[] },
  containerName: string,
  shortId: string,
): LeftOut[] {
  return [...(plan.leftOut ?? []), ...(plan.warnings ?? []).map((w) => warningAsLeftOut(w, containerName, shortId))];
}
