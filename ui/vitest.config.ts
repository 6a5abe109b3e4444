// Unit tests: pure modules under src/, run in Node. Grafana's own
// @grafana/data is a dev-only oracle for some of them (see tests/unit/oracle.ts).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
  },
});
