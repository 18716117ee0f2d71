import type { Job } from 'bullmq';
import { deliverMail, recordMailError } from '../services/mail.js';
import { isFinalAttempt, parsePayload } from './job-helpers.js';

export async function sendMail(job: Job): Promise<string> {
  const { mailId } = parsePayload('send-mail', job);
  try {
    return await deliverMail(mailId);
  } catch (err) {
    await recordMailError(mailId, (err as Error).message, isFinalAttempt(job));
    throw err;
  }
}
