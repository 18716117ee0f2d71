import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const challengeSchema = new Schema(
  {
    token: { type: String, required: true },
    key_authorization: { type: String, required: true },
    order: { type: Number, required: true },
    // Checked in the query (no TTL indexes on every MongoDB-compatible server); removed after validation.
    expires_at: { type: Date, required: true },
  },
  { versionKey: false },
);
// GET /.well-known/acme-challenge/<token>, answered by any web process.
challengeSchema.index({ token: 1 }, { unique: true });
// Clean-up after an order's challenges are done.
challengeSchema.index({ order: 1 });

export type ChallengeDoc = InferSchemaType<typeof challengeSchema>;
export const Challenge = mongoose.model('Challenge', challengeSchema, 'acme_challenges');
