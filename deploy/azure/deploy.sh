#!/usr/bin/env bash
# Deploys Gatehouse to Azure with the az CLI: infrastructure (main.bicep), the image (built in
# ACR with `az acr build`, so no local Docker is needed), then the container app.
#
#   deploy/azure/deploy.sh up        infrastructure, image and app (the first time and after)
#   deploy/azure/deploy.sh infra     infrastructure only (no container app)
#   deploy/azure/deploy.sh image     build and push the image only; prints its name
#   deploy/azure/deploy.sh app IMG   the container app with an image already in the registry
#   deploy/azure/deploy.sh down      delete the resource group (asks first)
#
# Environment (docs/runbook-azure.md):
#   GATEHOUSE_ENV          required, e.g. prod (2-16 lowercase letters, digits, hyphens)
#   AZURE_LOCATION         required for the first run, e.g. westeurope
#   AZURE_RESOURCE_GROUP   default rg-gatehouse-$GATEHOUSE_ENV
#   AZURE_CLIENT_ID        the app registration's application (client) id
#   AZURE_TENANT_ID        its tenant (default: the signed-in subscription's tenant)
#   AZURE_CLIENT_SECRET    its client secret; goes to Key Vault, not to the container app
#   AUTH_STATE_SECRET      optional; kept from Key Vault when present, generated otherwise
#   POSTGRES_AUTH          entra (default: the managed identity, no password) or password
#   POSTGRES_ADMIN_PASSWORD  with POSTGRES_AUTH=password; kept from Key Vault, or generated
#   IMAGE_TAG              default: the git commit, or a timestamp
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
log() { printf '[deploy] %s\n' "$*" >&2; }
die() { printf '[deploy] error: %s\n' "$*" >&2; exit 1; }

command -v az >/dev/null || die "the Azure CLI (az) is missing: https://learn.microsoft.com/cli/azure/install-azure-cli"
: "${GATEHOUSE_ENV:?set GATEHOUSE_ENV, e.g. prod}"
[[ "$GATEHOUSE_ENV" =~ ^[a-z0-9][a-z0-9-]{1,15}$ ]] || die "GATEHOUSE_ENV must be 2-16 lowercase letters, digits or hyphens"
rg="${AZURE_RESOURCE_GROUP:-rg-gatehouse-$GATEHOUSE_ENV}"
infra_deployment="gatehouse-infra"
app_deployment="gatehouse-app"
postgres_auth="${POSTGRES_AUTH:-entra}"

output() { # output DEPLOYMENT NAME: an output of an earlier deployment, or nothing
  az deployment group show -g "$rg" -n "$1" --query "properties.outputs.$2.value" -o tsv 2>/dev/null || true
}

existing_secret() { # existing_secret NAME: the current value in this deployment's vault, or nothing
  local vault
  vault="$(output "$infra_deployment" keyVaultName)"
  [ -n "$vault" ] || return 0
  az keyvault secret show --vault-name "$vault" -n "$1" --query value -o tsv 2>/dev/null || true
}

# Writes the parameters to a file only this user can read (secrets never go on a command line).
write_parameters() { # write_parameters IMAGE FILE
  local image="$1" file="$2"
  : "${AZURE_CLIENT_ID:?set AZURE_CLIENT_ID (the app registration)}"
  : "${AZURE_CLIENT_SECRET:?set AZURE_CLIENT_SECRET (the app registration client secret)}"
  local tenant="${AZURE_TENANT_ID:-$(az account show --query tenantId -o tsv)}"
  local state="${AUTH_STATE_SECRET:-$(existing_secret auth-state-secret)}"
  [ -n "$state" ] || state="$(openssl rand -base64 48 | tr -d '\n')"
  local db_password="${POSTGRES_ADMIN_PASSWORD:-}"
  if [ "$postgres_auth" = password ] && [ -z "$db_password" ]; then
    db_password="$(existing_secret postgres-password)"
    [ -n "$db_password" ] || db_password="$(openssl rand -base64 32 | tr -d '\n/+=')Aa1!"
  fi
  local officer
  officer="$(az ad signed-in-user show --query id -o tsv 2>/dev/null || true)"
  # The values reach node through its environment only, not its command line.
  (umask 077 && GATEHOUSE_ENV="$GATEHOUSE_ENV" AZURE_CLIENT_ID="$AZURE_CLIENT_ID" \
    AZURE_TENANT_ID="$tenant" P_IMAGE="$image" P_POSTGRES_AUTH="$postgres_auth" \
    P_OFFICER="$officer" P_CLIENT_SECRET="$AZURE_CLIENT_SECRET" P_STATE="$state" \
    P_DB_PASSWORD="$db_password" node - "$here/main.parameters.json" >"$file" <<'NODE'
const fs = require('node:fs');
const env = process.env;
const text = fs
  .readFileSync(process.argv[2], 'utf8')
  .replace(/\$\{(\w+)\}/g, (_, k) => env[k] ?? '');
const p = JSON.parse(text);
const set = (k, v) => (p.parameters[k] = { value: v });
set('containerImage', env.P_IMAGE);
set('postgresAuth', env.P_POSTGRES_AUTH);
set('secretsOfficerPrincipalId', env.P_OFFICER);
set('azureClientSecret', env.P_CLIENT_SECRET);
set('authStateSecret', env.P_STATE);
set('postgresAdminPassword', env.P_DB_PASSWORD);
process.stdout.write(JSON.stringify(p, null, 2));
NODE
  )
}

deploy() { # deploy NAME IMAGE
  local params
  params="$(mktemp)"
  trap 'rm -f "$params"' RETURN
  write_parameters "$2" "$params"
  log "deploying main.bicep to $rg ($1)"
  az deployment group create -g "$rg" -n "$1" \
    --template-file "$here/main.bicep" --parameters "@$params" \
    --query 'properties.outputs' -o json >/dev/null
}

ensure_group() {
  if ! az group show -n "$rg" >/dev/null 2>&1; then
    : "${AZURE_LOCATION:?set AZURE_LOCATION, e.g. westeurope}"
    log "creating resource group $rg in $AZURE_LOCATION"
    az group create -n "$rg" -l "$AZURE_LOCATION" -o none
  fi
}

build_image() {
  local registry tag
  registry="$(output "$infra_deployment" registryName)"
  [ -n "$registry" ] || die "no registry yet: run '$0 infra' first"
  tag="${IMAGE_TAG:-$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || date -u +%Y%m%d%H%M%S)}"
  log "building gatehouse:$tag in $registry (az acr build: the build runs in Azure)"
  az acr build -r "$registry" -t "gatehouse:$tag" -f "$root/Dockerfile" "$root" -o none
  printf '%s\n' "$(output "$infra_deployment" registryLoginServer)/gatehouse:$tag"
}

summary() {
  local url redirect
  url="$(output "$app_deployment" portalUrl)"
  redirect="$(output "$app_deployment" redirectUri)"
  log "portal: $url"
  log "register this Web redirect URI on the app registration (exact match, AADSTS50011 otherwise):"
  printf '%s\n' "$redirect"
}

case "${1:-up}" in
  infra)
    ensure_group
    deploy "$infra_deployment" ""
    ;;
  image)
    build_image
    ;;
  app)
    [ -n "${2:-}" ] || die "usage: $0 app REGISTRY/gatehouse:TAG"
    deploy "$app_deployment" "$2"
    summary
    ;;
  up)
    ensure_group
    deploy "$infra_deployment" ""
    image="$(build_image)"
    deploy "$app_deployment" "$image"
    summary
    ;;
  down)
    read -r -p "Delete resource group $rg and everything in it? Type its name: " answer
    [ "$answer" = "$rg" ] || die "not confirmed"
    az group delete -n "$rg" --yes
    log "deleted. Key Vault keeps the vault soft-deleted for 30 days (purge protection): before deploying the same environment again, 'az keyvault recover' it (docs/runbook-azure.md)"
    ;;
  *)
    die "usage: $0 [up|infra|image|app IMAGE|down]"
    ;;
esac
