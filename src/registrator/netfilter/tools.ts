import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where the netfilter tools are looked for after PATH: where Debian and most distributions put them. */
const SYSTEM_DIRS = ['/usr/sbin', '/sbin'];
/** Longest one tool call may take (`-w` makes ip6tables wait for the xtables lock). */
const TOOL_TIMEOUT_MS = 10_000;

/** A netfilter tool is not installed (or not executable) in PATH, /usr/sbin or /sbin. */
class MissingToolError extends Error {
  constructor(readonly tool: string) {
    super(`${tool} not found in PATH, /usr/sbin or /sbin (install Debian's ${tool === 'ipset' ? 'ipset' : 'iptables'} package)`);
    this.name = 'MissingToolError';
  }
}

/** A tool ran and failed: its exit status and what it said, e.g. "Operation not permitted". */
class ToolFailedError extends Error {
  constructor(
    readonly tool: string,
    readonly args: string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${tool} ${args.join(' ')} failed (exit ${exitCode ?? 'signal'}): ${stderr.trim() || 'no message'}`);
    this.name = 'ToolFailedError';
  }
}

export function findTool(tool: string, path = process.env.PATH ?? ''): string {
  for (const dir of [...path.split(delimiter).filter(Boolean), ...SYSTEM_DIRS]) {
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new MissingToolError(tool);
}

/** Runs a tool; resolves with its exit status (0 or 1, both answers) and stdout, rejects on anything else. */
export function runTool(tool: string, args: string[], okCodes: number[] = [0]): Promise<{ code: number; stdout: string }> {
  const file = findTool(tool);
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: TOOL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      // An exit status arrives as a numeric `code`; a spawn failure or a timeout has none.
      const code = !err ? 0 : typeof err.code === 'number' ? err.code : null;
      if (code !== null && okCodes.includes(code)) resolve({ code, stdout });
      else reject(new ToolFailedError(tool, args, code, stderr || err?.message || ''));
    });
  });
}

export type Ip6tables = (args: string[], okCodes?: number[]) => Promise<{ code: number; stdout: string }>;

/**
 * ip6tables as things stand now: directly or, while firewalld runs, through its direct passthrough
 * (rules added behind firewalld's back vanish at its next reload). Asked once per round of calls.
 */
export async function ip6tablesRunner(): Promise<Ip6tables> {
  if (await firewalldRunning()) return (args, okCodes) => runTool('firewall-cmd', ['--direct', '--passthrough', 'ipv6', ...args], okCodes);
  return (args, okCodes) => runTool('ip6tables', args, okCodes);
}

/** Whether firewalld runs: `firewall-cmd --state` answers 0; a missing firewall-cmd means no firewalld. */
async function firewalldRunning(): Promise<boolean> {
  try {
    findTool('firewall-cmd');
  } catch {
    return false;
  }
  return runTool('firewall-cmd', ['--state'], [0]).then(
    () => true,
    () => false,
  );
}
