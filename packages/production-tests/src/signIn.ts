/** The cookies a browser keeps from a response (Backstage first clears an old nonce cookie). */
function keptCookies(res: Response): string[] {
  return res.headers
    .getSetCookie()
    .filter(c => !/Max-Age=0/i.test(c))
    .map(c => c.split(';')[0]);
}

/** The result of a browser sign-in against a production backend. */
export interface SignedIn {
  /** The Backstage token (`backstageIdentity.token`). */
  token: string;
  /** `microsoft-refresh-token=...`, the cookie the backend set. */
  refreshCookie: string;
  userEntityRef: string;
}

/**
 * A sign-in as a browser makes it with the `production` auth environment: the backend's start
 * URL, the emulator's account page, picking `userId`, and the callback with the cookies the
 * backend set. Throws with the backend's answer when the sign-in does not succeed.
 */
export async function signIn(
  backendBaseUrl: string,
  userId: string,
  options: {
    /** Called when Entra redirects back, before the browser follows (e.g. to switch replica). */
    beforeCallback?: () => void;
  } = {},
): Promise<SignedIn> {
  const scope = 'openid profile email offline_access User.Read';
  const start = await fetch(
    `${backendBaseUrl}/api/auth/microsoft/start?env=production&scope=${encodeURIComponent(
      scope,
    )}`,
    { redirect: 'manual' },
  );
  if (start.status !== 302) {
    throw new Error(`sign-in start: ${start.status} ${await start.text()}`);
  }
  const cookies = keptCookies(start);
  const html = await (await fetch(start.headers.get('location')!)).text();
  const txn = /name="txn" value="([^"]+)"/.exec(html)?.[1];
  const action = /<form method="post" action="([^"]+)"/
    .exec(html)?.[1]
    ?.replace(/&amp;/g, '&');
  if (!txn || !action)
    throw new Error(`no account page: ${html.slice(0, 500)}`);
  const picked = await fetch(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ txn, user: userId }),
    redirect: 'manual',
  });
  options.beforeCallback?.();
  const done = await fetch(picked.headers.get('location')!, {
    headers: { cookie: cookies.join('; ') },
  });
  const page = await done.text();
  const encoded = /var authResponse = decodeURIComponent\('([^']*)'\)/.exec(
    page,
  )?.[1];
  const response = encoded
    ? JSON.parse(decodeURIComponent(encoded))
    : undefined;
  const refreshCookie = keptCookies(done).find(c =>
    c.startsWith('microsoft-refresh-token='),
  );
  const token = response?.response?.backstageIdentity?.token;
  if (response?.type !== 'authorization_response' || !token || !refreshCookie) {
    throw new Error(
      `sign-in did not succeed: ${JSON.stringify(
        response ?? page.slice(0, 500),
      )}`,
    );
  }
  return {
    token,
    refreshCookie,
    userEntityRef: response.response.backstageIdentity.identity.userEntityRef,
  };
}

/** Retries {@link signIn} until the org sync has put the user in the catalog (or 60 s pass). */
export async function signInOnceSynced(
  backendBaseUrl: string,
  userId: string,
  options: Parameters<typeof signIn>[2] = {},
): Promise<SignedIn> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await signIn(backendBaseUrl, userId, options);
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise(r => setTimeout(r, 1000));
    }
  }
}
