/** Docker could not be listed or a container not inspected (`registrator diff` exits 2 saying so). */
export class DockerReadError extends Error {
  override readonly name = 'DockerReadError';
  constructor(cause: unknown) {
    super(`cannot read Docker: ${(cause as Error)?.message ?? cause}`);
  }
}
