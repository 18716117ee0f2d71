import Router from '@koa/router';
import type { Context } from 'koa';
import { AppError } from '../../../lib/errors.js';
import { keyAuthorizationFor } from '../../../services/challenges.js';
import {
  createAcmeAccount,
  deleteAcmeAccount,
  findOwnAccount,
  listAccounts,
  presentAccount,
} from '../../../services/acme-accounts.js';
import { getCertificate, listCertificates, requestRevocation } from '../../../services/certificates.js';
import { createOrder, getOrder, listOrders } from '../../../services/orders.js';
import { requireUser, type AuthState } from '../../middleware/auth.js';
import { parseBody } from '../../validate.js';
import { idParam, newAccount, newOrder, revocation } from './schemas.js';

/** A path id; anything but a positive integer is answered like an unknown id (400, as the seed says). */
function pathId(ctx: Context, what: string): number {
  const parsed = idParam.safeParse((ctx.params as Record<string, string | undefined>).id);
  if (!parsed.success) throw new AppError(400, { detail: `${what} not found.` });
  return parsed.data;
}

function accountsRouter(): Router<AuthState> {
  const router = new Router<AuthState>({ prefix: '/api/acme' });
  router.use(requireUser);
  router.post('/', async (ctx) => {
    const { created, account } = await createAcmeAccount(
      ctx.state.user.id,
      parseBody(newAccount, ctx.request.body),
    );
    ctx.status = created ? 201 : 200;
    ctx.set('Location', `/api/acme/${account.id}`);
    ctx.body = { id: account.id, status: account.status };
  });
  router.get('/', async (ctx) => {
    ctx.body = await listAccounts(ctx.state.user.id);
  });
  router.get('/:id', async (ctx) => {
    ctx.body = await presentAccount(await findOwnAccount(ctx.state.user.id, pathId(ctx, 'ACME account')));
  });
  router.delete('/:id', async (ctx) => {
    ctx.body = await deleteAcmeAccount(ctx.state.user.id, pathId(ctx, 'ACME account'));
  });
  return router;
}

function ordersRouter(): Router<AuthState> {
  const router = new Router<AuthState>({ prefix: '/api/order' });
  router.use(requireUser);
  router.post('/', async (ctx) => {
    const { account, domains } = parseBody(newOrder, ctx.request.body);
    const order = await createOrder(ctx.state.user.id, account, domains);
    ctx.status = 201;
    ctx.set('Location', `/api/order/${order.id}`);
    ctx.body = order;
  });
  router.get('/', async (ctx) => {
    ctx.body = await listOrders(ctx.state.user.id);
  });
  router.get('/:id', async (ctx) => {
    ctx.body = await getOrder(ctx.state.user.id, pathId(ctx, 'Order'));
  });
  return router;
}

function certificatesRouter(): Router<AuthState> {
  const router = new Router<AuthState>({ prefix: '/api/certificates' });
  router.use(requireUser);
  router.get('/', async (ctx) => {
    ctx.body = await listCertificates(ctx.state.user.id);
  });
  router.get('/:id', async (ctx) => {
    ctx.body = await getCertificate(ctx.state.user.id, pathId(ctx, 'Certificate'));
  });
  router.delete('/:id', async (ctx) => {
    const { reason } = parseBody(revocation, ctx.request.body ?? {});
    ctx.body = await requestRevocation(ctx.state.user.id, pathId(ctx, 'Certificate'), reason);
  });
  return router;
}

/** http-01 answers for any Host (behind a load balancer, on port 80 in production). */
function challengeRouter(): Router {
  const router = new Router();
  router.get('/.well-known/acme-challenge/:token', async (ctx) => {
    const keyAuthorization = await keyAuthorizationFor(ctx.params.token ?? '');
    if (keyAuthorization === null) return;
    ctx.type = 'text/plain';
    ctx.body = keyAuthorization;
  });
  return router;
}

export const acmeRouters = (): Router[] => [
  accountsRouter(),
  ordersRouter(),
  certificatesRouter(),
  challengeRouter(),
];
