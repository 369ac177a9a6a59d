// The same contract for the Node entry (src/entries/node.ts on @hono/node-server), run on the Node
// running the tests.
import { describeServedEntry } from './served-entry.ts';

describeServedEntry('Node', { command: process.execPath, args: ['src/entries/node.ts'] });
