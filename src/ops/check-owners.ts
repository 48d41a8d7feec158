import { OWNERS_ROOT, ownersPrefix } from '../etcd/key-ops';
import type { MirrorLayout } from '../mirror/keys';
import type { Service } from '../registrator/service';
import type { Finding } from './check-finding';
import { CONTAINER_ID, type Kv, type MirrorVerdict } from './check-mirror';
import { readServiceRecord } from '../registrator/service-record';

/** Where every host's ownership records live; the check reads it whole. */
export const OWNERS_PREFIX = `${OWNERS_ROOT}/`;

/** A registry whose ownership records are judged: its scope in the records and how it lays a service out. */
export interface CheckedRegistry {
  /** The URI as given, for the reasons and the summary. */
  readonly registry: string;
  /** e.g. `hamesh/mesh`: records live under `/_registrator/owners/<host>/<scope>/`. */
  readonly scope: string;
  /** The keys one service is written as in that registry (EtcdRegistryReader.keysOf). */
  keysOf(service: Service): string[];
}

/** Counts of one registry's records read. */
export interface RegistryRecordCounts {
  registry: string;
  scope: string;
  records: number;
  /** Service keys looked up for those records. */
  serviceKeys: number;
}

/** Counts of one pass over `/_registrator/owners/`. */
export interface OwnerCounts {
  /** Every record read. */
  records: number;
  /** Mirror index records of the checked mirror prefix. */
  mirrorRecords: number;
  /** Records of a scope that is not checked here (another mirror prefix, a registry not given): not judged. */
  notChecked: number;
  registries: RegistryRecordCounts[];
}

/** A registry record waiting for its service's keys to be looked up. */
interface PendingRecord {
  key: string;
  value: string;
  registry: CheckedRegistry;
  service: Service;
  serviceKeys: string[];
}

/** One page of records sorted out: what was judged at once, and the registry records that need their service keys read. */
export interface RecordPage {
  pending: PendingRecord[];
  /** Every service key the pending records name; read them at the check's revision and hand them to `judge`. */
  serviceKeys: string[];
}

export interface OwnersJudgeOptions {
  /** The mirror pass over the same etcd at the same revision; absent where the mirror is not checked. */
  mirror?: { layout: MirrorLayout; verdict: MirrorVerdict };
  registries: readonly CheckedRegistry[];
}

/**
 * Judges the ownership records under `/_registrator/owners/`, fed the pages of one pass over it:
 * a mirror index record must name an entry of its host; a registry record must hold a service of
 * which the registry still has at least one key. Records of scopes not configured are counted, not
 * judged. A registry record's key is not read past its scope (its layout there may change): only
 * its value is. Pure: the service keys are looked up by the caller between `read` and `judge`.
 */
export class OwnersJudge {
  private readonly counts: OwnerCounts;
  private readonly byScope: Map<CheckedRegistry, RegistryRecordCounts>;
  private readonly findings: Finding[] = [];
  /** Longest scope first, so `etcd/a/b` is not taken for `etcd/a`. */
  private readonly registries: CheckedRegistry[];

  constructor(private readonly options: OwnersJudgeOptions) {
    this.registries = [...options.registries].sort((a, b) => b.scope.length - a.scope.length);
    this.byScope = new Map(options.registries.map((r) => [r, { registry: r.registry, scope: r.scope, records: 0, serviceKeys: 0 }]));
    this.counts = { records: 0, mirrorRecords: 0, notChecked: 0, registries: [...this.byScope.values()] };
  }

  /** Sorts out one page: mirror records and malformed registry records are judged at once. */
  read(kvs: Iterable<Kv>): RecordPage {
    const pending: PendingRecord[] = [];
    for (const [key, value] of kvs) {
      this.counts.records++;
      const rest = key.slice(OWNERS_PREFIX.length);
      const slash = rest.indexOf('/');
      const host = rest.slice(0, slash);
      if (slash <= 0) {
        this.counts.notChecked++;
        continue;
      }
      const mirror = this.options.mirror;
      if (mirror && key.startsWith(mirror.layout.ownerIndexPrefix(host))) {
        this.counts.mirrorRecords++;
        this.mirrorRecord(key, value, host, mirror);
        continue;
      }
      const registry = this.registries.find((r) => key.startsWith(ownersPrefix(host, r.scope)));
      if (!registry) {
        this.counts.notChecked++;
        continue;
      }
      const counts = this.byScope.get(registry)!;
      counts.records++;
      const record = readServiceRecord(value);
      if ('problem' in record) {
        this.found('registry-record', key, value, `is not the JSON of a service (${record.problem})`);
        continue;
      }
      let serviceKeys: string[];
      try {
        serviceKeys = registry.keysOf(record.service);
      } catch (err) {
        this.found(
          'registry-record',
          key,
          value,
          `is not the JSON of a service ${registry.registry} can lay out (${(err as Error).message})`,
        );
        continue;
      }
      counts.serviceKeys += serviceKeys.length;
      pending.push({ key, value, registry, service: record.service, serviceKeys });
    }
    return { pending, serviceKeys: pending.flatMap((p) => p.serviceKeys) };
  }

  /** Judges a page's registry records, given which of their service keys etcd holds at the check's revision. */
  judge(page: RecordPage, present: ReadonlySet<string>): void {
    for (const { key, value, registry, service, serviceKeys } of page.pending) {
      const id = JSON.stringify(service.id);
      if (serviceKeys.length === 0)
        this.found('registry-record', key, value, `service ${id} has no keys in ${registry.registry} (it cannot be registered there)`);
      else if (!serviceKeys.some((k) => present.has(k))) {
        this.found(
          'registry-record',
          key,
          value,
          `none of the keys of service ${id} is in ${registry.registry} (${serviceKeys.join(', ')})`,
          serviceKeys.map((k) => ({ key: k })),
        );
      }
    }
  }

  finish(): { counts: OwnerCounts; findings: Finding[] } {
    return { counts: { ...this.counts, registries: this.counts.registries.map((r) => ({ ...r })) }, findings: this.findings };
  }

  private mirrorRecord(key: string, value: string, host: string, mirror: NonNullable<OwnersJudgeOptions['mirror']>): void {
    const id = key.slice(mirror.layout.ownerIndexPrefix(host).length);
    if (!CONTAINER_ID.test(id))
      return this.found(
        'mirror-record',
        key,
        value,
        `is not ${mirror.layout.ownerIndexPrefix(host)}<id> with <id> a container id (64 hex)`,
      );
    const base = mirror.layout.container(id);
    const entry = mirror.verdict.entries.get(id);
    if (!entry) return this.found('mirror-record', key, value, `its entry is missing (${base} holds nothing)`, [{ prefix: base }]);
    if (entry.host === undefined)
      return this.found('mirror-record', key, value, `its entry names no host (no ${base}host)`, [{ key: `${base}host` }]);
    if (entry.host !== host)
      return this.found('mirror-record', key, value, `its entry names host ${JSON.stringify(entry.host)}`, [{ key: `${base}host` }]);
    // The record of an entry that is itself a finding goes with it.
    mirror.verdict.entryFindings.get(id)?.deletes.push({ key });
  }

  private found(kind: Finding['kind'], key: string, value: string, reason: string, judgedOn: Finding['judgedOn'] = []): void {
    this.findings.push({ kind, key, value, reason, judgedOn, deletes: [{ key }] });
  }
}
