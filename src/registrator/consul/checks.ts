import { parseSwitch } from '../../switch-words';
import { hostPort } from '../address';
import type { ContainerHealth, Service } from '../service';

/**
 * Service -> Consul check definitions (pure). Follows gliderlabs/registrator's consul adapter:
 * one check from the first of `check_http`, `check_https`, `check_script`, `check_ttl`, `check_tcp`,
 * `check_grpc` that is set, configured by `check_interval` (default 10s), `check_timeout`,
 * `check_deregister_after`, `check_initial_status`, `check_tls_skip_verify`, `check_http_method`.
 * Where it departs from gliderlabs on purpose:
 * - a plain script is split into an argument list like a shell would (quotes, backslashes), so
 *   arguments with spaces survive (gliderlabs passed the whole line as one program name); a script
 *   with shell syntax (`|`, `&&`, `;`, redirections, `$(...)`, globs) runs as `sh -c <script>`, as
 *   Consul's own script checks did;
 * - IPv6 addresses are bracketed in check addresses (`http://[fd00::1]:80/health`);
 * - an HTTP path without a leading `/` gets one;
 * - durations, statuses, methods and booleans are checked here: a bad value is a warning and the
 *   setting (or, where the check cannot be made without it, the check) is left out, instead of a
 *   registration Consul refuses as a whole;
 * - `check_tls_skip_verify` is read as a boolean (`false` means false), and applies to HTTPS and to
 *   gRPC over TLS;
 * - `check_cmd` (which needs gliderlabs' own image) is not supported and says so;
 * - `check_docker_health` adds a TTL check that follows the container's Docker HEALTHCHECK.
 */

export type CheckStatus = 'passing' | 'warning' | 'critical';

/** A check as the agent API's service registration takes it (`Check` / `Checks[]`). */
export interface ConsulCheck {
  CheckID: string;
  Name?: string;
  HTTP?: string;
  Method?: string;
  TCP?: string;
  GRPC?: string;
  GRPCUseTLS?: boolean;
  Args?: string[];
  TTL?: string;
  Interval?: string;
  Timeout?: string;
  TLSSkipVerify?: boolean;
  Status?: CheckStatus;
  DeregisterCriticalServiceAfter?: string;
}

/** A service attribute Consul cannot take as given; what was done instead is in `reason`. */
export interface AttrWarning {
  key: string;
  reason: string;
}

export interface ChecksResult {
  checks: ConsulCheck[];
  warnings: AttrWarning[];
}

const DEFAULT_INTERVAL = '10s';
/** The docker-health check turns critical unless its status is sent again within this time. */
const DOCKER_HEALTH_TTL = '30s';
const DOCKER_HEALTH_CHECK_NAME = 'Docker health';

/** In gliderlabs' order of precedence; the first one set is the service's check. */
const CHECK_TYPES = ['http', 'https', 'script', 'ttl', 'tcp', 'grpc'] as const;

const STATUSES: readonly string[] = ['passing', 'warning', 'critical'] satisfies CheckStatus[];

/** The ID of the check made from `SERVICE_CHECK_*` (what Consul itself gives a service's single check). */
function serviceCheckId(serviceId: string): string {
  return `service:${serviceId}`;
}

/** The ID of the TTL check that follows Docker health. */
export function dockerHealthCheckId(serviceId: string): string {
  return `service:${serviceId}:docker-health`;
}

/** Passing while Docker says healthy; critical while starting, unhealthy, or unknown. */
export function dockerHealthStatus(health: ContainerHealth | undefined): CheckStatus {
  return health === 'healthy' ? 'passing' : 'critical';
}

/** The check `Output` that goes with a status update. */
export function dockerHealthOutput(health: ContainerHealth | undefined): string {
  return `Docker health status: ${health ?? 'none'}`;
}

/** Every check of a service: the `SERVICE_CHECK_*` one, then the docker-health one, each when asked for. */
export function serviceChecks(service: Service): ChecksResult {
  const fromAttrs = attrCheck(service);
  const docker = dockerHealthCheck(service);
  return {
    checks: [...(fromAttrs.check ? [fromAttrs.check] : []), ...(docker.check ? [docker.check] : [])],
    warnings: [...fromAttrs.warnings, ...docker.warnings],
  };
}

/** Whether the service asks for (and can have) the docker-health TTL check. */
export function hasDockerHealthCheck(service: Service): boolean {
  return dockerHealthCheck(service).check !== undefined;
}

/** `SERVICE_[<port>_]CHECK_DOCKER_HEALTH=true`: a TTL check whose status the registrator sets from Docker's health. */
function dockerHealthCheck(service: Service): { check?: ConsulCheck; warnings: AttrWarning[] } {
  const raw = service.attrs.check_docker_health;
  if (raw === undefined || raw.trim() === '') return { warnings: [] };
  const on = parseSwitch(raw);
  if (on === undefined)
    return { warnings: [{ key: 'check_docker_health', reason: `${JSON.stringify(raw)} is not true or false; no docker-health check` }] };
  if (!on) return { warnings: [] };
  if (service.origin.health === undefined) {
    return { warnings: [{ key: 'check_docker_health', reason: 'the container has no HEALTHCHECK; no docker-health check' }] };
  }
  return {
    check: {
      CheckID: dockerHealthCheckId(service.id),
      Name: DOCKER_HEALTH_CHECK_NAME,
      TTL: DOCKER_HEALTH_TTL,
      Status: dockerHealthStatus(service.origin.health),
    },
    warnings: [],
  };
}

/** The one check `SERVICE_CHECK_HTTP|HTTPS|SCRIPT|TTL|TCP|GRPC` asks for, if any. */
function attrCheck(service: Service): { check?: ConsulCheck; warnings: AttrWarning[] } {
  const attrs = service.attrs;
  const warnings: AttrWarning[] = [];
  const warn = (key: string, reason: string): void => void warnings.push({ key, reason });
  const value = (key: string): string => (attrs[key] ?? '').trim();

  if (value('check_cmd') !== '')
    warn('check_cmd', 'is not supported (it runs the check-cmd helper of the gliderlabs image); use SERVICE_CHECK_SCRIPT');
  // TCP and gRPC checks are switched on by any value but a "no" (false, 0, no, off).
  const asked = CHECK_TYPES.filter(
    (t) => value(`check_${t}`) !== '' && !((t === 'tcp' || t === 'grpc') && parseSwitch(value(`check_${t}`)) === false),
  );
  if (asked.length === 0) return { warnings };
  const type = asked[0];
  for (const other of asked.slice(1)) warn(`check_${other}`, `ignored: a service has one such check and check_${type} comes first`);

  const address = hostPort(service.ip, service.port);
  const check: ConsulCheck = { CheckID: serviceCheckId(service.id) };
  const given = value(`check_${type}`);
  switch (type) {
    case 'http':
    case 'https': {
      check.HTTP = `${type}://${address}${given.startsWith('/') ? given : `/${given}`}`;
      const methodKey = type === 'https' && value('check_https_method') !== '' ? 'check_https_method' : 'check_http_method';
      const method = value(methodKey);
      if (method !== '') {
        if (/^[A-Za-z]+$/.test(method)) check.Method = method.toUpperCase();
        else warn(methodKey, `${JSON.stringify(method)} is not an HTTP method; GET is used`);
      }
      break;
    }
    case 'script': {
      const split = splitArgs(given);
      if ('error' in split) {
        warn('check_script', `${split.error}; no check registered`);
        return { warnings };
      }
      if (split.args.length === 0) {
        warn('check_script', 'has no command; no check registered');
        return { warnings };
      }
      // An argument list runs no shell: `a | b` would hand `|` and `b` to `a` as arguments.
      check.Args = split.shell ? ['sh', '-c', interpolate(given, service)] : split.args.map((arg) => interpolate(arg, service));
      break;
    }
    case 'ttl':
      if (!isGoDuration(given)) {
        warn('check_ttl', `${JSON.stringify(given)} is not a duration above zero (like 30s or 1m); no check registered`);
        return { warnings };
      }
      check.TTL = given;
      break;
    case 'tcp':
      check.TCP = address;
      break;
    case 'grpc': {
      // A value starting with `/` names the gRPC service to ask about: `ip:port/my.Service`.
      check.GRPC = given.startsWith('/') ? `${address}${given}` : address;
      const useTls = booleanAttr(attrs, 'check_grpc_use_tls', warn);
      if (useTls) check.GRPCUseTLS = true;
      break;
    }
  }

  if (type !== 'ttl') {
    const interval = value('check_interval');
    if (interval === '') check.Interval = DEFAULT_INTERVAL;
    else if (isGoDuration(interval)) check.Interval = interval;
    else {
      warn('check_interval', `${JSON.stringify(interval)} is not a duration above zero (like 10s or 1m30s); ${DEFAULT_INTERVAL} is used`);
      check.Interval = DEFAULT_INTERVAL;
    }
    const timeout = value('check_timeout');
    if (timeout !== '') {
      if (isGoDuration(timeout)) check.Timeout = timeout;
      else warn('check_timeout', `${JSON.stringify(timeout)} is not a duration above zero (like 2s); left out`);
    }
  }

  const skipVerify = booleanAttr(attrs, 'check_tls_skip_verify', warn);
  if (skipVerify) {
    if (type === 'https' || (type === 'grpc' && check.GRPCUseTLS)) check.TLSSkipVerify = true;
    else warn('check_tls_skip_verify', `has no effect on a ${type === 'grpc' ? 'gRPC check without check_grpc_use_tls' : `${type} check`}`);
  }

  const status = value('check_initial_status').toLowerCase();
  if (status !== '') {
    if (STATUSES.includes(status)) check.Status = status as CheckStatus;
    else warn('check_initial_status', `${JSON.stringify(attrs.check_initial_status)} is not passing, warning or critical; left out`);
  }

  const deregisterAfter = value('check_deregister_after');
  if (deregisterAfter !== '') {
    if (isGoDuration(deregisterAfter)) check.DeregisterCriticalServiceAfter = deregisterAfter;
    else warn('check_deregister_after', `${JSON.stringify(deregisterAfter)} is not a duration above zero (like 90m); left out`);
  }
  return { check, warnings };
}

/** `$SERVICE_IP` and `$SERVICE_PORT` replaced, as gliderlabs does (in every argument, quoted or not). */
function interpolate(text: string, service: Service): string {
  return text.split('$SERVICE_IP').join(service.ip).split('$SERVICE_PORT').join(String(service.port));
}

function booleanAttr(attrs: Record<string, string>, key: string, warn: (key: string, reason: string) => void): boolean {
  const raw = attrs[key];
  if (raw === undefined || raw.trim() === '') return false;
  const parsed = parseSwitch(raw);
  if (parsed === undefined) warn(key, `${JSON.stringify(raw)} is not true or false; taken as false`);
  return parsed === true;
}

const DURATION_UNIT = '(?:ns|us|µs|μs|ms|s|m|h)';
const DURATION = new RegExp(`^(?:(?:\\d+(?:\\.\\d*)?|\\.\\d+)${DURATION_UNIT})+$`);

/** A Go duration (what Consul parses) that is above zero: `10s`, `1m30s`, `1.5h`, `250ms`. */
export function isGoDuration(text: string): boolean {
  if (!DURATION.test(text)) return false;
  return /[1-9]/.test(text);
}

/**
 * Splits a command line into arguments like a POSIX shell, without running one: whitespace separates;
 * `'...'` is literal; `"..."` is literal except `\"`, `\\`, `\$`, `` \` ``; outside quotes `\x` is `x`
 * (and backslash-newline is dropped). `shell` tells whether the line uses what only a shell does
 * (see SHELL_SYNTAX); its `args` are then not what a shell would run.
 */
export function splitArgs(line: string): { args: string[]; shell: boolean } | { error: string } {
  const args: string[] = [];
  let current = '';
  let inArg = false;
  let shell = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) return { error: `unbalanced single quote at character ${i + 1}` };
      current += line.slice(i + 1, end);
      inArg = true;
      i = end + 1;
    } else if (c === '"') {
      const start = i;
      i++;
      let closed = false;
      while (i < line.length) {
        const d = line[i];
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) {
          current += line[i + 1];
          i += 2;
        } else if (d === '\\' && line[i + 1] === '\n') {
          i += 2;
        } else {
          // Substitutions and variables still expand inside double quotes.
          if (d === '`' || expands(line, i)) shell = true;
          current += d;
          i++;
        }
      }
      if (!closed) return { error: `unbalanced double quote at character ${start + 1}` };
      inArg = true;
    } else if (c === '\\') {
      if (i + 1 >= line.length) return { error: 'ends with a lone backslash' };
      if (line[i + 1] !== '\n') {
        current += line[i + 1];
        inArg = true;
      }
      i += 2;
    } else if (/\s/.test(c)) {
      // A newline ends a command: a second one follows.
      if (c === '\n') shell = true;
      if (inArg) args.push(current);
      current = '';
      inArg = false;
      i++;
    } else {
      if (SHELL_SYNTAX.includes(c) || expands(line, i) || (c === '#' && !inArg)) shell = true;
      current += c;
      inArg = true;
      i++;
    }
  }
  if (inArg) args.push(current);
  return { args, shell };
}

/**
 * Unquoted characters only a shell gives a meaning: pipes and lists (`|`, `&`, `;`), redirections
 * (`<`, `>`), subshells, command substitution and globs. `#` starting a word (a comment) and
 * variables other than the two interpolated here (`expands`) count too.
 */
const SHELL_SYNTAX = '|&;<>()`*?[';

/** A `$` at `i` that a shell would expand: `$(...)`, `${...}`, `$NAME`, other than $SERVICE_IP/$SERVICE_PORT. */
function expands(line: string, i: number): boolean {
  if (line[i] !== '$') return false;
  const rest = line.slice(i + 1);
  if (/^(SERVICE_IP|SERVICE_PORT)/.test(rest)) return false;
  return /^[({A-Za-z_0-9?!#@*$-]/.test(rest);
}
