import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { DaemonProcess } from '../support/daemon';
import { ensureTestImage, TEST_IMAGE } from '../support/docker';
import { EtcdServer } from '../support/etcd';
import { waitFor } from '../support/wait';

const exec = promisify(execFile);
const PROJECT = `srcompose${process.pid}`;
const IP = '10.9.8.8';
/** Two daemons watch the same engine at once, one per naming rule, each under its own host name. */
const PLAIN = `compose-image-${process.pid}`;
const COMPOSE = `compose-names-${process.pid}`;

/** A two-service project on the local test image (nothing pulled): web publishes 80, api publishes 8080 and tags itself. */
const COMPOSE_FILE = `version: "2.4"
services:
  web:
    image: ${TEST_IMAGE}
    command: ["httpd", "-f", "-p", "80"]
    ports: ["80"]
  api:
    image: ${TEST_IMAGE}
    command: ["httpd", "-f", "-p", "8080"]
    ports: ["8080"]
    environment:
      SERVICE_TAGS: v1
`;

/** docs/registrator.md, "Compose names": real docker-compose, with and without -name-from compose. */
describe('Compose names against real docker-compose, dockerd and etcd', () => {
  let etcd: EtcdServer;
  const daemons: DaemonProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'sr-compose-'));
  const file = join(dir, 'docker-compose.yml');
  const compose = (...args: string[]) => exec('docker-compose', ['-p', PROJECT, '-f', file, ...args], { env: process.env });

  before(async () => {
    await ensureTestImage();
    writeFileSync(file, COMPOSE_FILE);
    etcd = await EtcdServer.start();
  });
  after(async () => {
    for (const d of daemons) await d.kill();
    await compose('down', '--timeout', '1').catch(() => undefined);
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** This project's registrations a daemon made: key -> value, and the service records' names and tags. */
  async function registrations(host: string): Promise<{ keys: Record<string, string>; services: Array<[string, string[]]> }> {
    const keys = Object.fromEntries(Object.entries(await etcd.tree('/services/')).filter(([k]) => k.includes(`/${host}:${PROJECT}_`)));
    const records = await etcd.tree(`/_registrator/owners/${host}/etcd/services/`);
    const services = Object.values(records)
      .map((v) => JSON.parse(v) as { name: string; tags: string[]; origin: { containerName: string } })
      .filter((s) => s.origin.containerName.startsWith(`${PROJECT}_`))
      .map((s): [string, string[]] => [s.name, s.tags])
      .sort();
    return { keys, services };
  }

  it('up: the image name by default, the Compose service and project with -name-from compose; down deregisters', async () => {
    for (const [host, extra] of [
      [PLAIN, []],
      [COMPOSE, ['-name-from', 'compose']],
    ] as const) {
      const d = new DaemonProcess(['--no-mirror', '-ip', IP, ...extra, 'etcd:///services'], {
        EC_REGISTRATOR_ETCD_HOSTS: etcd.endpoint,
        EC_REGISTRATOR_HOST: host,
      });
      daemons.push(d);
    }
    await Promise.all(daemons.map((d) => d.waitForReconciliations(1)));

    await compose('up', '-d');
    const port = async (service: string, target: string) => (await compose('port', service, target)).stdout.trim().split(':').pop();
    const webPort = await port('web', '80');
    const apiPort = await port('api', '8080');
    const web = `${PROJECT}_web_1`;
    const api = `${PROJECT}_api_1`;

    const expected = {
      [PLAIN]: {
        keys: {
          [`/services/busybox/${PLAIN}:${api}:8080`]: `${IP}:${apiPort}`,
          [`/services/busybox/${PLAIN}:${web}:80`]: `${IP}:${webPort}`,
        },
        services: [
          ['busybox', []],
          ['busybox', ['v1']],
        ],
      },
      [COMPOSE]: {
        keys: {
          [`/services/api/${COMPOSE}:${api}:8080`]: `${IP}:${apiPort}`,
          [`/services/web/${COMPOSE}:${web}:80`]: `${IP}:${webPort}`,
        },
        // The project is a tag, after the container's own SERVICE_TAGS.
        services: [
          ['api', ['v1', PROJECT]],
          ['web', [PROJECT]],
        ],
      },
    };
    for (const host of [PLAIN, COMPOSE]) {
      await waitFor(
        `${host} registrations`,
        async () => JSON.stringify(await registrations(host)) === JSON.stringify(expected[host]),
      ).catch(async (err) => assert.deepEqual(await registrations(host), expected[host], String(err)));
    }

    await compose('down', '--timeout', '1');
    for (const host of [PLAIN, COMPOSE]) {
      await waitFor(
        `${host} deregistered`,
        async () => JSON.stringify(await registrations(host)) === JSON.stringify({ keys: {}, services: [] }),
      );
    }
  });
});
