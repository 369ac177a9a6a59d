// Full garbage collections before memory is read, where the process lets us, and what the heap
// holds after them: RSS also counts heap space V8 keeps for later, which a collection rarely hands
// back, and native memory, so the live heap and the heap's size tell retained objects from room
// kept. workerd's isolates are collected
// through V8's inspector (HeapProfiler.collectGarbage, then Runtime.getHeapUsage); the stack's
// Node process by a signal its preloaded handler answers (collect-garbage-on-signal.ts), writing
// its memoryUsage() to a file in the stack's folder.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** Node flags for the stack's process: gc() exposed, and SIGUSR2 calling it. */
export const collectableNodeArgs = [
  '--expose-gc',
  '--import',
  fileURLToPath(new URL('./collect-garbage-on-signal.ts', import.meta.url)),
];

/** Where the handler writes, in the stack's folder (LOCAL_STACK_DIR); the same name there. */
export const heapReportFile = 'heap-after-collection.json';

const reportTimeoutMs = 30_000;
const pollEveryMs = 200;

/** A V8 heap after a collection, in bytes: what it still uses, and its size. */
export interface Heap {
  used: number;
  total: number;
}

/** Collects the garbage of the stack's process (`stackDir` its LOCAL_STACK_DIR). */
export async function collectStackGarbage(pid: number, stackDir: string): Promise<Heap> {
  const file = join(stackDir, heapReportFile);
  await rm(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let waited = 0; waited < reportTimeoutMs; waited += pollEveryMs) {
    await sleep(pollEveryMs);
    const written = await readFile(file, 'utf8').catch(() => undefined);
    if (written === undefined) continue;
    const { heapUsed, heapTotal } = JSON.parse(written) as NodeJS.MemoryUsage;
    return { used: heapUsed, total: heapTotal };
  }
  throw new Error(`the stack's process wrote no ${heapReportFile} in 30 s`);
}

const inspectorTimeoutMs = 30_000;
const pokeEveryMs = 200;

interface InspectorReply {
  id?: number;
  result?: { usedSize?: number; totalSize?: number };
}

/**
 * Collects one isolate's garbage. workerd runs an isolate's inspector commands when the isolate
 * next runs: `poke` sends it a request, again and again until the collection is done.
 */
async function collectOne(debuggerUrl: string, poke: () => Promise<void>): Promise<Heap> {
  const socket = new WebSocket(debuggerUrl);
  let done = false;
  try {
    return await new Promise<Heap>((resolve, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`${debuggerUrl}: no garbage collection in 30 s`)),
        inspectorTimeoutMs,
      );
      socket.addEventListener('open', async () => {
        socket.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
        while (!done) {
          await poke().catch(fail);
          await sleep(pokeEveryMs);
        }
      });
      socket.addEventListener('message', (event) => {
        const reply = JSON.parse(String(event.data)) as InspectorReply;
        if (reply.id === 1) socket.send(JSON.stringify({ id: 2, method: 'Runtime.getHeapUsage' }));
        if (reply.id !== 2) return;
        done = true;
        clearTimeout(timer);
        resolve({ used: reply.result?.usedSize ?? 0, total: reply.result?.totalSize ?? 0 });
      });
      socket.addEventListener('error', () => fail(new Error(`${debuggerUrl}: inspector error`)));
    });
  } finally {
    done = true;
    socket.close();
  }
}

/**
 * Collects the garbage of the isolates that serve requests, Miniflare's entry and the Worker's
 * (the inspector at `inspector` lists them as core:*); `poke` sends the Worker a request.
 * Answers their heaps together.
 */
export async function collectWorkerdGarbage(
  inspector: URL,
  poke: () => Promise<void>,
): Promise<Heap> {
  const list = new URL('/json', inspector);
  list.protocol = 'http:';
  const targets = (await (await fetch(list)).json()) as {
    id: string;
    webSocketDebuggerUrl: string;
  }[];
  const heaps: Heap = { used: 0, total: 0 };
  for (const { id, webSocketDebuggerUrl } of targets) {
    if (!id.startsWith('core:')) continue;
    const { used, total } = await collectOne(webSocketDebuggerUrl, poke);
    heaps.used += used;
    heaps.total += total;
  }
  return heaps;
}
