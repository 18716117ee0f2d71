import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import nodemailer from 'nodemailer';
import { config } from '../config.js';
import { logger } from './logger.js';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface SentMail {
  messageId: string;
  file?: string;
}

/** SMTP_URL selects SMTP; without it the message is written as an .eml file under MAIL_DIR. */
export function createMailer(smtpUrl = config.SMTP_URL): (mail: OutgoingMail) => Promise<SentMail> {
  if (smtpUrl) {
    const transport = nodemailer.createTransport(smtpUrl);
    return async (mail) => {
      const info = await transport.sendMail({ from: config.MAIL_FROM, ...mail });
      return { messageId: info.messageId };
    };
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return async (mail) => {
    const info = await transport.sendMail({ from: config.MAIL_FROM, ...mail });
    const dir = resolve(config.MAIL_DIR);
    await mkdir(dir, { recursive: true });
    const file = join(
      dir,
      `${new Date().toISOString().replace(/[:.]/g, '-')}-${info.messageId.replace(/[^\w.-]/g, '')}.eml`,
    );
    await writeFile(file, info.message);
    logger.info({ file, to: mail.to, subject: mail.subject }, 'mail written to file');
    return { messageId: info.messageId, file };
  };
}
