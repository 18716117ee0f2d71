import mongoose, { Schema, type InferSchemaType } from 'mongoose';

export const ACCOUNT_STATUSES = ['pending', 'valid', 'failed', 'deactivating', 'deactivated'] as const;

const acmeAccountSchema = new Schema(
  {
    id: { type: Number, required: true },
    owner: { type: Number, required: true },
    email: { type: String, required: true },
    email_lower: { type: String, required: true },
    server: { type: String, required: true },
    // `owner:email:server` while the account is not deactivated, `deactivated:<id>` after: the unique index
    // on it makes "one live account per user, email and directory" hold under concurrent POSTs (partial
    // indexes are not available on every MongoDB-compatible server).
    active_key: { type: String, required: true },
    organization: { type: String, default: '' },
    organizational_unit: { type: String, default: '' },
    country: { type: String, default: '' },
    state: { type: String, default: '' },
    location: { type: String, default: '' },
    // PEM private key, AES-256-GCM sealed (lib/crypto); null until the worker generates one.
    key_sealed: { type: String, default: null },
    eab_kid: { type: String, default: null },
    eab_hmac_key_sealed: { type: String, default: null },
    uri: { type: String, default: null },
    // `pending` and `deactivating` are work owed: the sweep re-enqueues their jobs.
    status: { type: String, enum: ACCOUNT_STATUSES, default: 'pending' },
    error: { type: String, default: null },
    // Bumped by each DELETE so a retried deactivation gets fresh job ids.
    deactivation_generation: { type: Number, default: 0 },
    revocation_total: { type: Number, default: 0 },
    created_at: { type: Date, default: () => new Date() },
    updated_at: { type: Date, default: () => new Date() },
  },
  { versionKey: false },
);
// Set after construction so the inferred type keeps created_at/updated_at as plain Date fields.
acmeAccountSchema.set('timestamps', { createdAt: 'created_at', updatedAt: 'updated_at' });
// GET /api/acme/<id>
acmeAccountSchema.index({ id: 1 }, { unique: true });
// GET /api/acme (the caller's accounts).
acmeAccountSchema.index({ owner: 1, id: 1 });
// POST /api/acme: the caller's live account for this email and directory, if any.
acmeAccountSchema.index({ active_key: 1 }, { unique: true });
// The sweep: accounts whose status says work is owed.
acmeAccountSchema.index({ status: 1, updated_at: 1 });

export type AcmeAccountDoc = InferSchemaType<typeof acmeAccountSchema>;
export const AcmeAccount = mongoose.model('AcmeAccount', acmeAccountSchema, 'acme_accounts');
