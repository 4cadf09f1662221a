import { expect, test } from '@playwright/test';
import { signInAs } from './helpers';

test('a person signs in through the emulator and sees their name and groups', async ({
  page,
}) => {
  await signInAs(page, 'Alex Wilber');
  await page.goto('/settings');
  await expect(page.getByText('Alex Wilber').first()).toBeVisible();

  await page.goto('/catalog/default/user/alex.wilber');
  await expect(
    page.getByRole('heading', { name: /Alex Wilber/ }).first(),
  ).toBeVisible();
  // Alex is a direct member of Platform and Gatehouse Admins in the emulator's tenant.
  await expect(page.getByRole('link', { name: 'Platform' })).toBeVisible();
  await expect(
    page.getByRole('link', { name: 'Gatehouse Admins' }),
  ).toBeVisible();
  await page.screenshot({ path: 'test-results/profile.png', fullPage: true });
});

test('a disabled account is refused on the emulator page and gets no session', async ({
  page,
}) => {
  await page.goto('/');
  const popupPromise = page.waitForEvent('popup');
  await page.getByRole('button', { name: /sign in/i }).click();
  const popup = await popupPromise;
  await popup.getByRole('button', { name: /Debra Berger/ }).click();
  await expect(popup.getByText('AADSTS50057', { exact: true })).toBeVisible();
  await popup.close();
  const res = await page.request.get(
    'http://localhost:7007/api/auth/microsoft/refresh?optional&env=development',
    {
      headers: { 'x-requested-with': 'XMLHttpRequest' },
    },
  );
  expect(res.status()).not.toBe(200);
});

test('a person stays signed in across a reload after the Entra tokens expired, and signs out', async ({
  page,
}) => {
  await signInAs(page, 'Lee Gu');
  await page.goto('/settings');
  await expect(page.getByText('Lee Gu').first()).toBeVisible();

  // The emulator issues 20-second tokens in this run (playwright.config.ts): wait past them.
  await page.waitForTimeout(25_000);
  await page.reload();
  await expect(page.getByText('Lee Gu').first()).toBeVisible();
  await expect(page.getByRole('button', { name: /sign in/i })).toHaveCount(0);

  // Sign out: the portal session ends, and so does the Entra session, so the next sign-in
  // asks who is signing in again.
  await page.getByRole('button', { name: /more/i }).first().click();
  const loggedOut = page.waitForResponse(r =>
    r.url().includes('/oauth2/v2.0/logout'),
  );
  await page.getByRole('menuitem', { name: /sign out/i }).click();
  // The browser goes through Entra's logout and comes back to the portal's sign-in page.
  await loggedOut;
  await page.waitForURL(url => url.origin === 'http://localhost:3000');
  // A new tab of the same browser: no portal session, and no Entra session either, so the
  // account picker shows again.
  const tab = await page.context().newPage();
  await tab.goto('/');
  const popupPromise = tab.waitForEvent('popup');
  await tab.getByRole('button', { name: /sign in/i }).click();
  const popup = await popupPromise;
  await expect(
    popup.getByRole('heading', { name: 'Pick an account' }),
  ).toBeVisible();
  await popup.close();
});

test('the sign-in page tells which redirect URI the app registration needs', async ({
  page,
}) => {
  await page.goto('/');
  await page.getByText('Trouble signing in?').click();
  await expect(page.getByTestId('redirect-uri')).toHaveText(
    'http://localhost:7007/api/auth/microsoft/handler/frame',
  );
});
