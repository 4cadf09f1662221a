// The portal on Azure Container Apps: external HTTPS ingress, min/max replicas with an HTTP
// scaling rule, liveness/readiness/startup probes on Backstage's health endpoints, the image
// pulled from ACR with the managed identity, and every secret a Key Vault reference.

@description('Azure region.')
param location string

@description('Name of the Container Apps environment.')
param environmentName string

@description('Name of the container app (2-32 lowercase letters, digits and hyphens).')
@minLength(2)
@maxLength(32)
param name string

@description('Log Analytics workspace the environment sends container logs to.')
param logAnalyticsName string

@description('The image, e.g. myregistry.azurecr.io/gatehouse:1.0.0.')
param containerImage string

@description('Login server of the registry the image comes from.')
param registryServer string

@description('Resource id of the user-assigned managed identity.')
param identityId string

@description('Client id of that identity (Postgres Entra auth, Graph with federatedCredential).')
param identityClientId string

@description('Key Vault URI, e.g. https://myvault.vault.azure.net/.')
param keyVaultUri string

@description('Key Vault secret names the container reads.')
param secretNames object

@description('Public URL of the portal; empty for the Container Apps default domain.')
param publicBaseUrl string = ''

@description('Entra tenant id of the app registration.')
param azureTenantId string

@description('Application (client) id of the app registration.')
param azureClientId string

@description('Postgres server host name.')
param postgresHost string

@description('Postgres user: the administrator login, or the identity\'s name with Entra auth.')
param postgresUser string

@description('How the portal signs in to Postgres: \'entra\' or \'password\'.')
@allowed([
  'entra'
  'password'
])
param postgresAuth string

@minValue(0)
@maxValue(30)
@description('Replicas kept running; 2 or more for no downtime during a revision change.')
param minReplicas int = 2

@minValue(1)
@maxValue(30)
@description('Most replicas the HTTP rule scales out to.')
param maxReplicas int = 5

@description('Concurrent HTTP requests per replica before another replica is added.')
param concurrentRequests int = 50

@description('CPU cores per replica.')
param cpu string = '1.0'

@description('Memory per replica.')
param memory string = '2Gi'

@description('Tags for every resource.')
param tags object

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2022-10-01' existing = {
  name: logAnalyticsName
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logAnalytics.properties.customerId
        sharedKey: logAnalytics.listKeys().primarySharedKey
      }
    }
  }
}

var baseUrl = empty(publicBaseUrl) ? 'https://${name}.${environment.properties.defaultDomain}' : publicBaseUrl
var healthPort = 7007
var useEntraDb = postgresAuth == 'entra'

var secretRefs = concat(
  [
    {
      name: 'azure-client-secret'
      keyVaultUrl: '${keyVaultUri}secrets/${secretNames.clientSecret}'
      identity: identityId
    }
    {
      name: 'auth-state-secret'
      keyVaultUrl: '${keyVaultUri}secrets/${secretNames.stateSecret}'
      identity: identityId
    }
    {
      name: 'appinsights-connection-string'
      keyVaultUrl: '${keyVaultUri}secrets/${secretNames.telemetry}'
      identity: identityId
    }
  ],
  useEntraDb
    ? []
    : [
        {
          name: 'postgres-password'
          keyVaultUrl: '${keyVaultUri}secrets/${secretNames.postgresPassword}'
          identity: identityId
        }
      ]
)

var commonEnv = [
  {
    name: 'APP_BASE_URL'
    value: baseUrl
  }
  {
    name: 'AZURE_TENANT_ID'
    value: azureTenantId
  }
  {
    name: 'AZURE_CLIENT_ID'
    value: azureClientId
  }
  {
    name: 'AZURE_CLIENT_SECRET'
    secretRef: 'azure-client-secret'
  }
  {
    name: 'AUTH_STATE_SECRET'
    secretRef: 'auth-state-secret'
  }
  {
    name: 'POSTGRES_HOST'
    value: postgresHost
  }
  {
    name: 'POSTGRES_PORT'
    value: '5432'
  }
  {
    name: 'POSTGRES_USER'
    value: postgresUser
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    secretRef: 'appinsights-connection-string'
  }
  {
    // Shown by /api/diagnostics/checks, to compare with what was deployed.
    name: 'GATEHOUSE_IMAGE'
    value: containerImage
  }
  {
    // Longer than the readiness probe's period: the ingress stops routing before the close.
    name: 'GATEHOUSE_SHUTDOWN_DELAY'
    value: '15s'
  }
]

var dbEnv = useEntraDb
  ? [
      {
        name: 'AZURE_POSTGRES_IDENTITY_CLIENT_ID'
        value: identityClientId
      }
    ]
  : [
      {
        name: 'POSTGRES_PASSWORD'
        secretRef: 'postgres-password'
      }
    ]

var configArgs = concat(
  [
    'packages/backend'
    '--config'
    'app-config.yaml'
    '--config'
    'app-config.production.yaml'
  ],
  useEntraDb
    ? [
        '--config'
        'app-config.production.entra-db.yaml'
      ]
    : []
)

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: name
  location: location
  // azd finds the app to update by this tag (azure.yaml, service "portal").
  tags: union(tags, {
    'azd-service-name': 'portal'
  })
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    managedEnvironmentId: environment.id
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: healthPort
        transport: 'auto'
        allowInsecure: false
      }
      registries: [
        {
          server: registryServer
          identity: identityId
        }
      ]
      secrets: secretRefs
    }
    template: {
      terminationGracePeriodSeconds: 60
      containers: [
        {
          name: 'gatehouse'
          image: containerImage
          command: [
            'node'
          ]
          args: configArgs
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          env: concat(commonEnv, dbEnv)
          probes: [
            {
              type: 'Startup'
              httpGet: {
                path: '/.backstage/health/v1/liveness'
                port: healthPort
              }
              periodSeconds: 5
              failureThreshold: 36
            }
            {
              type: 'Liveness'
              httpGet: {
                path: '/.backstage/health/v1/liveness'
                port: healthPort
              }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: {
                path: '/.backstage/health/v1/readiness'
                port: healthPort
              }
              periodSeconds: 5
              failureThreshold: 2
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'http-requests'
            http: {
              metadata: {
                concurrentRequests: string(concurrentRequests)
              }
            }
          }
        ]
      }
    }
  }
}

output name string = app.name
output baseUrl string = baseUrl
output redirectUri string = '${baseUrl}/api/auth/microsoft/handler/frame'
output latestRevision string = app.properties.latestRevisionName
