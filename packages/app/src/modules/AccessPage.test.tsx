import { mockApis, renderInTestApp } from '@backstage/frontend-test-utils';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { AccessPage } from './AccessPage';

const roles = {
  status: {
    origin: 'app-config',
    loadedAt: '2026-11-22T06:00:00.000Z',
    roles: 1,
  },
  roles: [
    {
      name: 'admin',
      description: 'Does everything',
      source: 'default',
      rules: ['0: permission *'],
      members: [
        {
          label: 'app role Portal.Admin',
          users: ['user:default/alex.wilber'],
          note: 'assigned in Entra',
        },
      ],
    },
  ],
};

const explanation = {
  user: 'user:default/lidia.holloway',
  permission: { name: 'catalog.entity.delete' },
  resourceRef: 'component:default/payments-ledger',
  result: 'DENY',
  policyResult: 'CONDITIONAL',
  reason:
    'denied for component:default/payments-ledger: role owner, rule 0: the user does not own it',
  heldRoles: [{ role: 'owner', heldThrough: 'every signed-in user' }],
  identity: {
    groupRefs: ['group:default/web'],
    appRoles: [],
    appRolesSource: 'none',
  },
};

const answer = (body: unknown, status = 200) =>
  ({
    ok: status < 400,
    status,
    statusText: String(status),
    json: async () => body,
  } as Response);

describe('AccessPage', () => {
  it('shows the roles and explains a decision', async () => {
    const fetch = jest.fn(async (_url: RequestInfo | URL, init?: RequestInit) =>
      init?.method === 'POST' ? answer(explanation) : answer(roles),
    );
    await renderInTestApp(<AccessPage />, {
      apis: [
        mockApis.discovery({ baseUrl: 'http://backend' }),
        mockApis.fetch({
          baseImplementation: fetch as unknown as typeof globalThis.fetch,
        }),
      ],
    });
    expect(await screen.findByText('Role admin')).toBeInTheDocument();
    expect(screen.getByText('user:default/alex.wilber')).toBeInTheDocument();

    fireEvent.change(screen.getByLabelText(/User/), {
      target: { value: 'user:default/lidia.holloway' },
    });
    fireEvent.change(screen.getByLabelText(/Resource/), {
      target: { value: 'component:default/payments-ledger' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Check access' }));
    expect(await screen.findByText('Denied')).toBeInTheDocument();
    expect(screen.getByText(explanation.reason)).toBeInTheDocument();
    const [url, init] = fetch.mock.calls[1];
    expect(String(url)).toBe('http://backend/api/entra-rbac/explain');
    expect(JSON.parse(String(init?.body))).toEqual({
      user: 'user:default/lidia.holloway',
      permission: 'catalog.entity.delete',
      resourceRef: 'component:default/payments-ledger',
    });
  });

  it('says so when the user is not an admin (403)', async () => {
    const fetch = jest.fn(async () =>
      answer(
        { error: { message: 'The Access page is for administrators' } },
        403,
      ),
    );
    await renderInTestApp(<AccessPage />, {
      apis: [
        mockApis.discovery({ baseUrl: 'http://backend' }),
        mockApis.fetch({
          baseImplementation: fetch as unknown as typeof globalThis.fetch,
        }),
      ],
    });
    await waitFor(() =>
      expect(
        screen.getByText(/403: the Access page is for administrators/),
      ).toBeInTheDocument(),
    );
  });
});
