// Gatehouse on Azure: Container Apps, a user-assigned managed identity, Key Vault, Postgres
// Flexible Server, Log Analytics + Application Insights and a container registry.
// Entry point: deploy/azure/deploy.sh (docs/runbook-azure.md). Checked in CI by
// scripts/check-bicep.js (no Bicep compiler can be installed where CI runs).

targetScope = 'resourceGroup'

@description('Short name of this deployment (e.g. prod, staging): lowercase letters, digits and hyphens.')
@minLength(2)
@maxLength(16)
param environmentName string

@description('Azure region of every resource.')
param location string = resourceGroup().location

@description('Entra tenant id of the app registration (defaults to the subscription\'s tenant).')
param azureTenantId string = subscription().tenantId

@description('Application (client) id of the Entra app registration.')
param azureClientId string

@description('Client secret of the app registration; stored in Key Vault only.')
@secure()
param azureClientSecret string

@description('Secret that signs the sign-in state, the same on every replica; stored in Key Vault only.')
@secure()
param authStateSecret string

@description('How the portal signs in to Postgres: \'entra\' (managed identity token, no password) or \'password\'.')
@allowed([
  'entra'
  'password'
])
param postgresAuth string = 'entra'

@description('Postgres administrator password; needed with postgresAuth \'password\' only.')
@secure()
param postgresAdminPassword string = ''

@description('The image to run (registry/gatehouse:tag); empty to create the infrastructure only.')
param containerImage string = ''

@description('Public URL of the portal when a custom domain is bound; empty for the default domain.')
param publicBaseUrl string = ''

@description('Object id of the user or group that may set and rotate Key Vault secrets; empty for none.')
param secretsOfficerPrincipalId string = ''

@minValue(0)
@maxValue(30)
@description('Replicas kept running.')
param minReplicas int = 2

@minValue(1)
@maxValue(30)
@description('Most replicas the HTTP scaling rule adds.')
param maxReplicas int = 5

@description('Tags for every resource.')
param tags object = {
  application: 'gatehouse'
  environment: environmentName
}

// Globally unique names (registry, vault, server) take a stable suffix from this scope.
var token = take(uniqueString(subscription().id, resourceGroup().id, environmentName), 8)
var compactName = toLower(replace(environmentName, '-', ''))

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    location: location
    name: 'id-gatehouse-${environmentName}'
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    logAnalyticsName: 'log-gatehouse-${environmentName}'
    appInsightsName: 'appi-gatehouse-${environmentName}'
    tags: tags
  }
}

module registry 'modules/registry.bicep' = {
  name: 'registry'
  params: {
    location: location
    name: 'crgatehouse${compactName}${token}'
    pullPrincipalId: identity.outputs.principalId
    tags: tags
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    location: location
    name: 'kv-${take(compactName, 12)}-${token}'
    readerPrincipalId: identity.outputs.principalId
    officerPrincipalId: secretsOfficerPrincipalId
    azureClientSecret: azureClientSecret
    authStateSecret: authStateSecret
    postgresPassword: postgresAuth == 'password' ? postgresAdminPassword : ''
    appInsightsName: monitoring.outputs.appInsightsName
    tags: tags
  }
}

module postgres 'modules/postgres.bicep' = {
  name: 'postgres'
  params: {
    location: location
    name: 'psql-gatehouse-${environmentName}-${token}'
    postgresAuth: postgresAuth
    administratorPassword: postgresAdminPassword
    identityName: identity.outputs.name
    identityPrincipalId: identity.outputs.principalId
    tags: tags
  }
}

module app 'modules/containerapp.bicep' = if (!empty(containerImage)) {
  name: 'containerapp'
  dependsOn: [
    // Key Vault references and the AcrPull role must resolve when the first revision starts.
    keyVault
    registry
  ]
  params: {
    location: location
    environmentName: 'cae-gatehouse-${environmentName}'
    name: 'ca-gatehouse-${environmentName}'
    logAnalyticsName: monitoring.outputs.logAnalyticsName
    containerImage: containerImage
    registryServer: registry.outputs.loginServer
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    keyVaultUri: keyVault.outputs.uri
    secretNames: {
      clientSecret: keyVault.outputs.clientSecretName
      stateSecret: keyVault.outputs.stateSecretName
      telemetry: keyVault.outputs.telemetrySecretName
      postgresPassword: keyVault.outputs.postgresPasswordName
    }
    publicBaseUrl: publicBaseUrl
    azureTenantId: azureTenantId
    azureClientId: azureClientId
    postgresHost: postgres.outputs.host
    postgresUser: postgres.outputs.user
    postgresAuth: postgresAuth
    minReplicas: minReplicas
    maxReplicas: maxReplicas
    tags: tags
  }
}

output registryName string = registry.outputs.name
output registryLoginServer string = registry.outputs.loginServer
output keyVaultName string = keyVault.outputs.name
output postgresServer string = postgres.outputs.name
output logAnalyticsWorkspace string = monitoring.outputs.logAnalyticsName
output identityClientId string = identity.outputs.clientId
output containerAppName string = empty(containerImage) ? '' : app.outputs.name
output portalUrl string = empty(containerImage) ? '' : app.outputs.baseUrl
// Register this exact URI as a Web redirect URI of the app registration.
output redirectUri string = empty(containerImage) ? '' : app.outputs.redirectUri
