import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unavailableReason } from '../../src/etcd/errors';

describe('unavailableReason: the cause of an UNAVAILABLE, worded the same on every Node', () => {
  const cases: Array<[string, string, string]> = [
    [
      'a refused client certificate, OpenSSL 1.1 (Node 20)',
      '14 UNAVAILABLE: No connection established. Last error: Error: 40F7:error:10000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1605:SSL alert number 42 (2026-12-01T05:00:00.000Z)',
      'TLS alert bad certificate',
    ],
    [
      'a refused client certificate, OpenSSL 3 (Node 24)',
      '14 UNAVAILABLE: No connection established. Last error: Error: 40F7:error:0A000412:SSL routines:ssl3_read_bytes:ssl/tls alert bad certificate:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:918:SSL alert number 42 (2026-12-01T05:00:00.000Z)',
      'TLS alert bad certificate',
    ],
    [
      'a TLS 1.3 alert',
      '14 UNAVAILABLE: No connection established. Last error: Error: x:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:file:1:SSL alert number 116',
      'TLS alert certificate required',
    ],
    [
      "an untrusted server certificate, Node 24's CA-store advice left out",
      '14 UNAVAILABLE: No connection established. Last error: Error: unable to verify the first certificate; if the root CA is installed locally, try running Node.js with --use-system-ca (2026-12-01T05:00:00.000Z)',
      'unable to verify the first certificate',
    ],
    [
      'an untrusted server certificate, Node 20',
      '14 UNAVAILABLE: No connection established. Last error: Error: unable to verify the first certificate (2026-12-01T05:00:00.000Z)',
      'unable to verify the first certificate',
    ],
  ];
  for (const [what, message, reason] of cases) {
    it(what, () => assert.equal(unavailableReason(message), reason));
  }
});
