// Node tier setup: under CI, every fast-check property draws from one fixed seed, so the gate is
// repeatable; local runs draw new inputs each time. A test's own `seed` option still wins
// (CONVERGENCE_SEED replays a run).
import fc from "fast-check";

if (process.env.CI) fc.configureGlobal({ seed: 1129 });
