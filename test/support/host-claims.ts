import { hostname } from 'node:os';
import { packageVersion } from '../../src/version';
import { dockerCli } from './docker';

/** Where daemons claim their host names (docs/fleet.md, "One daemon per host name"). */
export const CLAIMS_PREFIX = '/_registrator/hosts/';

/** An engine as `GET /info` names it. */
export interface Engine {
  id: string;
  name: string;
}

/** The engine behind `env`'s DOCKER_HOST (the machine's engine by default): its `ID` and `Name`. */
export async function engineOf(env: NodeJS.ProcessEnv = process.env): Promise<Engine> {
  const info = JSON.parse(await dockerCli(['info', '--format', '{{json .}}'], env)) as { ID: string; Name: string };
  return { id: info.ID, name: info.Name };
}

/** Stands for a claim's `since` (when its daemon took it), which a test cannot know beforehand. */
export const SINCE = '<since>';

/**
 * The claim's value a daemon of this pid, serving `engine`, writes for `host`, field for field and in
 * that order; its `since` as SINCE (compare with `withClaimTimes` applied to what etcd holds).
 */
export function expectedClaim(host: string, engine: Engine, pid: number, osHostname = hostname()): string {
  return JSON.stringify({
    host,
    engine: { id: engine.id, name: engine.name },
    hostname: osHostname,
    pid,
    version: packageVersion(),
    since: SINCE,
  });
}

/**
 * A tree with each claim's `since` replaced by SINCE when it is an RFC 3339 time no later than now,
 * so the rest of the claim compares byte for byte.
 */
export function withClaimTimes(tree: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(tree)) {
    out[key] = key.startsWith(CLAIMS_PREFIX)
      ? value.replace(/"since":"([^"]+)"/, (whole, at: string) => {
          const t = Date.parse(at);
          return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(at) && t <= Date.now() ? `"since":"${SINCE}"` : whole;
        })
      : value;
  }
  return out;
}
