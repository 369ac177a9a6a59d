// Structured JSON lines on the console: what Workers Logs, Deno and Node collectors all ingest.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  log(level: LogLevel, message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /**
   * A logger whose every line also carries `fields`: a request's, so whatever is logged while
   * serving it names its request and trace. A line's own fields win over them.
   */
  child(fields: LogFields): Logger;
}

export function createLogger(
  minimum: LogLevel,
  write: (line: string) => void = (line) => console.log(line),
): Logger {
  return boundLogger(minimum, write, {});
}

function boundLogger(minimum: LogLevel, write: (line: string) => void, bound: LogFields): Logger {
  const log = (level: LogLevel, message: string, fields: LogFields = {}) => {
    if (rank[level] < rank[minimum]) return;
    write(
      JSON.stringify({ level, msg: message, time: new Date().toISOString(), ...bound, ...fields }),
    );
  };
  return {
    log,
    debug: (message, fields) => log('debug', message, fields),
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields),
    child: (fields) => boundLogger(minimum, write, { ...bound, ...fields }),
  };
}
