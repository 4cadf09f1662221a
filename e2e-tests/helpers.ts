import { expect, Page } from '@playwright/test';

/**
 * Signs in through the emulator's account page, as a person would. Right after start-up the
 * first org sync may still be running; the sign-in page then says the user is not in the
 * catalog yet, and a person would try again: so does this, for up to a minute.
 */
export async function signInAs(page: Page, name: string) {
  await page.goto('/');
  const deadline = Date.now() + 60_000;
  const signInButton = page.getByRole('button', { name: /sign in/i });
  // The sidebar's first link: the portal is open.
  const portal = page
    .getByRole('navigation', { name: 'sidebar nav' })
    .getByRole('link')
    .first();
  const notYet = page.getByText(
    /no catalog user has graph\.microsoft\.com\/user-id/,
  );
  for (;;) {
    const popupPromise = page.waitForEvent('popup');
    popupPromise.catch(() => undefined);
    // On a retry the page may sign in by itself, with the session an earlier try left (the
    // page can start a second flow in the same popup): then the portal opens without a click.
    await expect(signInButton.or(portal).first()).toBeVisible();
    if (await portal.isVisible()) return;
    try {
      await signInButton.click({ timeout: 10_000 });
    } catch (e) {
      const opened = await portal
        .waitFor({ timeout: 5_000 })
        .then(() => true)
        .catch(() => false);
      if (opened) return;
      throw e;
    }
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
