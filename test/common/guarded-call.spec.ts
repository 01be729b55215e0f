import { guardedCall, GuardedFailure } from '../../src/common/guarded-call';
import { InvalidRequestError } from '../../src/errors/vali-blob.errors';

class Unavailable extends Error {
  constructor(readonly failure: GuardedFailure) {
    super(failure.message);
  }
}

describe('guardedCall', () => {
  const logged: string[] = [];
  const logger = { error: (line: string) => void logged.push(line) };
  const options = { what: 'probe', unavailable: (failure: GuardedFailure) => new Unavailable(failure), logger };
  beforeEach(() => (logged.length = 0));

  it('says the deadline passed, maps it once and does not log it as a failure', async () => {
    const never = new Promise<never>(() => undefined);
    const error = await guardedCall(() => never, { ...options, timeoutMs: 20 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Unavailable);
    expect((error as Unavailable).failure).toEqual({ message: 'probe timed out after 20 ms', timedOut: true });
    expect(logged).toEqual([]);
  });

  it('a rejection without a value is a failure, not a timeout', async () => {
    const error = await guardedCall(() => Promise.reject(undefined), { ...options, timeoutMs: 1_000 }).catch(
      (e: unknown) => e,
    );
    expect((error as Unavailable).failure).toMatchObject({ timedOut: false, cause: undefined });
    expect(logged).toHaveLength(1);
  });

  it('maps an unexpected failure with its cause; our typed errors pass through', async () => {
    const boom = new Error('ECONNREFUSED 10.0.0.1:5432');
    const mapped = await guardedCall(() => Promise.reject(boom), options).catch((e: unknown) => e);
    expect((mapped as Unavailable).failure).toEqual({
      message: 'probe failed: ECONNREFUSED 10.0.0.1:5432',
      timedOut: false,
      cause: boom,
    });
    const typed = new InvalidRequestError('bad cursor');
    await expect(guardedCall(() => Promise.reject(typed), options)).rejects.toBe(typed);
  });
});
