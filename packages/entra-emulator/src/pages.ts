import { AadstsError } from './errors';
import { TenantStore } from './tenant/TenantStore';
import { EmulatedApplication, EmulatedUser } from './tenant/types';

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const style = `
  body{font-family:Segoe UI,system-ui,sans-serif;background:#f2f2f2;margin:0;display:flex;justify-content:center}
  main{background:#fff;max-width:440px;width:100%;margin:48px 16px;padding:32px 40px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
  h1{font-size:24px;font-weight:600;margin:0 0 8px}
  p.banner{background:#fff4ce;padding:8px 12px;font-size:13px}
  ul{list-style:none;padding:0;margin:16px 0}
  li{margin:4px 0}
  button.user{width:100%;text-align:left;background:none;border:1px solid #ccc;padding:10px 12px;cursor:pointer;font-size:15px}
  button.user:hover,button.user:focus{background:#e6f0fa}
  button.user.hinted{border-color:#0067b8;border-width:2px}
  small{color:#555;display:block}
  .tag{font-size:11px;background:#eee;padding:1px 6px;margin-left:6px;border-radius:8px}
  code{word-break:break-all}
`;

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(
    title,
  )}</title><meta name="viewport" content="width=device-width, initial-scale=1"><style>${style}</style></head><body><main>${body}</main></body></html>`;
}

function userButton(u: EmulatedUser, hinted: boolean): string {
  const tags = [
    u.userType === 'Guest' ? '<span class="tag">guest</span>' : '',
    !u.accountEnabled ? '<span class="tag">disabled</span>' : '',
  ].join('');
  return `<li><button class="user${
    hinted ? ' hinted' : ''
  }" type="submit" name="user" value="${escapeHtml(u.id)}"${
    hinted ? ' autofocus' : ''
  }>${escapeHtml(u.displayName)}${tags}<small>${escapeHtml(
    u.userPrincipalName,
  )}</small></button></li>`;
}

/** The emulator's sign-in page: a person picks one of the tenant's users. */
export function signInPage(input: {
  txnId: string;
  action: string;
  app: EmulatedApplication;
  tenants: TenantStore[];
  loginHint?: string;
  domainHint?: string;
  prompt?: string;
}): string {
  const hint = input.loginHint?.toLowerCase();
  const domain = input.domainHint?.toLowerCase();
  const sections = input.tenants
    .filter(t => !domain || t.domains.includes(domain) || t.id === domain)
    .map(t => {
      const users = [...t.listUsers()].sort((a, b) => {
        const ah = a.userPrincipalName.toLowerCase() === hint ? 0 : 1;
        const bh = b.userPrincipalName.toLowerCase() === hint ? 0 : 1;
        return ah - bh || a.displayName.localeCompare(b.displayName);
      });
      const heading =
        input.tenants.length > 1 ? `<h2>${escapeHtml(t.displayName)}</h2>` : '';
      return `${heading}<ul>${users
        .map(u => userButton(u, u.userPrincipalName.toLowerCase() === hint))
        .join('')}</ul>`;
    })
    .join('');
  const note =
    input.prompt === 'consent'
      ? `<p>${escapeHtml(
          input.app.displayName,
        )} asks for the permissions you consented to before.</p>`
      : '';
  return layout(
    'Sign in to your account',
    `<h1>Pick an account</h1>
     <p>to continue to <strong>${escapeHtml(input.app.displayName)}</strong></p>
     <p class="banner">Gatehouse Entra ID emulator: no password is asked; pick a user of the tenant.</p>
     ${note}
     <form method="post" action="${escapeHtml(input.action)}">
       <input type="hidden" name="txn" value="${escapeHtml(input.txnId)}">
       ${sections || '<p>No account matches the domain hint.</p>'}
     </form>`,
  );
}

/** An error shown on the emulator's own page, as Entra does when it cannot trust the redirect URI. */
export function errorPage(err: AadstsError): string {
  return layout(
    'Sign in error',
    `<h1>Sorry, but we’re having trouble signing you in.</h1>
     <p id="error-code">AADSTS${err.code}</p>
     <p id="error-message">${escapeHtml(err.message)}</p>`,
  );
}

export function signedOutPage(): string {
  return layout(
    'Signed out',
    '<h1>You signed out of your account</h1><p>It’s a good idea to close all browser windows.</p>',
  );
}
