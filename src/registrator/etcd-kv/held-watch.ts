import type { Etcd3 } from 'etcd3';
import { DeletionWatch } from '../../etcd/deletion-watch';
import type { Logger } from '../../log';
import type { RegistrationBook } from '../registration-book';
import type { KeyLayout } from '../registration-ops';
import type { Service } from '../service';

/**
 * Self-healing for one etcd-based registry: watches this host's ownership records and the prefixes
 * of the services its book holds (and their claims' ranges, for puts too), and reports a key of
 * theirs deleted behind this host's back, or another service's claim on a port one of them claims.
 */
export class HeldWatch {
  private readonly watch: DeletionWatch;

  constructor(
    etcd: Etcd3,
    private readonly book: RegistrationBook,
    private readonly layout: KeyLayout,
    private readonly ownersPrefix: string,
    onVanished: (reason: string) => void,
    log: Logger,
  ) {
    this.watch = new DeletionWatch(
      etcd,
      (key) => (this.isHeld(key) || this.isOthersClaim(key)) && onVanished(`${key} deleted`),
      log,
      (key) => this.isOthersClaim(key) && onVanished(`${key} claims a port this host's service claims`),
    );
  }

  /** Watches the book's prefixes and claim ranges, once they changed. */
  update(): void {
    if (!this.book.takeChanged()) return;
    const ranges = new Set(this.book.claimRanges());
    this.watch.watch([this.ownersPrefix, ...this.book.watched(), ...ranges], ranges);
  }

  close(): Promise<void> {
    return this.watch.close();
  }

  /** Whether `key` is one of the services, claims or records this host holds (and so should still be in etcd). */
  private isHeld(key: string): boolean {
    if (this.book.holdsKey(key)) return true;
    const lost = this.layout.claims?.lost;
    return this.book.claimsOn(key).some((claim) => !lost?.has(claim));
  }

  /** Whether `key` is another service's claim in a range where a service this host holds claims too. */
  private isOthersClaim(key: string): boolean {
    // The ranges `key` lies in are its prefixes that end in `/`.
    for (let end = key.indexOf('/'); end !== -1; end = key.indexOf('/', end + 1)) {
      if (this.book.claimsIn(key.slice(0, end + 1)).some((claim) => claim !== key)) return true;
    }
    return false;
  }
}

/**
 * The prefix a held service is watched through. A service with this host's default ID is watched
 * through `<root><name>/<host>:`, one watcher for all of this host's services of that name (whose
 * keys are this host's alone), so containers coming and going do not make and cancel watchers; a
 * custom ID is watched on its own. Pure.
 */
export function watchPrefix(layout: KeyLayout, host: string, service: Service, keys: readonly string[]): string {
  const own = service.id.startsWith(`${host}:`) ? `${layout.root}${service.name}/${host}:` : undefined;
  return own && keys.every((k) => k.startsWith(own)) ? own : (layout.tree?.(service) ?? keys[0] ?? '');
}
