// Azure Database for PostgreSQL Flexible Server. Entra authentication is always on, with the
// portal's managed identity as an Entra administrator (it creates Backstage's per-plugin
// databases); password authentication is on only with postgresAuth 'password'.

@description('Azure region.')
param location string

@description('Server name: 3-63 lowercase letters, digits and hyphens, globally unique.')
@minLength(3)
@maxLength(63)
param name string

@description('How the portal signs in: \'entra\' (managed identity token) or \'password\'.')
@allowed([
  'entra'
  'password'
])
param postgresAuth string

@description('Administrator login for password authentication.')
param administratorLogin string = 'gatehouse'

@description('Administrator password; required with postgresAuth \'password\'.')
@secure()
param administratorPassword string = ''

@description('Name of the managed identity that becomes an Entra administrator.')
param identityName string

@description('Principal (object) id of that identity.')
param identityPrincipalId string

@description('Compute size, e.g. Standard_B1ms (Burstable) or Standard_D2ds_v5 (GeneralPurpose).')
param skuName string = 'Standard_B1ms'

@description('Compute tier matching skuName.')
@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param skuTier string = 'Burstable'

@description('Storage in GiB.')
param storageSizeGB int = 32

@description('Tags for every resource.')
param tags object

var passwordAuth = postgresAuth == 'password'

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2022-12-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuTier
  }
  properties: {
    version: '16'
    administratorLogin: passwordAuth ? administratorLogin : null
    administratorLoginPassword: passwordAuth ? administratorPassword : null
    authConfig: {
      activeDirectoryAuth: 'Enabled'
      passwordAuth: passwordAuth ? 'Enabled' : 'Disabled'
      tenantId: subscription().tenantId
    }
    storage: {
      storageSizeGB: storageSizeGB
    }
    backup: {
      backupRetentionDays: 7
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: 'Disabled'
    }
  }
}

// Container Apps without a virtual network reach the server through Azure's own addresses.
resource allowAzure 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2022-12-01' = {
  parent: server
  name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
}

resource entraAdmin 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2022-12-01' = {
  parent: server
  name: identityPrincipalId
  dependsOn: [
    allowAzure
  ]
  properties: {
    principalType: 'ServicePrincipal'
    principalName: identityName
    tenantId: subscription().tenantId
  }
}

output name string = server.name
output host string = server.properties.fullyQualifiedDomainName
// The role the portal signs in as: the identity's name (Entra) or the administrator login.
output user string = passwordAuth ? administratorLogin : entraAdmin.properties.principalName
