import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const userSchema = new Schema(
  {
    id: { type: Number, required: true },
    username: { type: String, required: true },
    // Lower-cased copies carry the unique indexes: collation indexes are not available on every
    // MongoDB-compatible server, and these also serve the case-insensitive lookups.
    username_lower: { type: String, required: true },
    email: { type: String, required: true },
    email_lower: { type: String, required: true },
    password: { type: String, required: true },
    first_name: { type: String, default: '' },
    last_name: { type: String, default: '' },
    email_verified: { type: Boolean, default: false },
    is_active: { type: Boolean, default: true },
    quota: { type: Number, required: true },
    monthly_traffic_quota: { type: Number, required: true },
    used_storage: { type: Number, default: 0 },
    created_at: { type: Date, default: () => new Date() },
    last_login: { type: Date, default: null },
    verification_reminder_at: { type: Date, default: null },
  },
  { versionKey: false },
);
// GET by numeric id (internal endpoints, token owner lookups).
userSchema.index({ id: 1 }, { unique: true });
// Login and registration: username taken? (case-insensitive)
userSchema.index({ username_lower: 1 }, { unique: true });
// Registration and password reset: email taken / find by email (case-insensitive)
userSchema.index({ email_lower: 1 }, { unique: true });

export type UserDoc = InferSchemaType<typeof userSchema>;
export const User = mongoose.model('User', userSchema, 'users');
