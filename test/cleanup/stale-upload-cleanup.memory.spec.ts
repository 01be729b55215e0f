import { MemorySessionStore } from '../../src';
import { describeSweep } from './sweep.cases';

describeSweep('the memory store', async () => ({ store: new MemorySessionStore(), close: async () => undefined }));
