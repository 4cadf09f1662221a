import { expect, test } from '@playwright/test';
import { signInAs } from './helpers';

test('a person sees where the org sync stands and asks for a round', async ({
  page,
}) => {
  await signInAs(page, 'Alex Wilber');
  await page.goto('/');
  await page.getByRole('link', { name: 'Org sync' }).first().click();
  await expect(page).toHaveURL(/\/entra-org$/);

  // `yarn start` reads the built-in emulator's tenant, Contoso: 20 users, one of them
  // disabled and left out of the catalog, and 220 groups.
  const card = page.getByRole('region', { name: 'Provider emulator' });
  await expect(card.getByText('20 in Entra, 19 in the catalog')).toBeVisible();
  await expect(
    card.getByText('220 in Entra, 220 in the catalog'),
  ).toBeVisible();
  await expect(card.getByText('Graph requests')).toBeVisible();

  const sync = card.getByRole('button', { name: 'Sync now' });
  const refreshed = page.waitForResponse(
    r =>
      r.url().endsWith('/api/entra-org/providers/emulator/refresh') &&
      r.request().method() === 'POST',
  );
  await sync.click();
  expect((await refreshed).status()).toBe(202);
  // The round runs in the background; the page shows it, then its result (a delta round).
  await expect(card.getByText(/delta round, finished/)).toBeVisible({
    timeout: 60_000,
  });
  await page.screenshot({ path: 'test-results/org-sync.png', fullPage: true });
});
