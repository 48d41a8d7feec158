import type { Service } from '../service';
import { AttrWarning, ConsulCheck, serviceChecks } from './checks';
import { OWNER_MAX_CHUNKS, serviceMeta, serviceRecordChunks } from './meta';

/** The body of `PUT /v1/agent/service/register`, as this product sends it. */
export interface AgentServiceRegistration {
  ID: string;
  Name: string;
  Tags: string[];
  Address: string;
  Port: number;
  Meta: Record<string, string>;
  /** The one check, when there is one. */
  Check?: ConsulCheck;
  /** Both checks, when the service has a `SERVICE_CHECK_*` check and the docker-health check. */
  Checks?: ConsulCheck[];
}

export interface RegistrationResult {
  registration: AgentServiceRegistration;
  /** Attrs left out or changed, for a warning naming the container. */
  warnings: AttrWarning[];
}

/** Service -> agent registration (pure): ID, Name, Tags, Address, Port, Meta with the ownership marker, checks. */
export function agentRegistration(service: Service, host: string): RegistrationResult {
  const meta = serviceMeta(host, service);
  const checks = serviceChecks(service);
  const registration: AgentServiceRegistration = {
    ID: service.id,
    Name: service.name,
    Tags: [...service.tags],
    Address: service.ip,
    Port: service.port,
    Meta: meta.meta,
  };
  if (checks.checks.length === 1) registration.Check = checks.checks[0];
  else if (checks.checks.length > 1) registration.Checks = checks.checks;
  return { registration, warnings: [...meta.warnings, ...checks.warnings] };
}

/** The check IDs a registration gives its service. */
export function registrationCheckIds(registration: AgentServiceRegistration): string[] {
  return [...(registration.Check ? [registration.Check] : []), ...(registration.Checks ?? [])].map((c) => c.CheckID);
}

/** Why the agent cannot hold this service with its ownership marker, or undefined. */
export function registrationProblem(service: Service): string | undefined {
  const chunks = serviceRecordChunks(service).length;
  if (chunks > OWNER_MAX_CHUNKS) {
    return `its metadata is too large for Consul service Meta (${chunks} pieces of 512 bytes, at most ${OWNER_MAX_CHUNKS})`;
  }
  return undefined;
}
