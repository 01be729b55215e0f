import { parseSession, serializeSession } from '../../src/sessions/redis/redis-session.codec';
import { makeTestSession } from '../../src/testing/session-store.contract';

describe('Redis session codec: records written before partial/parts', () => {
  /** A record as the store wrote it when the model held the tus wire string `concat`. */
  function legacyRecord(concat: string | null): { json: string; uploadId: string } {
    const { partial: _partial, parts: _parts, ...rest } = makeTestSession();
    return { json: JSON.stringify({ ...rest, concat }), uploadId: rest.uploadId };
  }

  it('reads concat "partial" as a partial upload', () => {
    const { json, uploadId } = legacyRecord('partial');
    const session = parseSession(json, uploadId);
    expect(session).toMatchObject({ partial: true, parts: null });
    expect(session).not.toHaveProperty('concat');
  });

  it('reads concat "final;<ids>" as the parts, in order', () => {
    const { json, uploadId } = legacyRecord('final;part-b part-a');
    expect(parseSession(json, uploadId)).toMatchObject({ partial: false, parts: ['part-b', 'part-a'] });
  });

  it('reads concat null as an ordinary upload', () => {
    const { json, uploadId } = legacyRecord(null);
    expect(parseSession(json, uploadId)).toMatchObject({ partial: false, parts: null });
  });

  it('round-trips the neutral fields', () => {
    const session = makeTestSession({ partial: false, parts: ['a', 'b'] });
    expect(parseSession(serializeSession(session), session.uploadId)).toEqual(session);
  });
});
