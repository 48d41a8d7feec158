import { StringDecoder } from 'node:string_decoder';

/**
 * Splits Docker's event stream into JSON lines. Chunks arrive at arbitrary boundaries: a line
 * (or a multi-byte UTF-8 character) may be split across chunks, and one chunk may hold several lines.
 */
export class EventLineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  /** Feeds one chunk; returns the complete, non-empty lines it finished. */
  push(chunk: Buffer | string): string[] {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const parts = this.pending.split('\n');
    this.pending = parts.pop() ?? '';
    return parts.map((l) => l.trim()).filter((l) => l !== '');
  }

  /** The stream ended: whatever is left is the last line (Docker ends lines with \n, so usually nothing). */
  end(): string[] {
    const rest = (this.pending + this.decoder.end()).trim();
    this.pending = '';
    return rest === '' ? [] : [rest];
  }
}
