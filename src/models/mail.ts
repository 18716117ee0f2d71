import mongoose, { Schema, type InferSchemaType } from 'mongoose';

export const MAIL_STATUSES = ['queued', 'sent', 'failed'] as const;

const mailSchema = new Schema(
  {
    to: { type: String, required: true },
    template: { type: String, required: true },
    data: { type: Schema.Types.Mixed, default: {} },
    // `queued` is work owed: the sweep re-enqueues it when its job is missing.
    status: { type: String, enum: MAIL_STATUSES, default: 'queued' },
    attempts: { type: Number, default: 0 },
    last_error: { type: String, default: null },
    message_id: { type: String, default: null },
    created_at: { type: Date, default: () => new Date() },
    sent_at: { type: Date, default: null },
  },
  { versionKey: false },
);
// The outbox sweep: oldest queued rows first.
mailSchema.index({ status: 1, created_at: 1 });

export type MailDoc = InferSchemaType<typeof mailSchema>;
export const Mail = mongoose.model('Mail', mailSchema, 'mails');
