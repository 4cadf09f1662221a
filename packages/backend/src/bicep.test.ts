import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Plain JavaScript, so that it also runs as `node scripts/check-bicep.js` without a build.
// eslint-disable-next-line @backstage/no-relative-monorepo-imports
const { checkBicep } = require('../../../scripts/check-bicep.js');

const root = path.resolve(__dirname, '../../..');
const source = path.join(root, 'deploy/azure');

/**
 * No Bicep compiler can be installed here (see scripts/check-bicep.js), so deploy/azure is
 * checked by reading it: it must pass, and each rule must catch the mistake it is for.
 */
describe('the Azure deployment (deploy/azure)', () => {
  it('passes every check', () => {
    expect(checkBicep(root)).toEqual([]);
  });

  describe('catches', () => {
    let dir: string;

    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-bicep-'));
      fs.cpSync(source, dir, { recursive: true });
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** Edits one file of the copy and returns what the check says about it. */
    const edit = (file: string, from: string | RegExp, to: string) => {
      const full = path.join(dir, file);
      const text = fs.readFileSync(full, 'utf8');
      const changed = text.replace(from, to);
      expect(changed).not.toBe(text);
      fs.writeFileSync(full, changed);
      return checkBicep(root, dir).join('\n');
    };

    it('a copy left as it is: nothing', () => {
      expect(checkBicep(root, dir)).toEqual([]);
    });

    it('an unclosed bracket or string', () => {
      expect(
        edit('main.bicep', "name: 'identity'\n", "name: 'identity\n"),
      ).toMatch(/main\.bicep:\d+: string not closed/);
    });

    it('a parameter nobody uses, or a secret that is not @secure()', () => {
      expect(
        edit(
          'main.bicep',
          'targetScope',
          "@description('x')\nparam unused string\n\ntargetScope",
        ),
      ).toMatch(/parameter unused is never used/);
      expect(
        edit(
          'modules/keyvault.bicep',
          '@secure()\nparam authStateSecret',
          'param authStateSecret',
        ),
      ).toMatch(/authStateSecret looks secret but is not @secure\(\)/);
    });

    it('a module call that misses a parameter or passes an unknown one', () => {
      expect(edit('main.bicep', 'pullPrincipalId:', 'pullPrincipal:')).toMatch(
        /passes pullPrincipal, which modules\/registry\.bicep does not declare[\s\S]*does not pass pullPrincipalId/,
      );
    });

    it('a name longer than the resource allows, or with characters it refuses', () => {
      expect(
        edit(
          'main.bicep',
          "'kv-${take(compactName, 12)}-${token}'",
          "'kv-gatehouse-${compactName}-${token}'",
        ),
      ).toMatch(
        /keyVault\.name can be 38 characters, modules\/keyvault\.bicep allows 24/,
      );
      expect(edit('main.bicep', "'crgatehouse${", "'cr-gatehouse${")).toMatch(
        /registry name 'cr-gatehouse' has characters other than a-z0-9/,
      );
    });

    it('a malformed resource type or apiVersion, and a missing output', () => {
      expect(
        edit(
          'modules/identity.bicep',
          'userAssignedIdentities@2023-01-31',
          'userAssignedIdentities@2023-1-31',
        ),
      ).toMatch(
        /resource type 'Microsoft\.ManagedIdentity\/userAssignedIdentities@2023-1-31' is not/,
      );
      expect(
        edit('modules/identity.bicep', /\noutput clientId[^\n]*/, ''),
      ).toMatch(
        /identity\.outputs\.clientId is not an output of modules\/identity\.bicep/,
      );
    });

    it('a secret handed to the container as a plain value, or an unknown secretRef', () => {
      expect(
        edit(
          'modules/containerapp.bicep',
          "name: 'AZURE_CLIENT_SECRET'\n    secretRef: 'azure-client-secret'",
          "name: 'AZURE_CLIENT_SECRET'\n    value: 'x'",
        ),
      ).toMatch(
        /AZURE_CLIENT_SECRET is a plain value; secrets come through secretRef/,
      );
      expect(
        edit(
          'modules/containerapp.bicep',
          "secretRef: 'auth-state-secret'",
          "secretRef: 'auth-state'",
        ),
      ).toMatch(
        /AUTH_STATE_SECRET refers to secret 'auth-state', which the app does not declare/,
      );
    });

    it('an environment variable the config reads but the container does not get', () => {
      expect(
        edit(
          'modules/containerapp.bicep',
          "name: 'POSTGRES_HOST'",
          "name: 'POSTGRES_HOSTNAME'",
        ),
      ).toMatch(
        /app-config\.production\.yaml reads \$\{POSTGRES_HOST\}, which the container app does not set[\s\S]*gets POSTGRES_HOSTNAME, which no config file or source reads/,
      );
    });

    it('a probe on the wrong endpoint, or no scaling rule', () => {
      expect(
        edit(
          'modules/containerapp.bicep',
          "path: '/.backstage/health/v1/readiness'",
          "path: '/healthz'",
        ),
      ).toMatch(/the Readiness probe checks \/healthz/);
      expect(
        edit(
          'modules/containerapp.bicep',
          /\n\s*http: \{\n\s*metadata: \{/,
          '\n            custom: {\n              metadata: {',
        ),
      ).toMatch(/no HTTP scaling rule/);
    });

    it('a secure parameter in main.parameters.json', () => {
      expect(
        edit(
          'main.parameters.json',
          '"azureClientId": {',
          '"azureClientSecret": { "value": "x" },\n    "azureClientId": {',
        ),
      ).toMatch(
        /main\.parameters\.json holds the secure parameter azureClientSecret/,
      );
    });
  });
});
