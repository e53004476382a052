/**
 * Test helper: `zkmeter serve` from dist/ (built by npm test's pretest step)
 * as a child process on a free loopback port (lib/server/spawn.ts).
 */
export { CLI, spawnServe as startService, type ServeProcess as Service } from '../../dist/lib/server/spawn.js';
