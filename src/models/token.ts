import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const tokenSchema = new Schema(
  {
    // sha256 of the key: the key itself is never stored. _id gives the hot-path lookup its index.
    _id: { type: String, required: true },
    user: { type: Number, required: true },
    created_at: { type: Date, default: () => new Date() },
    last_used_at: { type: Date, default: () => new Date() },
  },
  { versionKey: false },
);
// Revoke every token of a user (password change and reset).
tokenSchema.index({ user: 1 });

export type TokenDoc = InferSchemaType<typeof tokenSchema>;
export const Token = mongoose.model('Token', tokenSchema, 'tokens');
