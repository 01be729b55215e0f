import { MemorySessionStore } from '../../src';
import { describeAdmin } from './admin.cases';

describeAdmin('the memory store', async () => ({ store: new MemorySessionStore(), close: async () => undefined }));
