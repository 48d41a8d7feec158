/**
 * Preloaded into a daemon child by the benchmark and the fault suite (`node --expose-gc --require`,
 * see DaemonProbe), never part of the product. It answers requests made as files in SR_PROBE_DIR:
 * - `memory`: collects garbage and writes process.memoryUsage() to `memory.json`;
 * - `profile` (with SR_PROBE_CPU_PROF set): stops the CPU profiler it started at load and writes
 *   `<SR_PROBE_CPU_PROF>/daemon-<pid>.cpuprofile`, then `profile.done` (Node 20 refuses --cpu-prof in NODE_OPTIONS).
 */
import { existsSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.SR_PROBE_DIR;
const profileDir = process.env.SR_PROBE_CPU_PROF;

function answer(name: string, text: string): void {
  writeFileSync(join(dir!, `${name}.tmp`), text);
  renameSync(join(dir!, `${name}.tmp`), join(dir!, name));
}

let session: Session | undefined;
if (dir && profileDir) {
  session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
}

function taken(request: string): boolean {
  if (!existsSync(join(dir!, request))) return false;
  unlinkSync(join(dir!, request));
  return true;
}

if (dir) {
  setInterval(() => {
    if (taken('memory')) {
      (globalThis as { gc?: () => void }).gc?.();
      answer('memory.json', JSON.stringify(process.memoryUsage()));
    }
    if (taken('profile') && session) {
      session.post('Profiler.stop', (err, result) => {
        if (!err) writeFileSync(join(profileDir!, `daemon-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
        answer('profile.done', err ? String(err) : '');
      });
    }
  }, 50).unref();
}
