import type { Container } from '../docker/container';

/**
 * The image's basename, the default service name of a container (docs/registrator.md, "Services"):
 * without registry, path, tag or digest; undefined when the container name stands in for it, as an
 * image given by ID says nothing about the service.
 *
 *   redis                                   -> redis
 *   redis:7-alpine                          -> redis
 *   redis@sha256:<hex>                      -> redis
 *   registry.example.com:5000/team/app:1.2  -> app
 *   sha256:<hex> or a bare 64-hex ID        -> undefined (the container name)
 *   a short ID (12+ hex) of `imageId`       -> undefined (the container name)
 *
 * `imageId` is inspect's `.Image` (`sha256:<hex>`), the image the reference resolved to.
 */
export function imageBasename(image: string, imageId: string): string | undefined {
  const reference = image.trim();
  if (reference === '' || isImageId(reference) || isShortIdOf(reference, imageId)) return undefined;
  const withoutDigest = reference.split('@')[0];
  // The last path segment; a registry's ":port" lives in an earlier segment, so the first ':' left is the tag.
  const basename = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const name = basename.split(':')[0];
  return name === '' ? undefined : name;
}

/** `sha256:<hex>` or a full 64-hex ID. */
function isImageId(reference: string): boolean {
  return /^sha256:[0-9a-f]+$/i.test(reference) || /^[0-9a-f]{64}$/i.test(reference);
}

/**
 * `docker run a7d1531d1e03`: a hex prefix of the image the container runs. Shorter than Docker's
 * 12-character short ID, a repository name (`db`, `cafe`) could match its own ID by chance.
 */
function isShortIdOf(reference: string, imageId: string): boolean {
  if (!/^[0-9a-f]{12,64}$/i.test(reference)) return false;
  return imageId
    .toLowerCase()
    .replace(/^sha256:/, '')
    .startsWith(reference.toLowerCase());
}

/** Compose's service and project labels, trimmed; undefined when the container has no service label. */
export function composeService(compose: Container['compose']): { service: string; project: string } | undefined {
  const service = (compose?.service ?? '').trim();
  if (service === '') return undefined;
  return { service, project: (compose?.project ?? '').trim() };
}
