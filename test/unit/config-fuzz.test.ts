import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config-error';
import { loadConfig } from '../../src/config/load';
import { checkWritersAvailable } from '../../src/writers-available';
import { combination, configFiles, ODD_VALUES, prng } from '../support/config-fuzz';

/** Fixed so a run is repeatable; FUZZ_SEED picks another sequence. */
const SEED = Number(process.env.FUZZ_SEED ?? 20261121);
const RUNS = 4000;

describe(`configuration fuzz, in process (seed ${SEED}, ${RUNS} combinations)`, () => {
  it('loadConfig and the writer check either accept the input or throw one ConfigError with a one-line message', () => {
    const rng = prng(SEED);
    const values = [...ODD_VALUES, ...configFiles()];
    const outcomes = { run: 0, help: 0, version: 0, refused: 0 };
    for (let i = 0; i < RUNS; i++) {
      const { argv, env } = combination(rng, values, i % 2 === 0 ? 0 : 0.85);
      const replay = `combination ${i}: argv ${JSON.stringify(argv).slice(0, 400)} env ${JSON.stringify(env).slice(0, 400)}`;
      try {
        const result = loadConfig(argv, env);
        if (result.kind === 'run') checkWritersAvailable(result.config);
        outcomes[result.kind]++;
        if (result.kind === 'run') {
          // What was accepted is coherent: the rules the daemon relies on hold.
          const c = result.config;
          assert.ok(
            c.ttl === 0 ? c.ttlRefresh === 0 : c.ttl > c.ttlRefresh && c.ttlRefresh > 0,
            `${replay}: ttl ${c.ttl} / ${c.ttlRefresh}`,
          );
          assert.ok(c.etcd.hosts.length > 0 && c.etcd.hosts.every((h) => /^https?:\/\/[^/]+$/.test(h)), `${replay}: etcd ${c.etcd.hosts}`);
          // Every timer the daemon sets from these fits Node's 2^31 - 1 ms (a longer one fires at once).
          assert.ok(
            Math.max(c.resync * 1000, c.ttlRefresh * 1000, c.retryInterval, c.podmanHealthPoll) <= 2 ** 31 - 1,
            `${replay}: timers ${c.resync} s, ${c.ttlRefresh} s, ${c.retryInterval} ms, ${c.podmanHealthPoll} ms`,
          );
          assert.ok(c.host !== '' && !/[/\s]/.test(c.host), `${replay}: host ${JSON.stringify(c.host)}`);
          assert.ok(
            c.docker.kind === 'tcp' ? c.docker.port >= 1 && c.docker.port <= 65535 && c.docker.host !== '' : c.docker.socketPath !== '',
            `${replay}: docker ${JSON.stringify(c.docker)}`,
          );
        }
      } catch (err) {
        assert.ok(err instanceof ConfigError, `${replay}: threw ${(err as Error)?.name}: ${(err as Error)?.message}`);
        assert.ok(
          err.message.length > 0 && !/[\r\n\u2028\u2029]/.test(err.message),
          `${replay}: message ${JSON.stringify(err.message.slice(0, 300))}`,
        );
        outcomes.refused++;
      }
    }
    // The generator reaches every outcome, so the assertions above were exercised on each.
    for (const [kind, n] of Object.entries(outcomes)) assert.ok(n > 0, `no combination ended as ${kind}: ${JSON.stringify(outcomes)}`);
  });
});

describe('configuration fuzz: string options keep the value as given', () => {
  it('-tags, -useIpFromLabel and -etcd-user take every odd value unchanged, as -x v and -x=v', () => {
    const wrong: string[] = [];
    for (const value of ODD_VALUES) {
      for (const argv of [
        ['-tags', value, '-useIpFromLabel', value, '-etcd-user', value, '-etcd-password', 'p'],
        [`-tags=${value}`, `-useIpFromLabel=${value}`, `-etcd-user=${value}`, '-etcd-password=p'],
      ]) {
        let config;
        try {
          const result = loadConfig(argv, { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
          config = result.kind === 'run' ? result.config : undefined;
        } catch (err) {
          // An empty user with a password is refused (both or neither); anything else must be accepted.
          if (value === '' && err instanceof ConfigError) continue;
          throw err;
        }
        if (!config || config.tags !== value || config.useIpFromLabel !== value || config.etcd.user !== value) {
          wrong.push(
            `${JSON.stringify(argv).slice(0, 120)} -> ${JSON.stringify([config?.tags, config?.useIpFromLabel, config?.etcd.user]).slice(0, 120)}`,
          );
        }
      }
    }
    assert.deepEqual(wrong, []);
  });
});
