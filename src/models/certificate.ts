import mongoose, { Schema, type InferSchemaType } from 'mongoose';

export const CERTIFICATE_STATUSES = ['valid', 'revoking', 'revoked', 'expired'] as const;

const certificateSchema = new Schema(
  {
    id: { type: Number, required: true },
    owner: { type: Number, required: true },
    account: { type: Number, required: true },
    order: { type: Number, required: true },
    domains: { type: [String], required: true },
    // `revoking` is work owed.
    status: { type: String, enum: CERTIFICATE_STATUSES, default: 'valid' },
    serial: { type: String, required: true },
    fingerprint: { type: String, required: true },
    not_before: { type: Date, required: true },
    not_after: { type: Date, required: true },
    certificate: { type: String, required: true },
    chain: { type: String, default: '' },
    key_sealed: { type: String, required: true },
    revocation_reason: { type: Number, default: null },
    // The job id that owns this revocation (derived from the certificate or the account deletion).
    revocation_job: { type: String, default: null },
    revocation_error: { type: String, default: null },
    revoked_at: { type: Date, default: null },
    created_at: { type: Date, default: () => new Date() },
    updated_at: { type: Date, default: () => new Date() },
  },
  { versionKey: false },
);
// Set after construction so the inferred type keeps created_at/updated_at as plain Date fields.
certificateSchema.set('timestamps', { createdAt: 'created_at', updatedAt: 'updated_at' });
// GET /api/certificates/<id>
certificateSchema.index({ id: 1 }, { unique: true });
// One certificate per order: a re-run of issue-certificate cannot store a second one.
certificateSchema.index({ order: 1 }, { unique: true });
// Account deletion: the account's certificates by status; GET /api/certificates by owner.
certificateSchema.index({ account: 1, status: 1 });
certificateSchema.index({ owner: 1, id: 1 });
// The sweep.
certificateSchema.index({ status: 1, updated_at: 1 });

export type CertificateDoc = InferSchemaType<typeof certificateSchema>;
export const Certificate = mongoose.model('Certificate', certificateSchema, 'certificates');
