// Connections kept open between streams: opening one per HTTP request would cost a file open and
// schema read each time. A connection comes back here only outside any transaction.
import { SqlConnection } from './connection.ts';

export class ConnectionPool {
  readonly #dbFile: string;
  readonly #maxIdle: number;
  readonly #idle: SqlConnection[] = [];
  #closed = false;

  constructor(dbFile: string, maxIdle: number) {
    this.#dbFile = dbFile;
    this.#maxIdle = maxIdle;
  }

  take(): SqlConnection {
    return this.#idle.pop() ?? new SqlConnection(this.#dbFile);
  }

  /** Takes back a connection; one that cannot even roll back is not worth keeping. */
  give(connection: SqlConnection): void {
    try {
      connection.rollbackIfOpen();
    } catch {
      connection.close();
      return;
    }
    if (!this.#closed && this.#idle.length < this.#maxIdle) this.#idle.push(connection);
    else connection.close();
  }

  close(): void {
    this.#closed = true;
    for (const connection of this.#idle.splice(0)) connection.close();
  }
}
