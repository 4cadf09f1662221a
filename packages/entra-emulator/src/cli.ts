import { parseArgs } from 'node:util';
import { defaultTenantFile } from './paths';
import { startEmulator } from './server';

/** `entra-emulator [--port 7100] [--tenants file.yaml] [--latency ms]` */
export async function runCli(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: {
        type: 'string',
        default: process.env.GATEHOUSE_EMULATOR_PORT ?? '7100',
      },
      host: { type: 'string', default: '127.0.0.1' },
      tenants: {
        type: 'string',
        default: process.env.GATEHOUSE_EMULATOR_TENANTS ?? defaultTenantFile,
      },
      latency: { type: 'string', default: '0' },
      'ado-port': {
        type: 'string',
        default: process.env.GATEHOUSE_EMULATOR_ADO_PORT ?? '7101',
      },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: entra-emulator [--port 7100] [--ado-port 7101] [--host 127.0.0.1] [--tenants tenants.yaml] [--latency ms]\n',
    );
    return;
  }
  const running = await startEmulator({
    port: Number(values.port),
    host: values.host,
    tenantFile: values.tenants,
    adoPort: Number(values['ado-port']),
  });
  running.emulator.faults.configure({ latencyMs: Number(values.latency) });
  for (const t of running.emulator.tenants.values()) {
    process.stdout.write(
      `tenant ${t.displayName} (${t.id}): ${t.userCount} users, ${
        t.listGroups().length
      } groups\n` +
        `  discovery ${running.url}/${t.id}/v2.0/.well-known/openid-configuration\n`,
    );
    for (const a of t.applications) {
      process.stdout.write(`  app ${a.displayName}: client id ${a.appId}\n`);
    }
  }
  process.stdout.write(
    `Entra ID emulator listening on ${running.url} (Graph: ${running.url}/v1.0)\n` +
      `Azure DevOps: ${running.adoUrl}/{organization} (integrations.azure host ${running.adoHost})\n`,
  );
  const stop = () => {
    running.close().finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
