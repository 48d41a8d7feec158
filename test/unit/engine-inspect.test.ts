import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type Docker from 'dockerode';
import { parseContainer } from '../../src/docker/container';
import type { ContainerInfo } from '../../src/docker/container-facts';
import { inspectState } from '../../src/docker/engine';
import { ID, inspect } from '../fixtures/inspect';

const POD_ID = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const POD = inspect({ Id: POD_ID, Name: '/pod', IPAddress: '172.17.0.9' });

/** What the fake engine answers for a reference: an inspect result, or an error to throw. */
type Answer = ContainerInfo | { statusCode?: number; message: string };

/** A Docker client that answers `inspect` from `answers` and records every reference it was asked for. */
function fakeDocker(answers: Record<string, Answer>): { docker: Docker; asked: string[] } {
  const asked: string[] = [];
  const docker = {
    getContainer: (ref: string) => ({
      inspect: async () => {
        asked.push(ref);
        const answer = answers[ref] ?? { statusCode: 404, message: 'no such container' };
        if ('message' in answer) throw Object.assign(new Error(answer.message), answer);
        return answer;
      },
    }),
  } as unknown as Docker;
  return { docker, asked };
}

const joined = (ref: string, o: Parameters<typeof inspect>[0] = {}) => inspect({ NetworkMode: `container:${ref}`, Networks: {}, ...o });

describe("inspectState: a container sharing another's network gets that container's inspect", () => {
  const cases: Array<{
    name: string;
    answers: Record<string, Answer>;
    asked: string[];
    networkContainer: ContainerInfo | null | 'absent';
    active?: boolean;
  }> = [
    {
      name: 'by ID: both inspected, the other one attached',
      answers: { [ID]: joined(POD_ID), [POD_ID]: POD },
      asked: [ID, POD_ID],
      networkContainer: POD,
    },
    { name: 'by name: inspected by that name', answers: { [ID]: joined('pod'), pod: POD }, asked: [ID, 'pod'], networkContainer: POD },
    { name: 'the network container is gone (404): null', answers: { [ID]: joined(POD_ID) }, asked: [ID, POD_ID], networkContainer: null },
    {
      name: 'Docker refuses the reference (500): null, this container only',
      answers: { [ID]: joined('bad/ref'), 'bad/ref': { statusCode: 500, message: 'bad reference' } },
      asked: [ID, 'bad/ref'],
      networkContainer: null,
    },
    { name: 'an empty reference: null, nothing asked', answers: { [ID]: joined('') }, asked: [ID], networkContainer: null },
    {
      name: 'a container that does not run: the other one is not asked for',
      answers: { [ID]: joined(POD_ID, { State: { Running: false, Status: 'exited' } }), [POD_ID]: POD },
      asked: [ID],
      networkContainer: 'absent',
      active: false,
    },
    { name: 'a container on its own network: one inspect', answers: { [ID]: inspect() }, asked: [ID], networkContainer: 'absent' },
    {
      name: 'on the host network: one inspect',
      answers: { [ID]: inspect({ NetworkMode: 'host' }) },
      asked: [ID],
      networkContainer: 'absent',
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { docker, asked } = fakeDocker(c.answers);
      const state = await inspectState(docker, ID);
      assert.deepEqual(asked, c.asked);
      assert.equal(state.id, ID);
      assert.equal(state.container?.state.active, c.active ?? true);
      // Docker's answer parsed, with the network container's (undefined: not looked up).
      const answer = c.answers[ID] as ContainerInfo;
      const networkContainer = c.networkContainer === 'absent' ? undefined : c.networkContainer;
      assert.deepEqual(state.container, parseContainer({ ...answer, networkContainer }));
    });
  }

  it('a container that is gone: container null, nothing else asked', async () => {
    const { docker, asked } = fakeDocker({});
    assert.deepEqual(await inspectState(docker, ID), { id: ID, container: null });
    assert.deepEqual(asked, [ID]);
  });

  it('Docker unreachable while asking for the network container: the sync fails (and is retried)', async () => {
    const { docker } = fakeDocker({ [ID]: joined(POD_ID), [POD_ID]: { message: 'connect ENOENT /var/run/docker.sock' } });
    await assert.rejects(inspectState(docker, ID), /ENOENT/);
  });
});
