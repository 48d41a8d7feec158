/**
 * When a host writes back what vanished from etcd (self-healing). A purge of the whole fleet
 * (another host's SIGUSR2, an etcd rebuilt empty) makes every host refill at once; each waits a
 * delay fixed by a hash of its host name, spread over a window long enough for etcd to take the
 * fleet's refill at REFILL_KEYS_PER_SECOND. One host alone refills within about a second.
 */

/** The start of every delay, so this host's own deletions have landed before it looks. */
const HEAL_MIN_MS = 100;
/** The shortest window: a small fleet still spreads its refills over a second. */
const MIN_WINDOW_MS = 1_000;
/** The longest window: a host's data is back within this much plus the refill itself, whatever the fleet. */
const MAX_WINDOW_MS = 600_000;
/**
 * The write rate a fleet's refill is planned for: about half of what one 2-core etcd member took in
 * transactions of one container each in the refill benchmark (docs/performance.md: 8,000-10,000
 * keys a second on a shared machine), so reads stay quick while the fleet refills.
 */
const REFILL_KEYS_PER_SECOND = 5_000;

/** What a host knows of its fleet when it heals. */
export interface FleetSize {
  /** Hosts that hold a claim on their host name (one count-only read of the claims). */
  hosts: number;
  /** Keys this host writes back (its own estimate; the fleet's hosts are taken to be alike). */
  keysPerHost: number;
}

/** The window the fleet's refills are spread over. */
export function healWindowMs(fleet: FleetSize): number {
  const ms = Math.ceil(((Math.max(1, fleet.hosts) * Math.max(0, fleet.keysPerHost)) / REFILL_KEYS_PER_SECOND) * 1000);
  return Math.min(MAX_WINDOW_MS, Math.max(MIN_WINDOW_MS, ms));
}

/** Where in [0, 1) a host's delay falls in the window: FNV-1a of its name, the same at every heal. */
function hostFraction(host: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(host)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash / 2 ** 32;
}

/** This host's self-healing delay in a fleet of this size. */
export function healDelayMs(host: string, fleet: FleetSize): number {
  return HEAL_MIN_MS + Math.floor(hostFraction(host) * healWindowMs(fleet));
}

/** The delay of a host that knows nothing of its fleet yet: 0.1 to 1.1 s. */
export function selfHealDelayMs(host: string): number {
  return healDelayMs(host, { hosts: 1, keysPerHost: 0 });
}
