import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import escapeHtml from 'escape-html';
import type { Context } from 'koa';
import { AppError } from '../../lib/errors.js';
import { verifyEmail } from '../../services/email-verification.js';

function page(ctx: Context, title: string, body: string, nonce?: string): void {
  ctx.type = 'html';
  ctx.set(
    'Content-Security-Policy',
    `default-src 'none'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'${nonce ? `; script-src 'nonce-${nonce}'` : ''}`,
  );
  ctx.body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;padding:32px 40px;border-radius:10px;box-shadow:0 2px 12px rgba(0,0,0,.08);max-width:420px;width:100%}
h1{font-size:22px;margin:0 0 12px}p{color:#333;line-height:1.5}label{display:block;margin:14px 0 4px;font-weight:600}
input{width:100%;box-sizing:border-box;padding:9px;border:1px solid #ccc;border-radius:6px;font-size:15px}
button{margin-top:18px;width:100%;padding:10px;border:0;border-radius:6px;background:#1f6feb;color:#fff;font-size:15px;cursor:pointer}
.ok{color:#1a7f37}.err{color:#cf222e}ul{padding-left:18px;color:#cf222e}
</style></head><body><main>${body}</main></body></html>`;
}

const RESET_SCRIPT = `
const form = document.getElementById('reset');
const out = document.getElementById('result');
form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const data = Object.fromEntries(new FormData(form));
  const res = await fetch('/api/v0/auth/password/reset/confirm', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(data) });
  const body = await res.json().catch(() => ({}));
  out.replaceChildren();
  if (res.ok) { form.hidden = true; const p = document.createElement('p'); p.className = 'ok';
    p.textContent = 'Your password has been changed. You can now log in with it.'; out.append(p); return; }
  const list = document.createElement('ul');
  for (const [field, messages] of Object.entries(body)) for (const m of [].concat(messages)) {
    const li = document.createElement('li');
    li.textContent = (field === 'token' || field === 'uid') ? 'This reset link is invalid or has expired.' : m;
    list.append(li); }
  out.append(list);
});`;

/** What a person clicking a link in our mails sees. */
export function pagesRouter(): Router {
  const router = new Router();

  router.get('/account-confirm-email/:key', async (ctx) => {
    try {
      await verifyEmail(ctx.params.key ?? '');
      page(
        ctx,
        'Email confirmed',
        '<h1 class="ok">Email address confirmed</h1><p>Thank you. Your account is fully activated.</p>',
      );
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      ctx.status = 404;
      page(
        ctx,
        'Link invalid',
        '<h1 class="err">This link is invalid or has expired</h1><p>Log in to have a new confirmation mail sent.</p>',
      );
    }
  });

  router.get('/accounts/reset/:uid/:token', (ctx) => {
    const nonce = randomBytes(16).toString('base64');
    const hidden = (name: string, value: string | undefined) =>
      `<input type="hidden" name="${name}" value="${escapeHtml(value ?? '')}">`;
    page(
      ctx,
      'Choose a new password',
      `<h1>Choose a new password</h1>
<form id="reset">${hidden('uid', ctx.params.uid)}${hidden('token', ctx.params.token)}
<label for="p1">New password</label><input id="p1" name="new_password1" type="password" autocomplete="new-password" required minlength="8">
<label for="p2">New password again</label><input id="p2" name="new_password2" type="password" autocomplete="new-password" required minlength="8">
<button type="submit">Set password</button></form>
<div id="result" role="status"></div>
<script nonce="${nonce}">${RESET_SCRIPT}</script>`,
      nonce,
    );
  });

  return router;
}
