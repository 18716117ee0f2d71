import escapeHtml from 'escape-html';
import { z } from 'zod';

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

interface Template<S extends z.ZodType> {
  data: S;
  render(d: z.infer<S>): { subject: string; paragraphs: string[]; link?: { label: string; url: string } };
}

const define = <S extends z.ZodType>(t: Template<S>) => t;

export const templates = {
  'verify-email': define({
    data: z.object({ username: z.string(), url: z.string(), reminder: z.boolean().optional() }),
    render: (d) => ({
      subject: d.reminder
        ? 'Reminder: please confirm your email address'
        : 'Please confirm your email address',
      paragraphs: [
        `Hello ${d.username},`,
        'Please confirm that this is your email address by opening the link below. The link is valid for 3 days.',
      ],
      link: { label: 'Confirm email address', url: d.url },
    }),
  }),
  'password-reset': define({
    data: z.object({ username: z.string(), url: z.string() }),
    render: (d) => ({
      subject: 'Password reset',
      paragraphs: [
        `Hello ${d.username},`,
        'Someone asked to reset the password of your account. If it was you, open the link below within 3 days; otherwise ignore this mail.',
      ],
      link: { label: 'Choose a new password', url: d.url },
    }),
  }),
  'acme-account-registered': define({
    data: z.object({ id: z.number(), email: z.string(), server: z.string() }),
    render: (d) => ({
      subject: `ACME account ${d.id} registered`,
      paragraphs: [`Your ACME account ${d.id} (${d.email}) is registered with ${d.server}.`],
    }),
  }),
  'acme-account-failed': define({
    data: z.object({ id: z.number(), email: z.string(), server: z.string(), error: z.string() }),
    render: (d) => ({
      subject: `ACME account ${d.id} could not be registered`,
      paragraphs: [`Registering ACME account ${d.id} (${d.email}) with ${d.server} failed:`, d.error],
    }),
  }),
  'certificate-issued': define({
    data: z.object({
      orderId: z.number(),
      certificateId: z.number(),
      domains: z.array(z.string()),
      notAfter: z.string(),
    }),
    render: (d) => ({
      subject: `Certificate issued for ${d.domains[0] ?? ''}`,
      paragraphs: [
        `Order ${d.orderId} is complete: certificate ${d.certificateId} covers ${d.domains.join(', ')} and is valid until ${d.notAfter}.`,
      ],
    }),
  }),
  'certificate-failed': define({
    data: z.object({ orderId: z.number(), domains: z.array(z.string()), error: z.string() }),
    render: (d) => ({
      subject: `Certificate order ${d.orderId} failed`,
      paragraphs: [`The certificate for ${d.domains.join(', ')} could not be issued:`, d.error],
    }),
  }),
  'account-deactivated': define({
    data: z.object({ id: z.number(), revoked: z.number(), failed: z.number() }),
    render: (d) => ({
      subject: `ACME account ${d.id} deleted`,
      paragraphs: [
        `ACME account ${d.id} is deactivated at its CA. ${d.revoked} certificate(s) were revoked${d.failed ? `, ${d.failed} could not be` : ''}.`,
      ],
    }),
  }),
} as const;

export type TemplateName = keyof typeof templates;
export type TemplateData<N extends TemplateName> = z.infer<(typeof templates)[N]['data']>;

export const isTemplateName = (name: string): name is TemplateName => Object.hasOwn(templates, name);

/** Renders a stored mail; the data is validated again because it comes back from the database. */
export function renderMail(name: TemplateName, data: unknown): RenderedMail {
  const template = templates[name] as Template<z.ZodType>;
  const { subject, paragraphs, link } = template.render(template.data.parse(data));
  const text = [...paragraphs, ...(link ? [link.url] : [])].join('\n\n') + '\n';
  const body = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
  const button = link
    ? `<p><a href="${escapeHtml(link.url)}" style="background:#1f6feb;color:#fff;padding:10px 16px;border-radius:6px;text-decoration:none">${escapeHtml(link.label)}</a></p>\n<p style="color:#666;font-size:12px">${escapeHtml(link.url)}</p>`
    : '';
  const html = `<!doctype html><html><body style="font-family:sans-serif;max-width:560px;margin:auto;line-height:1.5">\n${body}\n${button}\n</body></html>\n`;
  return { subject, text, html };
}
