import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import type { StatusData } from '../../src/http/status-data';
import { DaemonProcess } from '../support/daemon';
import { dockerCli, ensureTestImage, TEST_IMAGE, TestContainers } from '../support/docker';
import { PrivateDockerd } from '../support/dockerd';
import { EtcdServer } from '../support/etcd';
import { freePorts } from '../support/ports';

const PID = process.pid;
const HOST = `status-${PID}`;
/** Hostile metadata: markup in a service name and a label value. */
const EVIL = '<img src=x onerror="window.pwned=1">';

describe('status page in a real browser (chromium), real daemon, dockerd and etcd', () => {
  const engine = new PrivateDockerd(`srstat${PID}`);
  const containers = new TestContainers(`status-${PID}`, engine.env);
  let etcd: EtcdServer;
  let daemon: DaemonProcess;
  let browser: Browser;
  let port: number;

  before(async () => {
    [etcd] = await Promise.all([EtcdServer.start(), engine.start()]);
    await ensureTestImage(engine.env);
    port = await freePorts(1);
    daemon = new DaemonProcess(['hamesh:///mesh', 'etcd:///services'], {
      EC_REGISTRATOR_ETCD_HOSTS: etcd.endpoint,
      EC_REGISTRATOR_DOCKER_SOCKET: engine.socket,
      EC_REGISTRATOR_HOST: HOST,
      EC_REGISTRATOR_IP: '127.0.0.1',
      EC_REGISTRATOR_HTTP_PORT: String(port),
      EC_REGISTRATOR_HTTP_ADDRESS: '127.0.0.1',
    });
    await daemon.waitForReconciliations(1);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    await daemon?.kill();
    await engine.destroy();
    await etcd?.stop();
  });

  it('shows a container once it starts, with its services and what is left out, escaped; and not once it stops', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 700 } });
    await page.goto(`http://127.0.0.1:${port}/status`);
    assert.equal(await page.locator('h1').textContent(), `registrator on ${HOST}`);
    assert.equal(await page.locator('#containers tbody tr').count(), 0);

    const name = `web-${PID}`;
    const id = await containers.run([
      '--name',
      name,
      '--label',
      `note=${EVIL}`,
      '-e',
      `SERVICE_NAME=${EVIL}`,
      '-e',
      'SERVICE_81_IGNORE=yes',
      '-p',
      '127.0.0.1:18480:80',
      '-p',
      '127.0.0.1:18481:81',
      TEST_IMAGE,
      'sleep',
      '1000',
    ]);
    const row = page.locator('#containers tbody tr', { hasText: name });
    // The page reloads itself every 5 seconds: the row appears without the test reloading it.
    await row.waitFor({ timeout: 30_000 });
    const cells = (await row.locator('td').allTextContents()).map((t) => t.trim());
    const service = `${HOST}:${name}:80 (${EVIL}) at 127.0.0.1:18480`;
    assert.equal(cells[0], `${name}${id.slice(0, 12)}`);
    assert.ok(cells[1].includes(`/registry/containers/${id}/labels/note = ${EVIL}`), cells[1]);
    assert.deepEqual(cells.slice(2), [
      service,
      service,
      'hamesh:///mesh: port 81/tcp: SERVICE_81_IGNORE is "yes"etcd:///services: port 81/tcp: SERVICE_81_IGNORE is "yes"',
    ]);
    assert.equal(await page.evaluate(() => (globalThis as { pwned?: number }).pwned), undefined);
    assert.equal(await page.locator('img').count(), 0);

    const json = (await (await fetch(`http://127.0.0.1:${port}/status.json`)).json()) as StatusData;
    assert.deepEqual(json.registries, ['hamesh:///mesh', 'etcd:///services']);
    assert.deepEqual(
      json.containers.map((c) => ({ name: c.name, services: c.registries[1].services })),
      [{ name, services: [{ id: `${HOST}:${name}:80`, name: EVIL, address: '127.0.0.1:18480' }] }],
    );

    const shots = process.env.STATUS_PAGE_SCREENSHOT ?? join(mkdtempSync(join(tmpdir(), 'status-page-')), 'status-page.png');
    await page.screenshot({ path: shots, fullPage: true });

    await dockerCli(['stop', '-t', '0', id], engine.env);
    await row.waitFor({ state: 'detached', timeout: 30_000 });
    assert.equal(await page.locator('#containers tbody tr').count(), 0);
    await page.close();
  });
});
