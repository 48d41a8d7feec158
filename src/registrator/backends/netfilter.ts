import type { Logger } from '../../log';
import type { Admission, BackendFactory, OwnedService } from '../backend';
import { canonicalEntry, chainRules, parseSavedEntries, serviceEntries } from '../netfilter/entries';
import { findTool, ip6tablesRunner, runTool } from '../netfilter/tools';
import type { Service } from '../service';
import { ServiceByServiceBackend } from '../service-by-service';

/** How often the set and the rules are checked (and restored after a firewalld reload or a flush). */
const RULE_CHECK_INTERVAL_MS = 5_000;

/**
 * netfilter://[chain]/[set] (docs/registrator.md), default `FORWARD_direct/containerports`: an IPv6 firewall
 * that lets forwarded traffic reach a container's published ports and nothing else. The ipset is
 * this host's alone, so it is its own record: after every reconciliation whatever the daemon does
 * not hold is removed from it.
 */
class NetfilterBackend extends ServiceByServiceBackend {
  readonly description: string;
  override readonly exclusive = true;
  /** ping entry -> services using it: a container's ping entry goes with its last port. */
  private readonly pingUsers = new Map<string, Set<string>>();
  private ready = false;
  private checkTimer?: NodeJS.Timeout;

  constructor(
    private readonly chain: string,
    private readonly set: string,
    private readonly requestReconcile: (reason: string) => void,
    private readonly log: Logger,
    description: string,
  ) {
    super();
    this.description = description;
  }

  /** Creates the set and the rules where missing; fails naming the tool when one is missing or refused. */
  async ping(): Promise<void> {
    findTool('ipset');
    findTool('ip6tables');
    await this.ensureSetup();
    if (!this.checkTimer) {
      this.checkTimer = setInterval(() => void this.recheck(), RULE_CHECK_INTERVAL_MS);
      this.checkTimer.unref();
    }
  }

  /** An IPv4-only container has nothing to open in an IPv6 firewall. */
  override admit(service: Service): Admission {
    return serviceEntries(service) !== undefined ? { notes: [] } : { concerned: false };
  }

  async register(service: Service): Promise<void> {
    const entries = serviceEntries(service);
    if (!entries) return;
    await this.ipset(['-exist', 'add', this.set, entries.port]);
    await this.ipset(['-exist', 'add', this.set, entries.ping]);
    const users = this.pingUsers.get(entries.ping) ?? new Set<string>();
    users.add(service.id);
    this.pingUsers.set(entries.ping, users);
  }

  async deregister(service: Service): Promise<void> {
    const entries = serviceEntries(service);
    if (!entries) return;
    await this.ipset(['-exist', 'del', this.set, entries.port]);
    const users = this.pingUsers.get(entries.ping);
    users?.delete(service.id);
    if (!users || users.size === 0) {
      await this.ipset(['-exist', 'del', this.set, entries.ping]);
      this.pingUsers.delete(entries.ping);
    }
  }

  async refresh(service: Service): Promise<void> {
    await this.register(service);
  }

  /** The set keeps no record of services; every reconciliation adds what is wanted and prunes the rest. */
  async owned(): Promise<OwnedService[]> {
    return [];
  }

  /** Removes every entry of the set that none of `keep` accounts for (containers gone while the daemon was down). */
  override async removeDangling(keep: Service[]): Promise<string[]> {
    const wanted = new Set<string>();
    for (const service of keep) {
      const entries = serviceEntries(service);
      if (entries) wanted.add(canonicalEntry(entries.port)).add(canonicalEntry(entries.ping));
    }
    const { stdout } = await runTool('ipset', ['save', this.set]);
    const stale = parseSavedEntries(stdout, this.set).filter((entry) => !wanted.has(canonicalEntry(entry)));
    for (const entry of stale) await this.ipset(['-exist', 'del', this.set, entry]);
    return stale;
  }

  /** SIGTERM: empties the set. The set and the DROP rule stay, so containers stay closed while no registrator runs. */
  protected override async removeAll(): Promise<void> {
    await this.ipset(['flush', this.set]);
    this.pingUsers.clear();
  }

  async close(): Promise<void> {
    clearInterval(this.checkTimer);
  }

  private async ensureSetup(): Promise<boolean> {
    const { code } = await runTool('ipset', ['list', '-n', this.set], [0, 1]);
    const setCreated = code === 1;
    if (setCreated) await this.ipset(['-exist', 'create', this.set, 'hash:ip,port', 'family', 'inet6']);
    const ip6tables = await ip6tablesRunner();
    if ((await ip6tables(['-w', '-S', this.chain], [0, 1])).code === 1) {
      await ip6tables(['-w', '-N', this.chain]);
      this.log.warn('created the chain; make sure something jumps to it (firewalld does for FORWARD_direct)', { chain: this.chain });
    }
    const { accept, drop } = chainRules(this.chain, this.set);
    const added: string[] = [];
    // ACCEPT goes first in the chain, so it also precedes a DROP that was already there.
    if ((await ip6tables(['-w', '-C', ...accept], [0, 1])).code === 1) {
      await ip6tables(['-w', '-I', this.chain, '1', ...accept.slice(1)]);
      added.push('accept');
    }
    if ((await ip6tables(['-w', '-C', ...drop], [0, 1])).code === 1) {
      await ip6tables(['-w', '-A', ...drop]);
      added.push('drop');
    }
    if (setCreated || added.length > 0)
      this.log.info('netfilter set and rules in place', { chain: this.chain, set: this.set, setCreated, rulesAdded: added });
    const wasReady = this.ready;
    this.ready = true;
    return wasReady && (setCreated || added.length > 0);
  }

  /** Restores what a firewalld reload (or a hand) removed; a re-created set needs its entries again. */
  private async recheck(): Promise<void> {
    try {
      if (await this.ensureSetup()) {
        this.log.warn('netfilter rules re-applied', { chain: this.chain, set: this.set });
        this.requestReconcile('netfilter set or rules were missing');
      }
    } catch (err) {
      this.log.warn('netfilter check failed', { err });
    }
  }

  private ipset(args: string[]): Promise<unknown> {
    return runTool('ipset', args);
  }
}

export const createNetfilterBackend: BackendFactory = (uri, context) => {
  const chain = uri.authority || 'FORWARD_direct';
  const set = uri.path || 'containerports';
  return new NetfilterBackend(chain, set, context.requestReconcile, context.log.child({ component: 'writer.netfilter' }), uri.raw);
};
