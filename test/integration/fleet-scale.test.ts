import { fleetScaleSuite } from '../support/fleet-scale-suite';

// 40 hosts: 92,000 keys, then 184,000. The same suite at 200 hosts is in test/faults/fleet-scale.test.ts.
fleetScaleSuite(40);
