import { expect, Page, test } from '@playwright/test';
import { signInAs } from './helpers';

const BACKEND = 'http://localhost:7007';
const SANDBOX = '/catalog/default/component/payments-sandbox';

/**
 * Opens an entity page and returns the Backstage token the page sends to the catalog, to
 * call the API as the signed-in person (what any script of theirs could do).
 */
async function openEntity(page: Page, path: string): Promise<string> {
  const request = page.waitForRequest(
    r =>
      r.url().startsWith(`${BACKEND}/api/catalog/`) &&
      !!r.headers().authorization,
  );
  await page.goto(path);
  const authorization = (await request).headers().authorization;
  await expect(
    page.getByRole('heading', { name: 'payments-sandbox' }).first(),
  ).toBeVisible();
  return authorization;
}

async function sandboxUid(page: Page, authorization: string) {
  const res = await page.request.get(
    `${BACKEND}/api/catalog/entities/by-name/component/default/payments-sandbox`,
    { headers: { authorization } },
  );
  expect(res.status()).toBe(200);
  return ((await res.json()) as { metadata: { uid: string } }).metadata.uid;
}

// In order: the non-owner tries first, then the owner unregisters.
test.describe.configure({ mode: 'serial' });

test('a non-owner sees "Unregister entity" disabled, and the API answers 403', async ({
  page,
}) => {
  // Lidia Holloway is in Web; payments-sandbox belongs to Payments.
  await signInAs(page, 'Lidia Holloway');
  const authorization = await openEntity(page, SANDBOX);
  await page.getByRole('button', { name: 'More actions' }).click();
  await expect(
    page.getByRole('menuitem', { name: 'Unregister entity' }),
  ).toBeDisabled();
  await page.keyboard.press('Escape');

  const uid = await sandboxUid(page, authorization);
  const refused = await page.request.delete(
    `${BACKEND}/api/catalog/entities/by-uid/${uid}`,
    { headers: { authorization } },
  );
  expect(refused.status()).toBe(403);
  expect(await sandboxUid(page, authorization)).toBe(uid);
});

test('the owner, through a nested team, unregisters their component', async ({
  page,
}) => {
  // Joni Sherman is in Payments API, nested in Payments, which owns payments-sandbox.
  await signInAs(page, 'Joni Sherman');
  const authorization = await openEntity(page, SANDBOX);
  await page.getByRole('button', { name: 'More actions' }).click();
  const unregister = page.getByRole('menuitem', { name: 'Unregister entity' });
  await expect(unregister).toBeEnabled();
  await unregister.click();
  // The entity comes from a location file: delete just the entity, not the location (which
  // holds the other examples). The dialog offers that under "Advanced Options".
  const dialog = page.getByRole('dialog');
  const advanced = dialog.getByRole('button', { name: 'Advanced Options' });
  const deleteEntity = dialog.getByRole('button', { name: 'Delete Entity' });
  await expect(advanced.or(deleteEntity).first()).toBeVisible();
  if (await advanced.isVisible()) await advanced.click();
  const deleted = page.waitForResponse(
    r =>
      r.url().includes('/api/catalog/entities/by-uid/') &&
      r.request().method() === 'DELETE',
  );
  await deleteEntity.click();
  expect((await deleted).status()).toBe(204);
  const gone = await page.request.get(
    `${BACKEND}/api/catalog/entities/by-name/component/default/payments-sandbox`,
    { headers: { authorization } },
  );
  expect(gone.status()).toBe(404);
});

test('an admin opens Access and gets an explanation', async ({ page }) => {
  // Alex Wilber is in Gatehouse Admins, which Entra gives the app role Portal.Admin.
  await signInAs(page, 'Alex Wilber');
  await page.goto('/');
  await page.getByRole('link', { name: 'Access' }).first().click();
  await expect(page).toHaveURL(/\/access$/);

  const admin = page.getByRole('region', { name: 'Role admin' });
  await expect(admin.getByText('app role Portal.Admin')).toBeVisible();
  const owner = page.getByRole('region', { name: 'Role owner' });
  await expect(owner.getByText(/the user owns it/)).toBeVisible();

  const form = page.getByRole('form', { name: 'Check access' });
  await form.getByLabel('User').fill('user:default/lidia.holloway');
  await form.getByLabel('Permission').fill('catalog.entity.refresh');
  await form
    .getByLabel('Resource (optional)')
    .fill('component:default/payments-ledger');
  await form.getByRole('button', { name: 'Check access' }).click();
  const decision = page.getByRole('region', { name: 'Decision' });
  await expect(decision.getByText('Denied', { exact: true })).toBeVisible();
  await expect(
    decision.getByText(/role owner, rule 0: the user does not own it/),
  ).toBeVisible();
  await expect(decision.getByText('group:default/web')).toBeVisible();

  await form.getByLabel('User').fill('user:default/lee.gu');
  await form.getByRole('button', { name: 'Check access' }).click();
  await expect(decision.getByText('Allowed', { exact: true })).toBeVisible();
  await expect(
    decision.getByText(/allowed by role owner, rule 0/),
  ).toBeVisible();
  await page.screenshot({ path: 'test-results/access.png', fullPage: true });
});

test('a non-admin gets 403 on Access', async ({ page }) => {
  await signInAs(page, 'Lee Gu');
  const roles = page.waitForResponse(r =>
    r.url().endsWith('/api/entra-rbac/roles'),
  );
  await page.goto('/access');
  expect((await roles).status()).toBe(403);
  await expect(
    page.getByText('Warning: 403: the Access page is for administrators'),
  ).toBeVisible();
});
