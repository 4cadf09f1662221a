import { mockApis, renderInTestApp } from '@backstage/frontend-test-utils';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { OrgSyncPage } from './OrgSyncPage';

const status = {
  providers: [
    {
      id: 'default',
      running: false,
      lastRound: {
        kind: 'delta',
        startedAt: '2026-11-22T06:00:00.000Z',
        finishedAt: '2026-11-22T06:00:02.500Z',
        durationMs: 2500,
        users: 20,
        groups: 220,
        memberships: 600,
        userEntities: 19,
        groupEntities: 220,
        changedEntities: 3,
        graphRequests: 4,
        resourceUnits: 4,
        throttled: 1,
      },
      nextRoundAt: '2026-11-22T06:30:00.000Z',
      lastError: {
        message: 'Graph answered 503 serviceNotAvailable',
        at: '2026-11-22T06:10:00.000Z',
      },
    },
  ],
};

const answer = (body: unknown, statusCode = 200) =>
  ({
    ok: statusCode < 400,
    status: statusCode,
    statusText: String(statusCode),
    json: async () => body,
  } as Response);

describe('OrgSyncPage', () => {
  it('shows each provider and asks for a round on "Sync now"', async () => {
    const fetch = jest.fn(async (_url: RequestInfo | URL, init?: RequestInit) =>
      init?.method === 'POST' ? answer({}, 202) : answer(status),
    ) as unknown as typeof globalThis.fetch;
    await renderInTestApp(<OrgSyncPage />, {
      apis: [
        mockApis.discovery({ baseUrl: 'http://backend' }),
        mockApis.fetch({ baseImplementation: fetch }),
      ],
    });

    expect(await screen.findByText('Provider default')).toBeInTheDocument();
    expect(
      screen.getByText('20 in Entra, 19 in the catalog'),
    ).toBeInTheDocument();
    expect(screen.getByText('2.5 s')).toBeInTheDocument();
    expect(
      screen.getByText('Graph answered 503 serviceNotAvailable'),
    ).toBeInTheDocument();

    fireEvent.click(screen.getByRole('button', { name: 'Sync now' }));
    await waitFor(() =>
      expect(fetch).toHaveBeenCalledWith(
        'http://backend/api/entra-org/providers/default/refresh',
        expect.objectContaining({ method: 'POST' }),
      ),
    );
  });
});
