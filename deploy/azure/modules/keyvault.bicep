// Key Vault holding the portal's secrets. The container app reads them through Key Vault
// references with the managed identity (Key Vault Secrets User), so no secret value is part
// of the container app's definition. Rotate: set a new version (docs/runbook-azure.md).

@description('Azure region.')
param location string

@description('Vault name: 3-24 letters, digits and hyphens, globally unique.')
@minLength(3)
@maxLength(24)
param name string

@description('Principal id of the identity that reads the secrets.')
param readerPrincipalId string

@description('Principal id (user or group) that may set and rotate secrets; empty for none.')
param officerPrincipalId string = ''

@description('The Entra app registration\'s client secret (sign-in and org sync).')
@secure()
param azureClientSecret string

@description('Signs the sign-in state; the same value on every replica.')
@secure()
param authStateSecret string

@description('Postgres administrator password; empty when Postgres uses Entra auth only.')
@secure()
param postgresPassword string = ''

@description('Application Insights resource whose connection string is stored as a secret.')
param appInsightsName string

@description('Tags for every resource.')
param tags object

// Built-in roles: Key Vault Secrets User, Key Vault Secrets Officer.
var secretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'
var secretsOfficerRoleId = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 30
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource clientSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'azure-client-secret'
  properties: {
    value: azureClientSecret
    contentType: 'Entra app registration client secret'
  }
}

resource stateSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'auth-state-secret'
  properties: {
    value: authStateSecret
  }
}

resource dbPassword 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(postgresPassword)) {
  parent: vault
  name: 'postgres-password'
  properties: {
    value: postgresPassword
  }
}

resource telemetry 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'appinsights-connection-string'
  properties: {
    value: appInsights.properties.ConnectionString
  }
}

resource readerRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, readerPrincipalId, secretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUserRoleId)
    principalId: readerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource officerRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(officerPrincipalId)) {
  name: guid(vault.id, officerPrincipalId, secretsOfficerRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsOfficerRoleId)
    principalId: officerPrincipalId
  }
}

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
// Secret names (not values) for the container app's Key Vault references.
output clientSecretName string = clientSecret.name
output stateSecretName string = stateSecret.name
output postgresPasswordName string = 'postgres-password'
output telemetrySecretName string = telemetry.name
// The reader role must exist before the container app resolves its references.
output readerRoleId string = readerRole.id
