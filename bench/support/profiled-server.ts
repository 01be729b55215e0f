/**
 * Profiling aid: runs the real server entry (`src/server/main.ts`) under the V8 CPU profiler and writes
 * `PROFILE_OUT` (a `.cpuprofile`, opens in Chrome DevTools) on SIGUSR2. Used by `bench/profile.ts`;
 * `node --cpu-prof` cannot be used directly because Nest's shutdown hooks end the process by re-raising the signal,
 * which skips the profile write.
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const session = new Session();
session.connect();
session.post('Profiler.enable', () =>
  session.post('Profiler.setSamplingInterval', { interval: 200 }, () =>
    session.post('Profiler.start', () => {
      process.on('SIGUSR2', () =>
        session.post('Profiler.stop', (error, result) => {
          if (!error) writeFileSync(process.env.PROFILE_OUT ?? 'server.cpuprofile', JSON.stringify(result.profile));
          console.log(`profile written${error ? ` (failed: ${error.message})` : ''}`);
        }),
      );
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- load the server once the profiler runs
      require('../../src/server/main');
    }),
  ),
);
