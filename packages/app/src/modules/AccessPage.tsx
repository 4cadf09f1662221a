import {
  Content,
  InfoCard,
  Progress,
  ResponseErrorPanel,
  StructuredMetadataTable,
  WarningPanel,
} from '@backstage/core-components';
import {
  discoveryApiRef,
  fetchApiRef,
  useApi,
} from '@backstage/frontend-plugin-api';
import Button from '@material-ui/core/Button';
import Chip from '@material-ui/core/Chip';
import Grid from '@material-ui/core/Grid';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { FormEvent, useCallback, useEffect, useState } from 'react';

/** One role as `GET /api/entra-rbac/roles` returns it. */
interface RoleView {
  name: string;
  description?: string;
  source: string;
  rules: string[];
  members: { label: string; users?: string[]; note?: string }[];
}

interface RolesResponse {
  status: {
    origin: string;
    loadedAt: string;
    roles: number;
    lastReloadError?: { message: string; at: string };
  };
  roles: RoleView[];
}

/** What `POST /api/entra-rbac/explain` answers. */
interface Explanation {
  user: string;
  permission: { name: string; resourceType?: string; action?: string };
  resourceRef?: string;
  result: 'ALLOW' | 'DENY' | 'CONDITIONAL';
  policyResult: string;
  reason: string;
  heldRoles: { role: string; heldThrough: string }[];
  identity: {
    groupRefs: string[];
    appRoles: string[];
    appRolesSource: string;
  };
}

const RESULT_TEXT: Record<Explanation['result'], string> = {
  ALLOW: 'Allowed',
  DENY: 'Denied',
  CONDITIONAL: 'Allowed for some resources (conditional)',
};

/** An HTTP error with its status, so the page can tell "not an admin" from a failure. */
class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function useEntraRbacApi() {
  const discovery = useApi(discoveryApiRef);
  const { fetch } = useApi(fetchApiRef);
  return useCallback(
    async <T,>(path: string, init?: RequestInit): Promise<T> => {
      const base = await discovery.getBaseUrl('entra-rbac');
      const res = await fetch(`${base}${path}`, init);
      if (!res.ok) {
        let message = `${res.status} ${res.statusText}`;
        try {
          const body = await res.json();
          if (body?.error?.message)
            message = `${res.status}: ${body.error.message}`;
        } catch {
          // not JSON: keep the status line
        }
        throw new HttpError(res.status, message);
      }
      return (await res.json()) as T;
    },
    [discovery, fetch],
  );
}

function RoleCard({ role }: { role: RoleView }) {
  return (
    <InfoCard
      title={`Role ${role.name}`}
      subheader={`${role.description ?? ''}${role.description ? ' · ' : ''}${
        role.source === 'default' ? 'built in' : `from ${role.source}`
      }`}
    >
      <Typography variant="subtitle2">Rules</Typography>
      <ul>
        {role.rules.map(r => (
          <li key={r}>
            <Typography variant="body2">{r}</Typography>
          </li>
        ))}
      </ul>
      <Typography variant="subtitle2">Members</Typography>
      {role.members.length === 0 && (
        <Typography variant="body2">Nobody.</Typography>
      )}
      <ul>
        {role.members.map(m => (
          <li key={m.label}>
            <Typography variant="body2">
              {m.label}
              {m.note ? ` (${m.note})` : ''}
            </Typography>
            {m.users && (
              <div>
                {m.users.length === 0 && (
                  <Typography variant="caption">no users</Typography>
                )}
                {m.users.map(u => (
                  <Chip key={u} size="small" label={u} />
                ))}
              </div>
            )}
          </li>
        ))}
      </ul>
    </InfoCard>
  );
}

function CheckAccess() {
  const api = useEntraRbacApi();
  const [user, setUser] = useState('');
  const [permission, setPermission] = useState('catalog.entity.delete');
  const [resourceRef, setResourceRef] = useState('');
  const [answer, setAnswer] = useState<Explanation>();
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      setAnswer(
        await api<Explanation>('/explain', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            user,
            permission,
            ...(resourceRef ? { resourceRef } : {}),
          }),
        }),
      );
    } catch (err) {
      setAnswer(undefined);
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <InfoCard title="Check access">
      <form onSubmit={submit} aria-label="Check access">
        <Grid container spacing={2}>
          <Grid item xs={12} md={4}>
            <TextField
              id="access-check-user"
              label="User"
              placeholder="user:default/lee.gu"
              value={user}
              onChange={e => setUser(e.target.value)}
              required
              fullWidth
            />
          </Grid>
          <Grid item xs={12} md={4}>
            <TextField
              id="access-check-permission"
              label="Permission"
              value={permission}
              onChange={e => setPermission(e.target.value)}
              required
              fullWidth
            />
          </Grid>
          <Grid item xs={12} md={4}>
            <TextField
              id="access-check-resource"
              label="Resource (optional)"
              placeholder="component:default/payments-ledger"
              value={resourceRef}
              onChange={e => setResourceRef(e.target.value)}
              fullWidth
            />
          </Grid>
          <Grid item xs={12}>
            <Button
              type="submit"
              variant="contained"
              color="primary"
              disabled={busy}
            >
              Check access
            </Button>
          </Grid>
        </Grid>
      </form>
      {error && (
        <WarningPanel
          severity="error"
          title="Could not check"
          message={error.message}
        />
      )}
      {answer && (
        <section aria-label="Decision">
          <Typography variant="h6">{RESULT_TEXT[answer.result]}</Typography>
          <Typography>{answer.reason}</Typography>
          <StructuredMetadataTable
            metadata={{
              User: answer.user,
              Permission: answer.permission.name,
              ...(answer.resourceRef ? { Resource: answer.resourceRef } : {}),
              'Roles held':
                answer.heldRoles
                  .map(r => `${r.role} (through ${r.heldThrough})`)
                  .join('; ') || 'none',
              'Groups (through nesting)':
                answer.identity.groupRefs.join(', ') || 'none',
              'App roles': `${answer.identity.appRoles.join(', ') || 'none'} (${
                answer.identity.appRolesSource
              })`,
            }}
          />
        </section>
      )}
    </InfoCard>
  );
}

/** The Entra RBAC policy: roles, their members, and "check access". Admins only. */
export function AccessPage() {
  const api = useEntraRbacApi();
  const [data, setData] = useState<RolesResponse>();
  const [error, setError] = useState<Error>();

  useEffect(() => {
    api<RolesResponse>('/roles')
      .then(setData)
      .catch(e => setError(e as Error));
  }, [api]);

  if (error instanceof HttpError && error.status === 403) {
    return (
      <Content>
        <WarningPanel
          severity="warning"
          title="403: the Access page is for administrators"
          message={error.message}
        />
      </Content>
    );
  }
  return (
    <Content>
      {error && <ResponseErrorPanel error={error} />}
      {!data && !error && <Progress />}
      {data && (
        <Grid container spacing={3}>
          <Grid item xs={12}>
            <Typography variant="body2">
              Policy from {data.status.origin}, loaded{' '}
              {new Date(data.status.loadedAt).toLocaleString()}.
            </Typography>
            {data.status.lastReloadError && (
              <WarningPanel
                severity="error"
                title="The last change was refused; the policy above stays in force"
                message={data.status.lastReloadError.message}
              />
            )}
          </Grid>
          <Grid item xs={12}>
            <CheckAccess />
          </Grid>
          {data.roles.map(role => (
            <Grid item xs={12} md={6} key={role.name}>
              <section aria-label={`Role ${role.name}`}>
                <RoleCard role={role} />
              </section>
            </Grid>
          ))}
        </Grid>
      )}
    </Content>
  );
}
