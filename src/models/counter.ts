import mongoose, { Schema } from 'mongoose';

const counterSchema = new Schema({ _id: String, seq: { type: Number, default: 0 } }, { versionKey: false });
export const Counter = mongoose.model('Counter', counterSchema, 'counters');

const isDuplicateKey = (err: unknown): boolean => (err as { code?: number } | null)?.code === 11000;

async function nextSeq(name: string): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      const doc = await Counter.findOneAndUpdate(
        { _id: name },
        { $inc: { seq: 1 } },
        { upsert: true, new: true },
      ).lean();
      return doc.seq;
    } catch (err) {
      // Two first-ever upserts can race on the counter's _id; the loser retries the increment.
      if (!isDuplicateKey(err) || attempt >= 3) throw err;
    }
  }
}

/**
 * Inserts a document with the next integer `id` of its collection. The unique index on `id` is the guard:
 * servers whose `$inc` is not atomic can hand out a number twice, so a duplicate on `id` takes the next one.
 */
export async function createWithId<T extends { id: number }>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any mongoose model; the caller names the result type
  model: mongoose.Model<any>,
  data: Partial<Omit<T, 'id'>>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const id = await nextSeq(model.collection.collectionName);
    try {
      const doc = (await model.create({ ...data, id })) as mongoose.Document;
      return doc.toObject() as T;
    } catch (err) {
      const { keyPattern, message } = err as { keyPattern?: Record<string, unknown>; message?: string };
      const onId =
        isDuplicateKey(err) && (keyPattern ? 'id' in keyPattern : /index: id_1\b/.test(message ?? ''));
      if (!onId || attempt >= 10) throw err;
    }
  }
}

export { isDuplicateKey };
