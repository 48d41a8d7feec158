import { fleetScaleSuite } from '../support/fleet-scale-suite';

// The size of a real fleet: 200 hosts, 460,000 keys, then 920,000 (test/integration/fleet-scale.test.ts runs 40).
fleetScaleSuite(200);
