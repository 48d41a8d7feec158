/**
 * Where every host files its ownership records (docs/mirror.md, docs/registrator.md): one root for etcd's
 * records (`/_registrator/owners/<host>/<scope>/`) and Consul KV's (`_registrator/owners/<host>/consulkv/`).
 */

/** The root as a path of segments; Consul KV's keys are written this way, without a leading `/`. */
export const OWNERS_ROOT_PATH = '_registrator/owners';

/** The root of every host's records in etcd. */
export const OWNERS_ROOT = `/${OWNERS_ROOT_PATH}`;
