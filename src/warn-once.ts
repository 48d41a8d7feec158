/**
 * What was last said about each subject (a container, a service, a topic), so a warning is logged
 * when it is new or has changed, not again at every resync or refresh.
 */
export class WarnOnce {
  private readonly said = new Map<string, string>();

  private readonly emptyForgets: boolean;

  /**
   * @param options.emptyForgets what an empty text means: "nothing to say any more", so the next
   *   warning is news even when it is the last one again (true); or nothing, the last one stays known (false).
   */
  constructor(options: { emptyForgets: boolean }) {
    this.emptyForgets = options.emptyForgets;
  }

  /** Whether `text` is to be said about `subject`: not empty and not what was said last. Remembers it. */
  isNew(subject: string, text: string): boolean {
    if (text === '') {
      if (this.emptyForgets) this.said.delete(subject);
      return false;
    }
    if (this.said.get(subject) === text) return false;
    this.said.set(subject, text);
    return true;
  }

  /** The subject is gone: what comes next about it is news. */
  forget(subject: string): void {
    this.said.delete(subject);
  }
}
