import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signInAs } from './helpers';

const EMULATOR = 'http://localhost:7100';
const ADO = 'http://localhost:7101';

/**
 * Joni opens a pull request on the new repository, as she would from her machine: a PAT from
 * the emulator's user settings, a branch pushed with git, the pull request through the REST API.
 */
async function openPullRequest(repo: string, title: string) {
  const res = await fetch(`${EMULATOR}/_emulator/ado/pats`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      organization: 'contoso',
      user: 'joni.sherman@contoso.example',
      scopes: ['vso.code_write'],
    }),
  });
  expect(res.status).toBe(201);
  const { token } = (await res.json()) as { token: string };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'golden-path-'));
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: dir, stdio: 'pipe' });
    const remote = `http://joni:${token}@localhost:7101/contoso/Platform/_git/${repo}`;
    git('clone', '--quiet', remote, '.');
    git('checkout', '--quiet', '-b', 'add-health-check');
    fs.writeFileSync(path.join(dir, 'HEALTH.md'), 'GET /health answers 200\n');
    git('add', 'HEALTH.md');
    git(
      '-c',
      'user.name=Joni Sherman',
      '-c',
      'user.email=joni.sherman@contoso.example',
      'commit',
      '--quiet',
      '-m',
      'Add a health check',
    );
    git('push', '--quiet', 'origin', 'add-health-check');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const pr = await fetch(
    `${ADO}/contoso/Platform/_apis/git/repositories/${repo}/pullrequests?api-version=7.1`,
    {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`:${token}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        sourceRefName: 'refs/heads/add-health-check',
        targetRefName: 'refs/heads/main',
        title,
      }),
    },
  );
  expect(pr.status).toBe(201);
}

test('a developer creates a service on Azure DevOps from Create and sees its pipeline runs and pull requests', async ({
  page,
}) => {
  // Joni is in Payments API (no admin role): the template-users role lets her run templates.
  await signInAs(page, 'Joni Sherman');
  const name = `orders-${Date.now().toString(36)}`;

  await page.goto('/create');
  const card = page
    .locator('article, [class*="MuiCard"]')
    .filter({ hasText: 'New service on Azure DevOps' })
    .first();
  await card.getByRole('button', { name: /choose/i }).click();

  await page.getByLabel('Name', { exact: false }).first().fill(name);
  await page.getByLabel('Description').fill('Takes orders');
  const owner = page.getByLabel('Owner', { exact: false }).first();
  await owner.click();
  await owner.fill('Payments');
  await page
    .getByRole('option', { name: /payments[- ]api/i })
    .first()
    .click();
  await page.getByRole('button', { name: 'Next' }).click();

  // Organization and project keep their defaults (contoso / Platform)
  await expect(
    page.getByLabel('Organization', { exact: false }).first(),
  ).toHaveValue('contoso');
  await page.getByRole('button', { name: 'Review' }).click();
  await page.getByRole('button', { name: 'Create' }).click();

  // Every step runs against the emulator's Azure DevOps; then the component is in the catalog
  const open = page.getByRole('link', { name: 'Open in catalog' });
  await expect(open).toBeVisible({ timeout: 60_000 });
  await open.click();
  await expect(page).toHaveURL(
    new RegExp(`/catalog/default/component/${name}`),
  );

  // The catalog may still be processing the new location ("Entity not found", the name in the
  // header all the same): reload, as a person would, until the component's page is there.
  await expect(async () => {
    await page.reload();
    await expect(
      page.getByRole('heading', { name: 'Azure Pipelines runs' }),
    ).toBeVisible({ timeout: 5_000 });
  }).toPass({ timeout: 90_000 });
  await expect(page.getByText(`${name} CI`).first()).toBeVisible();
  await expect(
    page.getByRole('heading', { name: 'Open pull requests' }),
  ).toBeVisible();
  await expect(page.getByText('No open pull requests.')).toBeVisible();

  // Joni opens a pull request; the card lists it once the page is loaded again
  await openPullRequest(name, 'Add a health check');
  await page.reload();
  await expect(page.getByText('Add a health check')).toBeVisible({
    timeout: 15_000,
  });
  await expect(page.getByText('No open pull requests.')).toHaveCount(0);

  // The Azure DevOps tab has the README from the template
  await page.getByRole('link', { name: 'Azure DevOps', exact: true }).click();
  await expect(page).toHaveURL(/\/azure-devops$/);
  await expect(
    page.getByText(/Created from the Gatehouse template/),
  ).toBeVisible();
  await page.screenshot({
    path: 'test-results/golden-path.png',
    fullPage: true,
  });
});
