import { expect, Page, test } from '@playwright/test';

/**
 * Signs in through the emulator's account page, as a person would. Right after start-up the
 * first org sync may still be running; the sign-in page then says the user is not in the
 * catalog yet, and a person would try again: so does this, for up to a minute.
 */
async function signInAs(page: Page, name: string) {
  await page.goto('/');
  const deadline = Date.now() + 60_000;
  for (;;) {
    const popupPromise = page.waitForEvent('popup');
    await page.getByRole('button', { name: /sign in/i }).click();
    const popup = await popupPromise;
    // The emulator's account picker, as a person sees it; on a retry the emulator's own
    // session signs the person in again without it (single sign-on), as Entra does.
    const picker = popup.getByRole('heading', { name: 'Pick an account' });
    const closed = popup.waitForEvent('close');
    await Promise.race([picker.waitFor().catch(() => undefined), closed]);
    if (!popup.isClosed()) {
      await popup.getByRole('button', { name: new RegExp(name) }).click();
      await closed;
    }
    const notYet = page.getByText(
      /no catalog user has graph\.microsoft\.com\/user-id/,
    );
    const signInButton = page.getByRole('button', { name: /sign in/i });
    // Either the portal opens (the sign-in button goes) or the page says why not.
    await expect
      .poll(
        async () =>
          (await notYet.isVisible()) || !(await signInButton.isVisible()),
      )
      .toBe(true);
    if (!(await notYet.isVisible()) || Date.now() > deadline) return;
    await page.waitForTimeout(2000);
    await page.reload();
  }
}

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
