import { expect, Page, test } from '@playwright/test';

async function signInAs(page: Page, name: string) {
  await page.goto('/');
  const popupPromise = page.waitForEvent('popup');
  await page.getByRole('button', { name: /sign in/i }).click();
  const popup = await popupPromise;
  // The emulator's account picker, as a person sees it.
  await expect(
    popup.getByRole('heading', { name: 'Pick an account' }),
  ).toBeVisible();
  await popup.getByRole('button', { name: new RegExp(name) }).click();
  await popup.waitForEvent('close');
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
  await expect(
    page.getByText('platform', { exact: false }).first(),
  ).toBeVisible();
  await expect(page.getByText(/gatehouse-admins/i).first()).toBeVisible();
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
