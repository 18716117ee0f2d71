import { createMailer, type OutgoingMail, type SentMail } from '../lib/mailer.js';
import { renderMail, isTemplateName, type TemplateData, type TemplateName } from '../mail/templates.js';
import { Mail } from '../models/mail.js';
import { User } from '../models/user.js';
import { enqueue, jobIdFor } from '../queues/index.js';

/** Writes the Mail row (the outbox) first, then enqueues its job. Never waits for SMTP. */
export async function queueMail<N extends TemplateName>(
  to: string,
  template: N,
  data: TemplateData<N>,
): Promise<string> {
  const mail = await Mail.create({ to, template, data });
  const id = mail._id.toString();
  await enqueueMail(id);
  return id;
}

/** Queues a mail to a user's accounting address (ACME notifications); nothing when the user is gone. */
export async function mailUser<N extends TemplateName>(
  userId: number,
  template: N,
  data: TemplateData<N>,
): Promise<void> {
  const user = await User.findOne({ id: userId }).lean();
  if (user) await queueMail(user.email, template, data);
}

export const enqueueMail = (mailId: string): Promise<boolean> =>
  enqueue('send-mail', { mailId }, jobIdFor('send-mail', mailId));

let send: ((mail: OutgoingMail) => Promise<SentMail>) | undefined;

/** Sends one queued mail; a row already sent or failed is left alone, so a repeated job sends nothing twice. */
export async function deliverMail(mailId: string): Promise<'sent' | 'skipped'> {
  const mail = await Mail.findById(mailId).lean();
  if (!mail || mail.status !== 'queued') return 'skipped';
  if (!isTemplateName(mail.template)) {
    await Mail.updateOne(
      { _id: mailId },
      { $set: { status: 'failed', last_error: `unknown template ${mail.template}` } },
    );
    return 'skipped';
  }
  send ??= createMailer();
  await Mail.updateOne({ _id: mailId }, { $inc: { attempts: 1 } });
  const info = await send({ to: mail.to, ...renderMail(mail.template, mail.data) });
  await Mail.updateOne(
    { _id: mailId },
    { $set: { status: 'sent', sent_at: new Date(), message_id: info.messageId, last_error: null } },
  );
  return 'sent';
}

export async function recordMailError(mailId: string, error: string, final: boolean): Promise<void> {
  await Mail.updateOne(
    { _id: mailId, status: 'queued' },
    { $set: { last_error: error, ...(final ? { status: 'failed' } : {}) } },
  );
}

/** Mail rows still owed, for the sweep: queued and older than `olderThanMs`. */
export async function owedMailIds(olderThanMs: number, limit = 500): Promise<string[]> {
  const rows = await Mail.find({ status: 'queued', created_at: { $lt: new Date(Date.now() - olderThanMs) } })
    .sort({ created_at: 1 })
    .limit(limit)
    .select({ _id: 1 })
    .lean();
  return rows.map((r) => r._id.toString());
}
