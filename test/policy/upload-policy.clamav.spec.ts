import { Test, TestingModule } from '@nestjs/testing';
import { Readable } from 'node:stream';
import { ClamAvScanner, ResumableUploadService, ValiBlobModule } from '../../src';
import { eicarTestString, FakeClamd, FakeClamdOptions, startFakeClamd } from '../support/fake-clamd';

/** The engine with the real ClamAV adapter against a fake clamd speaking INSTREAM: verdicts and failures. */
describe('upload policy with ClamAvScanner (fake clamd)', () => {
  let clamd: FakeClamd;
  let moduleRef: TestingModule;
  let uploads: ResumableUploadService;

  async function boot(fake: FakeClamdOptions, timeoutMs = 5000): Promise<void> {
    clamd = await startFakeClamd(fake);
    const scanner = new ClamAvScanner({ ...(clamd.address as { host: string; port: number }), timeoutMs });
    moduleRef = await Test.createTestingModule({
      imports: [
        ValiBlobModule.forRoot({
          providers: { mem: { type: 'memory' } },
          policy: { scan: { scanner } },
          http: { tus: false, rest: false },
        }),
      ],
    }).compile();
    uploads = moduleRef.get(ResumableUploadService);
  }

  afterEach(async () => {
    await moduleRef?.close();
    await clamd?.close();
  });

  async function upload(data: Buffer, path: string) {
    const session = await uploads.start({ path, totalSize: data.length });
    await uploads.uploadChunk({ uploadId: session.uploadId, offset: 0, body: Readable.from([data]) });
    return { id: session.uploadId, result: await uploads.complete(session.uploadId).catch((e) => e) };
  }

  it('EICAR is VIRUS_FOUND with the signature; a clean file is published', async () => {
    await boot({});
    const infected = await upload(Buffer.from(`xx ${eicarTestString()} xx`), 'eicar.txt');
    expect(infected.result).toMatchObject({
      status: 422,
      code: 'VIRUS_FOUND',
      details: { signature: 'Eicar-Test-Signature' },
    });
    const clean = await upload(Buffer.alloc(200_000, 'a'), 'clean.txt');
    expect(clean.result.session.status).toBe('Complete');
  });

  it('larger than clamd accepts (StreamMaxLength) is a final 413, not a 503 to retry forever', async () => {
    await boot({ streamMaxLength: 1000 });
    const { id, result } = await upload(Buffer.alloc(5000, 'b'), 'big.txt');
    expect(result).toMatchObject({ status: 413, code: 'SIZE_EXCEEDED' });
    expect((await uploads.getStatus(id)).status).toBe('Rejected');
  });

  it('a clamd that never answers: 503 SCANNER_UNAVAILABLE (timeout), the upload stays completable', async () => {
    await boot({ mode: 'hang' }, 300);
    const { id, result } = await upload(Buffer.from('hello'), 'hang.txt');
    expect(result).toMatchObject({ status: 503, code: 'SCANNER_UNAVAILABLE', details: { reason: 'timeout' } });
    expect((await uploads.getStatus(id)).status).toBe('InProgress');
  });
});
