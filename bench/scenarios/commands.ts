import { spawnSync } from 'node:child_process';
import { CLI, nodeFlagsOf } from '../../test/support/daemon';
import { median } from '../measure';

/** Quick commands, each a whole process, against `node -e 0` on the same Node in the same rounds. */
const COMMANDS: ReadonlyArray<readonly string[]> = [['--version'], ['--help'], ['ls', '--help']];

/** Goal for `registrator --version` against `node -e 0`. */
export const COMMAND_GOAL = 1.5;

interface CommandTiming {
  args: readonly string[];
  /** Median wall time of the whole process. */
  ms: number;
  /** `ms` over `node -e 0`'s median. */
  ratio: number;
}

export interface CommandsResult {
  rounds: number;
  nodeMs: number;
  commands: CommandTiming[];
}

/** Wall milliseconds of one whole process, which must exit 0. */
function timed(args: readonly string[]): number {
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited ${run.status}: ${run.stderr.toString().trim()}`);
  return ms;
}

/**
 * Times `node -e 0` and each quick command of the built CLI in turn, `rounds` times over, so a
 * busy moment of the machine weighs on both sides; medians are compared.
 */
export function commandsScenario(rounds: number): CommandsResult {
  const node: number[] = [];
  const each = COMMANDS.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    node.push(timed(['-e', '0']));
    // As the command runs: with the Node flags its first line gives.
    COMMANDS.forEach((args, i) => each[i].push(timed([...nodeFlagsOf(CLI), CLI, ...args])));
  }
  const nodeMs = median(node);
  return { rounds, nodeMs, commands: COMMANDS.map((args, i) => ({ args, ms: median(each[i]), ratio: median(each[i]) / nodeMs })) };
}
