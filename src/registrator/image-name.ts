/**
 * The default service name of a container (SPEC §5): the image's basename without registry,
 * path, tag or digest. An image given by ID says nothing about the service, so the container
 * name is used instead.
 *
 *   redis                                   -> redis
 *   redis:7-alpine                          -> redis
 *   redis@sha256:<hex>                      -> redis
 *   registry.example.com:5000/team/app:1.2  -> app
 *   sha256:<hex> or a bare 64-hex ID        -> <containerName>
 */
export function defaultServiceName(image: unknown, containerName: string): string {
  const reference = typeof image === 'string' ? image.trim() : '';
  if (reference === '' || isImageId(reference)) return containerName;
  const withoutDigest = reference.split('@')[0];
  // The last path segment; a registry's ":port" lives in an earlier segment, so the first ':' left is the tag.
  const basename = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const name = basename.split(':')[0];
  return name === '' ? containerName : name;
}

/** `sha256:<hex>` or a full 64-hex ID; a short hex prefix cannot be told apart from a repository name. */
function isImageId(reference: string): boolean {
  return /^sha256:[0-9a-f]+$/i.test(reference) || /^[0-9a-f]{64}$/i.test(reference);
}
