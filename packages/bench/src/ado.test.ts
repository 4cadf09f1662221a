import { runAdoBench } from './ado';

describe('yarn bench:ado', () => {
  it('runs both readers over a small organization and counts what each found and sent', async () => {
    const r = await runAdoBench({ sizes: [30], latencyMs: 0, concurrency: 4 });
    const [ours, search] = r.rows;
    expect(ours).toMatchObject({ ok: true, expected: 27, found: 27 });
    // The projects, each project's repositories, then one file check per repository.
    expect(ours.requests).toBe(1 + 2 + 30);
    expect(search).toMatchObject({ ok: true, found: 27, requests: 1 });
  });
});
