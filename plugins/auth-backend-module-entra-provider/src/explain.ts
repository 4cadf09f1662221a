import { LoggerService } from '@backstage/backend-plugin-api';
import { randomUUID } from 'node:crypto';

/**
 * Gives a sign-in failure a correlation id (Entra's, when its error carries one), logs the
 * same text the person sees, and returns the error with the id in its message, so an admin can
 * find the log line from what a person reports.
 */
export function explainFailure(
  error: unknown,
  logger: LoggerService,
  what: string,
): Error {
  const e = error instanceof Error ? error : new Error(String(error));
  const fromEntra = /Correlation ID: ([0-9a-f-]{36})/i.exec(e.message)?.[1];
  const id = fromEntra ?? randomUUID();
  if (!fromEntra) e.message = `${e.message} (correlation id ${id})`;
  logger.warn(`${what} failed, correlation id ${id}: ${e.message}`);
  return e;
}

/** Wraps an async function so that its failures are explained (see explainFailure). */
export function explained<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
  logger: LoggerService,
  what: string,
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (e) {
      throw explainFailure(e, logger, what);
    }
  };
}
