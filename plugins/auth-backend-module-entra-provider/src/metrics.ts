import { Counter, Meter, metrics } from '@opentelemetry/api';

/** The meter's name: the package that records the figures. */
export const SIGN_IN_METER =
  '@gatehouse/plugin-auth-backend-module-entra-provider';

let instruments: { meter: Meter; signIns: Counter } | undefined;

/** See the org sync's metrics.ts: the meter is looked up again once OpenTelemetry starts. */
function signIns(): Counter {
  const meter = metrics.getMeter(SIGN_IN_METER);
  if (instruments?.meter !== meter) {
    instruments = {
      meter,
      signIns: meter.createCounter('gatehouse.sign_in.attempts', {
        description:
          'Microsoft sign-ins by outcome (success, failure) and failure code (an AADSTS code, an ID token check, or the resolver refusal)',
        unit: '{sign_in}',
      }),
    };
  }
  return instruments.signIns;
}

/** A stable, low-cardinality code for a failure: AADSTS number, our error code, or its name. */
export function failureCode(error: unknown): string {
  const e = error as { code?: unknown; aadsts?: unknown; name?: unknown };
  if (typeof e?.aadsts === 'number') return `AADSTS${e.aadsts}`;
  if (typeof e?.code === 'string' && /^[A-Z0-9_]{2,64}$/i.test(e.code)) {
    return e.code;
  }
  return typeof e?.name === 'string' ? e.name : 'Error';
}

/**
 * Wraps a step of the sign-in so that its outcome is counted: `countSuccess` for the step that
 * completes a sign-in (the resolver), failures always, with their code.
 */
export function countSignIns<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
  options: { countSuccess: boolean },
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      const result = await fn(...args);
      if (options.countSuccess) signIns().add(1, { outcome: 'success' });
      return result;
    } catch (e) {
      signIns().add(1, { outcome: 'failure', code: failureCode(e) });
      throw e;
    }
  };
}
