// Bundles the `registrator` command for running (`npm run build` calls it after tsc) into dist/bin:
// registrator.js is the entry (src/cli.ts) that turns on Node's compile cache and then requires
// main.js (src/main.ts: what --help, --version and bad usage need), which requires daemon.js (the
// rest of the product and every package it uses) when a command runs. A start then reads three files
// instead of some 400 from node_modules, and needs no node_modules at run time (the Docker image
// copies dist/bin alone).
//
// etcd3 builds its gRPC client from its .proto files when it is loaded (@grpc/proto-loader's loadSync
// parses them on every start). Here they are parsed once, at build time, with protobufjs (what
// proto-loader itself uses), and the bundle hands the same definitions to proto-loader's fromJSON.
//
//   node scripts/bundle.mjs
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const outdir = join(root, 'dist/bin');

/** etcd3's module that loads its protos, and the call it makes (it must be there, once: a new etcd3 that differs fails the build). */
const ETCD3_POOL = /[\\/]node_modules[\\/]etcd3[\\/]lib[\\/]connection-pool\.js$/;
const ETCD3_LOAD = '(0, proto_loader_1.loadSync)(`${__dirname}/../proto/rpc.proto`,';

/** etcd3's service definitions as protobufjs JSON, parsed from its .proto files as proto-loader would (keepCase). */
function etcd3Descriptor() {
  const protobuf = require('protobufjs');
  const proto = join(dirname(require.resolve('etcd3/package.json')), 'proto/rpc.proto');
  return new protobuf.Root().loadSync(proto, { keepCase: true }).toJSON();
}

/**
 * A plugin that rewrites, in the package file `file` matches, the one place each `from` occurs to
 * what its `to()` gives; the build fails when a `from` is not there exactly once (a new version of the
 * package that differs must be looked at, not bundled unpatched). `why` names the code in the error.
 */
function patchOnce(name, file, replacements, why) {
  return {
    name,
    setup(build) {
      build.onLoad({ filter: file }, (args) => {
        let source = readFileSync(args.path, 'utf8');
        for (const [from, to] of replacements) {
          if (source.split(from).length !== 2) throw new Error(`${args.path} no longer ${why} with ${from} ...: update scripts/bundle.mjs`);
          source = source.replace(from, to());
        }
        return { contents: source, loader: 'js' };
      });
    },
  };
}

/** Replaces etcd3's run-time parsing of its .proto files with the descriptor parsed at build time. */
const etcd3Protos = patchOnce(
  'etcd3-protos',
  ETCD3_POOL,
  [[ETCD3_LOAD, () => `(0, proto_loader_1.fromJSON)(${JSON.stringify(etcd3Descriptor())},`]],
  'loads its protos',
);

/** proto-loader's `const <d> = <of>.toDescriptor('proto3'); ... type: <converted d>, fileDescriptorProtos` as getters. */
function lazyType(d, of) {
  return [
    [`const ${d} = ${of}.toDescriptor('proto3');`, () => ''],
    [
      `type: ${d}.$type.toObject(${d}, descriptorOptions),
        fileDescriptorProtos: fileDescriptors,`,
      () => `get type() {
            const ${d} = ${of}.toDescriptor('proto3');
            return ${d}.$type.toObject(${d}, descriptorOptions);
        },
        get fileDescriptorProtos() {
            return fileDescriptors();
        },`,
    ],
  ];
}

/**
 * proto-loader gives every message and enum of a package definition its reflection descriptor
 * (`type`, built with protobufjs's generated converters) and the file descriptors of the whole root
 * (`fileDescriptorProtos`, built and encoded once per definition). They are there for gRPC server
 * reflection; grpc-js's client reads only each method's path and (de)serializers, so for etcd's API
 * they were built at every start for nothing (about 40 % of `fromJSON`). The bundle builds them when
 * first read.
 */
const PROTO_LOADER = /[\\/]node_modules[\\/]@grpc[\\/]proto-loader[\\/]build[\\/]src[\\/]index\.js$/;
const protoLoaderLazy = patchOnce(
  'proto-loader-descriptors',
  PROTO_LOADER,
  [
    [
      `const descriptorList = root.toDescriptor('proto3').file;
    const bufferList = descriptorList.map(value => Buffer.from(descriptor.FileDescriptorProto.encode(value).finish()));`,
      () => `let buffers;
    const bufferList = () => (buffers ??= root.toDescriptor('proto3').file.map(value => Buffer.from(descriptor.FileDescriptorProto.encode(value).finish())));`,
    ],
    ...lazyType('messageDescriptor', 'message'),
    ...lazyType('enumDescriptor', 'enumType'),
  ],
  'builds reflection descriptors',
);

/**
 * docker-modem formats every request it sends with `util.inspect(options, { showHidden, depth: null })`
 * for its `debug` output, before `debug` looks whether that output is on (DEBUG=modem): a deep walk
 * of every request's options for nothing. The bundle formats it only when the output is on.
 */
const MODEM = /[\\/]node_modules[\\/]docker-modem[\\/]lib[\\/]modem\.js$/;
const MODEM_SENDING = "debug('Sending: %s', util.inspect(";
const modemDebug = patchOnce('docker-modem-debug', MODEM, [[MODEM_SENDING, () => `debug.enabled && ${MODEM_SENDING}`]], 'logs its requests');

/**
 * Code that only some configurations run goes in files of its own beside main.js, required when it is
 * first used, so a start does not read it:
 * - docker-modem's ssh transport (and with it ssh2, its ciphers and its ASN.1 parser, a fifth of the
 *   bundle), for DOCKER_HOST=ssh://, which the daemon never asks of it (a Unix socket or TCP,
 *   src/docker/client.ts). docker-modem requires it when it is loaded; its `require('./ssh')` gets a
 *   function that requires dist/bin/docker-ssh.js on its first call;
 * - prom-client (with its OpenTelemetry API), which only the HTTP listener's /metrics uses
 *   (src/http/metrics.ts, itself loaded only with -http-port).
 * Nothing else requires either, so no state is split between two copies.
 */
const DOCKER_SSH = join(dirname(require.resolve('docker-modem/package.json')), 'lib/ssh.js');
const apart = {
  name: 'apart',
  setup(build) {
    build.onResolve({ filter: /^\.\/ssh$/ }, (args) =>
      join(args.resolveDir, 'ssh.js') === DOCKER_SSH ? { path: DOCKER_SSH, namespace: 'lazy-docker-ssh' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-docker-ssh' }, () => ({
      contents: `module.exports = function (options) { return require('./docker-ssh.js')(options); };`,
      loader: 'js',
    }));
    build.onResolve({ filter: /^\.\/docker-ssh\.js$/ }, (args) =>
      args.namespace === 'lazy-docker-ssh' ? { path: args.path, external: true } : undefined,
    );
    build.onResolve({ filter: /^prom-client$/ }, () => ({ path: './prom-client.js', external: true }));
  },
};

rmSync(outdir, { recursive: true, force: true });
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  // Class and function names stay as written (error names, stack traces, profiles).
  keepNames: true,
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  logLevel: 'warning',
};
/** ssh2's optional native helpers: it falls back to JavaScript without them. */
const native = ['cpu-features', '*.node'];

/** A source file an import names, as a path relative to the project (`src/app.ts`), or undefined for a package. */
function sourceOf(args) {
  if (!args.path.startsWith('.')) return undefined;
  const base = join(args.resolveDir, args.path);
  const file = [`${base}.ts`, join(base, 'index.ts')].find((f) => existsSync(f));
  return file && file.startsWith(join(root, 'src')) ? relative(root, file) : undefined;
}

/**
 * main.ts answers `--help`, `--version` and bad usage with what it imports statically (a handful of
 * the product's files, no package) and imports the rest when a command runs. So the bundle is two
 * files: main.js, those few files, and daemon.js, every module main.ts imports on demand with all
 * the packages. main.js requires daemon.js where main.ts imports one of them; daemon.js takes the
 * modules the two share (ConfigError above all, which main.ts tells apart with instanceof) from
 * main.js, so each module exists once.
 */
async function splitMain() {
  const onDemand = new Set();
  const probe = await esbuild.build({
    ...common,
    entryPoints: ['src/main.ts'],
    write: false,
    metafile: true,
    outfile: join(outdir, 'probe.js'),
    plugins: [
      {
        name: 'on-demand',
        setup(build) {
          build.onResolve({ filter: /.*/ }, (args) => {
            if (args.kind !== 'dynamic-import') return undefined;
            onDemand.add(sourceOf(args));
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  const shared = Object.keys(probe.metafile.inputs);
  if (onDemand.has(undefined) || shared.some((f) => !f.startsWith('src/')))
    throw new Error("main.ts must import only the product's own files: update scripts/bundle.mjs");
  // `src/config/load.ts` is exported as `src_config_load`.
  const key = (file) => file.replace(/\.ts$/, '').replace(/[^A-Za-z0-9]/g, '_');
  const all = [...onDemand, ...shared];
  if (new Set(all.map(key)).size !== new Set(all).size) throw new Error('two modules of main.ts share a name in the bundle');
  const linkTo = (target, files) => ({
    name: `link-to-${target}`,
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.namespace === target) return { path: args.path, external: true };
        const file = args.importer.startsWith(root) || args.namespace === 'file' ? sourceOf(args) : undefined;
        return file && files.has(file) && args.importer !== join(root, file) ? { path: file, namespace: target } : undefined;
      });
      build.onLoad({ filter: /.*/, namespace: target }, (args) => ({
        contents: `module.exports = require('./${target}.js').${key(args.path)};`,
        loader: 'js',
      }));
    },
  });
  const entry = (files, extra = '') => ({
    contents: extra + [...files].map((f) => `export * as ${key(f)} from './${f.replace(/\.ts$/, '')}';\n`).join(''),
    resolveDir: root,
    sourcefile: 'main-entry.ts',
    loader: 'ts',
  });
  const sharedFiles = new Set(shared.filter((f) => f !== 'src/main.ts'));
  await Promise.all([
    esbuild.build({
      ...common,
      stdin: entry(sharedFiles, "export { main } from './src/main';\n"),
      outfile: join(outdir, 'main.js'),
      plugins: [linkTo('daemon', onDemand)],
    }),
    esbuild.build({
      ...common,
      // Each module is run when main.js first asks for it, as an import() would: not all at load.
      stdin: {
        contents: [...onDemand]
          .map(
            (f) =>
              `Object.defineProperty(exports, '${key(f)}', { enumerable: true, get: () => require('./${f.replace(/\.ts$/, '')}') });\n`,
          )
          .join(''),
        resolveDir: root,
        sourcefile: 'daemon-entry.js',
        loader: 'js',
      },
      outfile: join(outdir, 'daemon.js'),
      plugins: [etcd3Protos, protoLoaderLazy, modemDebug, apart, linkTo('main', sharedFiles)],
      external: native,
    }),
  ]);
}

await Promise.all([
  splitMain(),
  esbuild.build({ ...common, entryPoints: { 'docker-ssh': DOCKER_SSH }, outdir, external: native }),
  esbuild.build({ ...common, entryPoints: { 'prom-client': require.resolve('prom-client') }, outdir }),
  // The entry: the compile cache first, then main.js (kept apart so that it is compiled with the cache on).
  esbuild.build({ ...common, entryPoints: { registrator: 'src/cli.ts' }, outdir, external: ['./main'] }),
]);
// The entry runs as a command (its first line names Node and its flags): the image's entrypoint, npm's bin.
chmodSync(join(outdir, 'registrator.js'), 0o755);
