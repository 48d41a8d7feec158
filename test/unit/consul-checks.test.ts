import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConsulCheck, isGoDuration, serviceChecks, splitArgs } from '../../src/registrator/consul/checks';
import type { Service, ServiceOrigin } from '../../src/registrator/service';

const ID = 'h1:web:80';
const CHECK_ID = `service:${ID}`;
const DOCKER_CHECK_ID = `service:${ID}:docker-health`;

/** The service every case starts from: 10.0.0.5:8080, container web, port 80/tcp. */
function service(attrs: Record<string, string>, o: { ip?: string; origin?: Partial<ServiceOrigin> } = {}): Service {
  return {
    id: ID,
    name: 'web',
    port: 8080,
    ip: o.ip ?? '10.0.0.5',
    tags: [],
    attrs,
    origin: {
      containerId: 'c'.repeat(64),
      containerName: 'web',
      hostPort: 8080,
      exposedPort: 80,
      proto: 'tcp',
      hostIp: '0.0.0.0',
      hostname: '',
      ...o.origin,
    },
  };
}

type Case = {
  name: string;
  attrs: Record<string, string>;
  ip?: string;
  health?: ServiceOrigin['health'];
  checks: ConsulCheck[];
  /** `key: text` for each warning, in order; no other warnings. */
  warnings?: string[];
};

const cases: Case[] = [
  { name: 'no check attrs: no check', attrs: { mode: 'http' }, checks: [] },

  // HTTP and HTTPS: the value is a path appended to <scheme>://<ip>:<port>
  {
    name: 'http: path, default interval 10s',
    attrs: { check_http: '/health' },
    checks: [{ CheckID: CHECK_ID, HTTP: 'http://10.0.0.5:8080/health', Interval: '10s' }],
  },
  {
    name: 'http: a path without a leading slash gets one',
    attrs: { check_http: 'health?full=1' },
    checks: [{ CheckID: CHECK_ID, HTTP: 'http://10.0.0.5:8080/health?full=1', Interval: '10s' }],
  },
  {
    name: 'http: interval, timeout, method (uppercased)',
    attrs: { check_http: '/h', check_interval: '5s', check_timeout: '2s', check_http_method: 'post' },
    checks: [{ CheckID: CHECK_ID, HTTP: 'http://10.0.0.5:8080/h', Method: 'POST', Interval: '5s', Timeout: '2s' }],
  },
  {
    name: 'https: tls skip verify, check_https_method beats check_http_method',
    attrs: { check_https: '/h', check_tls_skip_verify: 'true', check_https_method: 'HEAD', check_http_method: 'GET' },
    checks: [{ CheckID: CHECK_ID, HTTP: 'https://10.0.0.5:8080/h', Method: 'HEAD', Interval: '10s', TLSSkipVerify: true }],
  },
  {
    name: 'https: check_http_method applies too; tls skip verify "false" is false',
    attrs: { check_https: '/h', check_http_method: 'PUT', check_tls_skip_verify: 'false' },
    checks: [{ CheckID: CHECK_ID, HTTP: 'https://10.0.0.5:8080/h', Method: 'PUT', Interval: '10s' }],
  },
  {
    name: 'http: IPv6 address in brackets',
    attrs: { check_http: '/h' },
    ip: 'fd00::5',
    checks: [{ CheckID: CHECK_ID, HTTP: 'http://[fd00::5]:8080/h', Interval: '10s' }],
  },
  {
    name: 'http: a method that is not a word is left out',
    attrs: { check_http: '/h', check_http_method: 'GE T' },
    checks: [{ CheckID: CHECK_ID, HTTP: 'http://10.0.0.5:8080/h', Interval: '10s' }],
    warnings: ['check_http_method: "GE T" is not an HTTP method'],
  },
  {
    name: 'http: tls skip verify on plain http has no effect',
    attrs: { check_http: '/h', check_tls_skip_verify: 'yes' },
    checks: [{ CheckID: CHECK_ID, HTTP: 'http://10.0.0.5:8080/h', Interval: '10s' }],
    warnings: ['check_tls_skip_verify: has no effect on a http check'],
  },

  // TCP
  { name: 'tcp: ip:port', attrs: { check_tcp: 'true' }, checks: [{ CheckID: CHECK_ID, TCP: '10.0.0.5:8080', Interval: '10s' }] },
  {
    name: 'tcp: IPv6 in brackets, timeout',
    attrs: { check_tcp: '1', check_timeout: '3s' },
    ip: 'fd00::5',
    checks: [{ CheckID: CHECK_ID, TCP: '[fd00::5]:8080', Interval: '10s', Timeout: '3s' }],
  },
  { name: 'tcp: "false" asks for no check', attrs: { check_tcp: 'false' }, checks: [] },

  // gRPC
  {
    name: 'grpc: ip:port',
    attrs: { check_grpc: 'true', check_interval: '30s' },
    checks: [{ CheckID: CHECK_ID, GRPC: '10.0.0.5:8080', Interval: '30s' }],
  },
  {
    name: 'grpc: a /service, TLS and skip verify',
    attrs: { check_grpc: '/grpc.health.v1.Health', check_grpc_use_tls: 'true', check_tls_skip_verify: 'on' },
    checks: [{ CheckID: CHECK_ID, GRPC: '10.0.0.5:8080/grpc.health.v1.Health', GRPCUseTLS: true, Interval: '10s', TLSSkipVerify: true }],
  },
  {
    name: 'grpc: skip verify without TLS has no effect',
    attrs: { check_grpc: 'true', check_tls_skip_verify: 'true' },
    checks: [{ CheckID: CHECK_ID, GRPC: '10.0.0.5:8080', Interval: '10s' }],
    warnings: ['check_tls_skip_verify: has no effect on a gRPC check without check_grpc_use_tls'],
  },
  { name: 'grpc: "no" asks for no check', attrs: { check_grpc: 'no' }, checks: [] },

  // TTL
  {
    name: 'ttl: no interval, no timeout',
    attrs: { check_ttl: '30s', check_interval: '5s', check_timeout: '1s' },
    checks: [{ CheckID: CHECK_ID, TTL: '30s' }],
  },
  {
    name: 'ttl: not a duration: no check',
    attrs: { check_ttl: '30' },
    checks: [],
    warnings: ['check_ttl: "30" is not a duration above zero'],
  },

  // Script: a shell-like argument list, $SERVICE_IP and $SERVICE_PORT interpolated
  {
    name: 'script: plain words',
    attrs: { check_script: '/bin/check --quiet  web' },
    checks: [{ CheckID: CHECK_ID, Args: ['/bin/check', '--quiet', 'web'], Interval: '10s' }],
  },
  {
    name: 'script: single quotes keep spaces; placeholders interpolated inside them',
    attrs: { check_script: "sh -c 'nc -z $SERVICE_IP $SERVICE_PORT'" },
    checks: [{ CheckID: CHECK_ID, Args: ['sh', '-c', 'nc -z 10.0.0.5 8080'], Interval: '10s' }],
  },
  {
    name: 'script: double quotes, escapes, empty argument',
    attrs: { check_script: String.raw`/bin/check "a b" c\ d "say \"hi\" \\ \$x" '' "it's" 'x"y'` },
    checks: [{ CheckID: CHECK_ID, Args: ['/bin/check', 'a b', 'c d', 'say "hi" \\ $x', '', "it's", 'x"y'], Interval: '10s' }],
  },
  {
    name: 'script: backslash inside double quotes before another character stays',
    attrs: { check_script: String.raw`grep "a\d" f`, check_timeout: '4s' },
    checks: [{ CheckID: CHECK_ID, Args: ['grep', String.raw`a\d`, 'f'], Interval: '10s', Timeout: '4s' }],
  },
  {
    name: 'script: adjacent quoted parts make one argument',
    attrs: { check_script: `curl -s "http://$SERVICE_IP:"'$SERVICE_PORT'/h` },
    checks: [{ CheckID: CHECK_ID, Args: ['curl', '-s', 'http://10.0.0.5:8080/h'], Interval: '10s' }],
  },
  // Script with shell syntax: sh -c with the script as given, placeholders interpolated
  ...(
    [
      ["the backend reference's example: a pipe", 'nc $SERVICE_IP $SERVICE_PORT | grep OK', 'nc 10.0.0.5 8080 | grep OK'],
      ['&&', 'test -f /ready && nc -z $SERVICE_IP $SERVICE_PORT', 'test -f /ready && nc -z 10.0.0.5 8080'],
      ['||', 'nc -z $SERVICE_IP $SERVICE_PORT || exit 2', 'nc -z 10.0.0.5 8080 || exit 2'],
      [';', 'sleep 1; nc -z $SERVICE_IP $SERVICE_PORT', 'sleep 1; nc -z 10.0.0.5 8080'],
      ['> redirection', 'curl -s http://$SERVICE_IP:$SERVICE_PORT/ >/dev/null', 'curl -s http://10.0.0.5:8080/ >/dev/null'],
      ['< redirection', 'nc $SERVICE_IP $SERVICE_PORT </tmp/probe', 'nc 10.0.0.5 8080 </tmp/probe'],
      ['2>&1', 'check 2>&1', 'check 2>&1'],
      ['$( ) substitution', 'test "$(cat /status)" = ok', 'test "$(cat /status)" = ok'],
      ['backticks', 'test `cat /status` = ok', 'test `cat /status` = ok'],
      ['a glob', 'cat /run/*.pid', 'cat /run/*.pid'],
      ['another variable', 'test -n "$HOME"', 'test -n "$HOME"'],
      ['two lines', 'nc -z $SERVICE_IP $SERVICE_PORT\nexit 0', 'nc -z 10.0.0.5 8080\nexit 0'],
      ['a quoted operator next to a real one', "grep 'a|b' /f | wc -l", "grep 'a|b' /f | wc -l"],
    ] as const
  ).map(([what, script, run]) => ({
    name: `script with shell syntax runs as sh -c: ${what}`,
    attrs: { check_script: script },
    checks: [{ CheckID: CHECK_ID, Args: ['sh', '-c', run], Interval: '10s' }],
  })),
  {
    name: 'script: operators inside quotes are arguments, no shell',
    attrs: { check_script: `/bin/check 'a|b' "c && d" '$(x)' "e;f>g" \\|` },
    checks: [{ CheckID: CHECK_ID, Args: ['/bin/check', 'a|b', 'c && d', '$(x)', 'e;f>g', '|'], Interval: '10s' }],
  },
  {
    name: 'script: unbalanced single quote: no check',
    attrs: { check_script: "sh -c 'echo" },
    checks: [],
    warnings: ['check_script: unbalanced single quote at character 7; no check registered'],
  },
  {
    name: 'script: unbalanced double quote: no check',
    attrs: { check_script: 'echo "a' },
    checks: [],
    warnings: ['check_script: unbalanced double quote at character 6'],
  },
  {
    name: 'script: trailing backslash: no check',
    attrs: { check_script: 'echo a\\' },
    checks: [],
    warnings: ['check_script: ends with a lone backslash'],
  },

  // Settings shared by all checks
  {
    name: 'initial status (any case) and deregister-after',
    attrs: { check_tcp: 'true', check_initial_status: 'Passing', check_deregister_after: '90m' },
    checks: [{ CheckID: CHECK_ID, TCP: '10.0.0.5:8080', Interval: '10s', Status: 'passing', DeregisterCriticalServiceAfter: '90m' }],
  },
  {
    name: 'ttl with initial status warning',
    attrs: { check_ttl: '1m', check_initial_status: 'warning' },
    checks: [{ CheckID: CHECK_ID, TTL: '1m', Status: 'warning' }],
  },
  {
    name: 'bad initial status, deregister-after, timeout are left out; bad interval falls back to 10s',
    attrs: { check_http: '/h', check_initial_status: 'ok', check_deregister_after: '90', check_timeout: 'soon', check_interval: '10' },
    checks: [{ CheckID: CHECK_ID, HTTP: 'http://10.0.0.5:8080/h', Interval: '10s' }],
    warnings: [
      'check_interval: "10" is not a duration above zero',
      'check_timeout: "soon" is not a duration above zero',
      'check_initial_status: "ok" is not passing, warning or critical',
      'check_deregister_after: "90" is not a duration above zero',
    ],
  },
  {
    name: 'compound durations',
    attrs: { check_http: '/h', check_interval: '1m30s', check_timeout: '500ms', check_deregister_after: '1.5h' },
    checks: [
      { CheckID: CHECK_ID, HTTP: 'http://10.0.0.5:8080/h', Interval: '1m30s', Timeout: '500ms', DeregisterCriticalServiceAfter: '1.5h' },
    ],
  },
  {
    name: 'a boolean that is not one is taken as false, with a warning',
    attrs: { check_https: '/h', check_tls_skip_verify: 'maybe' },
    checks: [{ CheckID: CHECK_ID, HTTP: 'https://10.0.0.5:8080/h', Interval: '10s' }],
    warnings: ['check_tls_skip_verify: "maybe" is not true or false'],
  },
  {
    name: 'several check types: the first in gliderlabs order wins',
    attrs: { check_tcp: 'true', check_script: 'x', check_http: '/h' },
    checks: [{ CheckID: CHECK_ID, HTTP: 'http://10.0.0.5:8080/h', Interval: '10s' }],
    warnings: ['check_script: ignored', 'check_tcp: ignored'],
  },
  { name: 'check_cmd is not supported', attrs: { check_cmd: '/bin/true' }, checks: [], warnings: ['check_cmd: is not supported'] },

  // Docker health: a TTL check the registrator keeps set
  {
    name: 'docker health: healthy -> passing TTL check',
    attrs: { check_docker_health: 'true' },
    health: 'healthy',
    checks: [{ CheckID: DOCKER_CHECK_ID, Name: 'Docker health', TTL: '30s', Status: 'passing' }],
  },
  {
    name: 'docker health: starting -> critical',
    attrs: { check_docker_health: 'true' },
    health: 'starting',
    checks: [{ CheckID: DOCKER_CHECK_ID, Name: 'Docker health', TTL: '30s', Status: 'critical' }],
  },
  {
    name: 'docker health: unhealthy -> critical',
    attrs: { check_docker_health: 'yes' },
    health: 'unhealthy',
    checks: [{ CheckID: DOCKER_CHECK_ID, Name: 'Docker health', TTL: '30s', Status: 'critical' }],
  },
  {
    name: 'docker health next to an http check: both, the http one first',
    attrs: { check_docker_health: 'true', check_http: '/h' },
    health: 'healthy',
    checks: [
      { CheckID: CHECK_ID, HTTP: 'http://10.0.0.5:8080/h', Interval: '10s' },
      { CheckID: DOCKER_CHECK_ID, Name: 'Docker health', TTL: '30s', Status: 'passing' },
    ],
  },
  { name: 'docker health: false asks for nothing', attrs: { check_docker_health: 'false' }, health: 'healthy', checks: [] },
  {
    name: 'docker health: without a HEALTHCHECK, a warning',
    attrs: { check_docker_health: 'true' },
    checks: [],
    warnings: ['check_docker_health: the container has no HEALTHCHECK'],
  },
  {
    name: 'docker health: not a boolean',
    attrs: { check_docker_health: 'sure' },
    health: 'healthy',
    checks: [],
    warnings: ['check_docker_health: "sure" is not true or false'],
  },
];

describe('consul checks: service -> check definitions', () => {
  for (const c of cases) {
    it(c.name, () => {
      const result = serviceChecks(service(c.attrs, { ip: c.ip, origin: c.health ? { health: c.health } : {} }));
      assert.deepStrictEqual(result.checks, c.checks);
      const got = result.warnings.map((w) => `${w.key}: ${w.reason}`);
      const expected = c.warnings ?? [];
      assert.equal(got.length, expected.length, `warnings: ${JSON.stringify(got)}`);
      expected.forEach((text, i) =>
        assert.ok(got[i].startsWith(text), `warning ${JSON.stringify(got[i])} does not start with ${JSON.stringify(text)}`),
      );
    });
  }

  it('serialises to the JSON field names of the agent API', () => {
    const { checks } = serviceChecks(
      service({
        check_https: '/h',
        check_tls_skip_verify: 'true',
        check_initial_status: 'critical',
        check_deregister_after: '5m',
        check_timeout: '1s',
      }),
    );
    assert.equal(
      JSON.stringify(checks[0]),
      '{"CheckID":"service:h1:web:80","HTTP":"https://10.0.0.5:8080/h","Interval":"10s","Timeout":"1s","TLSSkipVerify":true,"Status":"critical","DeregisterCriticalServiceAfter":"5m"}',
    );
  });
});

describe('splitArgs', () => {
  const table: Array<[string, string[] | string, boolean?]> = [
    ['', []],
    ['   ', []],
    ['a', ['a']],
    ['  a   b  ', ['a', 'b']],
    ['a\tb\nc', ['a', 'b', 'c'], true],
    ["'a b' c", ['a b', 'c']],
    ['"a b" c', ['a b', 'c']],
    ["'it''s'", ['its']],
    [`'a\\b'`, ['a\\b']],
    ['a\\ b', ['a b']],
    ['a\\\nb', ['ab']],
    ['"a\\\nb"', ['ab']],
    ['""', ['']],
    ["x ''", ['x', '']],
    ['"`\\`"', ['``'], true],
    ['"\\`x\\`"', ['`x`']],
    ['a | b', ['a', '|', 'b'], true],
    ['a>b', ['a>b'], true],
    ['echo $SERVICE_IP:$SERVICE_PORT', ['echo', '$SERVICE_IP:$SERVICE_PORT']],
    ['echo "$SERVICE_IP" $x', ['echo', '$SERVICE_IP', '$x'], true],
    ['echo ${x}', ['echo', '${x}'], true],
    ['echo $ a$', ['echo', '$', 'a$']],
    ['a #comment', ['a', '#comment'], true],
    ['a#b', ['a#b']],
    ["'|&;<>()`*?[$(x)'", ['|&;<>()`*?[$(x)']],
    ['\\|\\&\\;\\*', ['|&;*']],
    ["'unclosed", 'unbalanced single quote at character 1'],
    ['a "b', 'unbalanced double quote at character 3'],
    ['a \\', 'ends with a lone backslash'],
  ];
  for (const [input, expected, shell = false] of table) {
    it(`${JSON.stringify(input)}${shell ? ' (shell syntax)' : ''}`, () => {
      const result = splitArgs(input);
      if (typeof expected === 'string') assert.deepStrictEqual(result, { error: expected });
      else assert.deepStrictEqual(result, { args: expected, shell });
    });
  }
});

describe('isGoDuration (above zero)', () => {
  for (const good of ['10s', '1m30s', '1.5h', '250ms', '.5s', '1us', '2µs', '3ns', '1h2m3s4ms'])
    it(`accepts ${good}`, () => assert.equal(isGoDuration(good), true));
  for (const bad of ['', '10', '0s', '0', 's', '10 s', '-1s', '1d', '1m 30s', 'abc', '10S'])
    it(`refuses ${JSON.stringify(bad)}`, () => assert.equal(isGoDuration(bad), false));
});
