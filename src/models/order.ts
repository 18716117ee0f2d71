import mongoose, { Schema, type InferSchemaType } from 'mongoose';

export const ORDER_STATUSES = ['pending', 'processing', 'valid', 'invalid', 'failed'] as const;

const orderSchema = new Schema(
  {
    id: { type: Number, required: true },
    owner: { type: Number, required: true },
    account: { type: Number, required: true },
    domains: { type: [String], required: true },
    // `pending` and `processing` are work owed.
    status: { type: String, enum: ORDER_STATUSES, default: 'pending' },
    certificate: { type: Number, default: null },
    error: { type: String, default: null },
    // Persisted before the CA is asked, so a re-run resumes the same ACME order with the same key.
    acme_order_url: { type: String, default: null },
    key_sealed: { type: String, default: null },
    created_at: { type: Date, default: () => new Date() },
    updated_at: { type: Date, default: () => new Date() },
  },
  { versionKey: false },
);
// Set after construction so the inferred type keeps created_at/updated_at as plain Date fields.
orderSchema.set('timestamps', { createdAt: 'created_at', updatedAt: 'updated_at' });
// GET /api/order/<id>
orderSchema.index({ id: 1 }, { unique: true });
// GET /api/order (the caller's orders)
orderSchema.index({ owner: 1, id: 1 });
// The sweep.
orderSchema.index({ status: 1, updated_at: 1 });

export type OrderDoc = InferSchemaType<typeof orderSchema>;
export const Order = mongoose.model('Order', orderSchema, 'orders');
