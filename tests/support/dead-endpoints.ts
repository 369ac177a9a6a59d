// The two ways a backend fails a client: nothing listens (the connection is refused at once), or
// something listens and never answers (only a timeout ends the request).
import { createServer, type Server, type Socket } from 'node:net';

export interface HangingServer {
  url: string;
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The URL of a port that was free a moment ago: nothing listens there. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  const port = await listen(server);
  await close(server);
  return `http://127.0.0.1:${port}`;
}

/** A server on a free port that accepts connections and never writes a byte. */
export async function startHangingServer(): Promise<HangingServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      // close() waits for open connections, and these would never end by themselves.
      for (const socket of sockets) socket.destroy();
      return close(server);
    },
  };
}
