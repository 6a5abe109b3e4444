// Unit tests: pure modules under src/, run in Node. Grafana's own
// @grafana/data is a dev-only oracle for some of them (see tests/unit/oracle.ts).
// TZ=UTC: dateTime units and time helpers format in the process's zone; tests
// pin it so results do not depend on the machine (workers inherit this env).
import { defineConfig } from 'vitest/config';

process.env.TZ = 'UTC';

export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
    env: { TZ: 'UTC' },
    // Oracle tests run thousands of cases through @grafana/data; on a busy shared
    // machine they can pass the 5 s default without being wrong.
    testTimeout: 60000,
  },
});
