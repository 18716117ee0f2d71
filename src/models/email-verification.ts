import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const emailVerificationSchema = new Schema(
  {
    key_hash: { type: String, required: true },
    user: { type: Number, required: true },
    email: { type: String, required: true },
    created_at: { type: Date, default: () => new Date() },
    // Expiry is checked in queries: TTL indexes are not available on every MongoDB-compatible server.
    expires_at: { type: Date, required: true },
    confirmed_at: { type: Date, default: null },
  },
  { versionKey: false },
);
// POST verify-email {key}: look the hashed key up.
emailVerificationSchema.index({ key_hash: 1 }, { unique: true });

export type EmailVerificationDoc = InferSchemaType<typeof emailVerificationSchema>;
export const EmailVerification = mongoose.model(
  'EmailVerification',
  emailVerificationSchema,
  'email_verifications',
);
