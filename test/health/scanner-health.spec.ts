import { TerminusModule } from '@nestjs/terminus';
import { Test, TestingModule } from '@nestjs/testing';
import { ClamAvScanner, ValiBlobModule, ValiBlobModuleOptions } from '../../src';
import { ValiBlobHealthIndicator } from '../../src/health';
import { FakeClamd, startFakeClamd } from '../support/fake-clamd';

/** The scanner check: part of checkAll when `policy.scan` is set, `down` when clamd does not answer PING. */
describe('ValiBlobHealthIndicator.checkScanner', () => {
  let moduleRef: TestingModule | undefined;
  let clamd: FakeClamd | undefined;

  async function boot(options: ValiBlobModuleOptions): Promise<ValiBlobHealthIndicator> {
    moduleRef = await Test.createTestingModule({
      imports: [
        TerminusModule.forRoot({ logger: false }),
        ValiBlobModule.forRoot({
          providers: { mem: { type: 'memory' } },
          http: { tus: false, rest: false },
          ...options,
        }),
      ],
      providers: [ValiBlobHealthIndicator],
    }).compile();
    await moduleRef.init();
    return moduleRef.get(ValiBlobHealthIndicator);
  }

  afterEach(async () => {
    await moduleRef?.close();
    await clamd?.close();
    moduleRef = clamd = undefined;
  });

  it('is up with clamd answering, down (with a code, no address) once it is gone; checkAll includes it', async () => {
    clamd = await startFakeClamd();
    const address = clamd.address as { host: string; port: number };
    const indicator = await boot({ policy: { scan: { scanner: new ClamAvScanner({ ...address, timeoutMs: 500 }) } } });
    expect(indicator.checkAll()).toHaveLength(4);
    expect(await indicator.checkScanner('scanner')).toEqual({ scanner: { status: 'up', configured: true } });
    await clamd.close();
    const down = await indicator.checkScanner('scanner', { timeoutMs: 500 });
    expect(down.scanner.status).toBe('down');
    expect(JSON.stringify(down)).not.toContain(String(address.port));
  });

  it('without a scanner: up, not configured, and not part of checkAll', async () => {
    const indicator = await boot({});
    expect(indicator.checkAll()).toHaveLength(3);
    expect(await indicator.checkScanner('scanner')).toEqual({ scanner: { status: 'up', configured: false } });
  });
});
