import { expect, test } from '@playwright/test';
import { signInAs } from './helpers';

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
