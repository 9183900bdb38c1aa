import { defineConfig } from 'vitest/config';

// One runner for every unit/integration test. Browser (Playwright) tests live in
// tests/browser and are included too; they skip themselves only when no Chromium is installed
// and CI=true makes that a failure (see tests/helpers/env.ts).
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default'],
  },
});
