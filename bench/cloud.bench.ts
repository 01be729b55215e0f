import { Benchmark, BenchResult } from './support/bench-result';
import { runAzurePair } from './support/cloud-azure';
import { runS3 } from './support/cloud-s3';
import { GiB, MiB, QUICK } from './support/processes';

/**
 * Benchmark: ValiBlob's cloud providers against the @tus/server stores for the same cloud, in the same run.
 * Azure: ValiBlob's Azure provider vs @tus/azure-store on Azurite. S3: ValiBlob's S3 provider vs @tus/s3-store on
 * the S3 implementation named by `S3_ENDPOINT`, or ValiBlob alone on s3rver. 1 GiB each (quick: 64 MiB) in 8 MiB
 * tus PATCHes: MiB/s, server CPU seconds per GiB, RSS, S3 requests per GiB by kind, stored bytes checked.
 */
export const cloudBenchmark: Benchmark = {
  name: 'cloud',
  title: 'Cloud providers: ValiBlob vs the @tus/server stores (Azure, S3)',
  async run(): Promise<BenchResult> {
    const size = QUICK ? 64 * MiB : GiB;
    const azure = await runAzurePair(size);
    const s3 = await runS3(size);
    return {
      name: 'cloud',
      title: this.title,
      rows: [...azure.rows, ...s3.rows],
      notes: [
        ...azure.notes,
        ...s3.notes,
        'Server CPU = utime + stime from /proc/<pid>/stat during the measured upload, per GiB; RSS from ' +
          '/proc/<pid>/status every 50 ms, growth = peak − RSS after a 16 MiB warm-up upload. ValiBlob records ' +
          'the whole-file sha256 (its default; the targets use it); the @tus stores do not hash, hence the Azure ' +
          'context row without it (WHOLE_FILE_CHECKSUM=false → wholeFileChecksum: false).',
      ],
    };
  },
};
