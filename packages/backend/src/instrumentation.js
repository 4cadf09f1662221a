/*
 * OpenTelemetry for the Gatehouse backend: traces (every inbound and outbound HTTP request,
 * Graph and Entra ID calls included) and metrics (the org sync and sign-in figures that our
 * modules record with @opentelemetry/api, see their metrics.ts).
 *
 * Load it before the backend, so that the HTTP instrumentation sees the modules load:
 *
 *   node --require ./packages/backend/src/instrumentation.js packages/backend ...
 *
 * (the container image does it through NODE_OPTIONS). Where the data goes:
 *
 * - APPLICATIONINSIGHTS_CONNECTION_STRING set: Azure Monitor (Application Insights);
 * - otherwise OTEL_EXPORTER_OTLP_ENDPOINT (or the _TRACES_/_METRICS_ variants) set: OTLP over
 *   HTTP, e.g. to an OpenTelemetry Collector;
 * - neither, or OTEL_SDK_DISABLED=true: nothing is started and nothing is exported.
 *
 * Plain JavaScript, not TypeScript, because it runs before anything could compile it.
 */
'use strict';

/** Where telemetry goes for this environment: 'azure-monitor', 'otlp' or undefined. */
function telemetryTarget(env) {
  if (String(env.OTEL_SDK_DISABLED).toLowerCase() === 'true') return undefined;
  if (env.APPLICATIONINSIGHTS_CONNECTION_STRING) return 'azure-monitor';
  if (
    env.OTEL_EXPORTER_OTLP_ENDPOINT ||
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
    env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT
  ) {
    return 'otlp';
  }
  return undefined;
}

function otlpUrl(env, signal) {
  const specific = env[`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`];
  if (specific) return specific;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  return base ? `${base.replace(/\/+$/, '')}/v1/${signal}` : undefined;
}

function exportersFor(target, env) {
  if (target === 'azure-monitor') {
    const {
      AzureMonitorTraceExporter,
      AzureMonitorMetricExporter,
    } = require('@azure/monitor-opentelemetry-exporter');
    const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING;
    return {
      traceExporter: new AzureMonitorTraceExporter({ connectionString }),
      metricExporter: new AzureMonitorMetricExporter({ connectionString }),
    };
  }
  const {
    OTLPTraceExporter,
  } = require('@opentelemetry/exporter-trace-otlp-http');
  const {
    OTLPMetricExporter,
  } = require('@opentelemetry/exporter-metrics-otlp-http');
  const traces = otlpUrl(env, 'traces');
  const metricsUrl = otlpUrl(env, 'metrics');
  return {
    traceExporter: traces ? new OTLPTraceExporter({ url: traces }) : undefined,
    metricExporter: metricsUrl
      ? new OTLPMetricExporter({ url: metricsUrl })
      : undefined,
  };
}

/**
 * Starts the OpenTelemetry SDK for `env` and returns it (call `shutdown()` to flush), or
 * returns undefined when no exporter is configured.
 */
function startTelemetry(env = process.env) {
  const target = telemetryTarget(env);
  if (!target) return undefined;
  const { NodeSDK } = require('@opentelemetry/sdk-node');
  const {
    PeriodicExportingMetricReader,
  } = require('@opentelemetry/sdk-metrics');
  const {
    HttpInstrumentation,
  } = require('@opentelemetry/instrumentation-http');
  const { traceExporter, metricExporter } = exportersFor(target, env);
  const interval = Number(env.OTEL_METRIC_EXPORT_INTERVAL) || 60_000;
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME || 'gatehouse',
    traceExporter,
    metricReaders: metricExporter
      ? [
          new PeriodicExportingMetricReader({
            exporter: metricExporter,
            exportIntervalMillis: interval,
          }),
        ]
      : [],
    // Logs stay on stdout as JSON (the container platform collects them); no OTLP logs.
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        // Probes every few seconds would drown the traces that matter.
        ignoreIncomingRequestHook: req =>
          (req.url || '').startsWith('/.backstage/health/'),
      }),
    ],
  });
  sdk.start();
  return { sdk, target };
}

module.exports = { startTelemetry, telemetryTarget };

// Loaded with --require: start for this process's environment.
if (module.parent?.id === 'internal/preload' || require.main === module) {
  const started = startTelemetry(process.env);
  if (started) {
    // Flush what is buffered when the platform stops the replica; the backend's own SIGTERM
    // handler drains requests and exits in parallel.
    process.once('SIGTERM', () => {
      // Before the backend has its own handler, this one must not keep the process alive.
      const others = process.listenerCount('SIGTERM');
      // The exporters wait on unref'd timers; hold the process up to 10 s for the flush.
      const hold = setTimeout(() => {}, 10_000);
      started.sdk
        .shutdown()
        .catch(() => {})
        .finally(() => {
          clearTimeout(hold);
          if (others === 0) process.exit(143);
        });
    });
  }
}
